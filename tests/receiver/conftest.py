from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import serve_app
from xhooks.receiver import AppConfig, Receiver
from xhooks.store.sqlite import SQLiteStore

SECRET = "consumer-secret-one"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "receiver.db"


@pytest.fixture
def base_url(db_path: Path) -> Iterator[str]:
    apps = [AppConfig((SECRET,)), AppConfig(("second-app-secret",), path="/second")]
    receiver = Receiver(SQLiteStore(db_path), apps, max_body=64 * 1024)
    with serve_app(receiver) as url:
        yield url
