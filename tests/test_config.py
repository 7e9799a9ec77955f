"""Settings' order of sources, `xhooks dev`'s state included: explicit > XHOOKS_* > xhooks.toml > .xhooks/dev.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xhooks.config import DEV_STATE, Settings
from xhooks.errors import ConfigError


def _dev_state(values: object) -> None:
    DEV_STATE.parent.mkdir(exist_ok=True)
    DEV_STATE.write_text(json.dumps(values))


def test_the_dev_state_is_read_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _dev_state({"api_base": "http://127.0.0.1:1", "db": ".xhooks/xhooks.db", "bearer_token": "dev"})
    (tmp_path / "xhooks.toml").write_text('bearer_token = "from-file"\n')
    settings = Settings.load(environ={"XHOOKS_DB": "from-env.db"})
    assert settings.get("api_base") == "http://127.0.0.1:1"
    assert settings.get("bearer_token") == "from-file"
    assert settings.get("db") == "from-env.db"
    assert settings.get("db", "explicit.db") == "explicit.db"


def test_without_a_dev_state_nothing_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings.load(environ={}).get("api_base", None, "https://api.x.com") == "https://api.x.com"


@pytest.mark.parametrize("values", [pytest.param("[1, 2]", id="not-an-object"), pytest.param("{", id="not-json")])
def test_a_broken_dev_state_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: str) -> None:
    monkeypatch.chdir(tmp_path)
    DEV_STATE.parent.mkdir()
    DEV_STATE.write_text(values)
    with pytest.raises(ConfigError, match="run `xhooks dev` again"):
        Settings.load(environ={})
