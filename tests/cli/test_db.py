"""`xhooks db upgrade`: thin over `xhooks.store.migrations.upgrade`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.postgres_support import fresh_schema_url
from tests.support import xhooks_cmd
from xhooks.cli import db as db_module
from xhooks.cli.main import app
from xhooks.store.migrations import POSTGRES


def test_upgrade_passes_the_db_flag_and_reports_the_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_upgrade(url: str) -> tuple[int | None, int]:
        calls.append(url)
        return None, 1

    monkeypatch.setattr(db_module, "upgrade", fake_upgrade)
    result = CliRunner().invoke(app, ["db", "upgrade", "--db", "postgresql://u:pw@h/x"])
    assert result.exit_code == 0, result.output
    assert calls == ["postgresql://u:pw@h/x"]
    assert result.output.strip() == "postgresql://u:***@h/x: schema version none → 1"


@pytest.mark.postgres
def test_upgrade_runs_against_postgres_then_has_nothing_to_do(tmp_path: Path) -> None:
    url = fresh_schema_url("cli")
    outputs = [
        subprocess.run(
            xhooks_cmd("db", "upgrade", "--db", url),
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            env={**os.environ},
        )
        for _ in range(2)
    ]
    assert [result.returncode for result in outputs] == [0, 0]
    newest = POSTGRES[-1].version
    assert f"none → {newest}" in outputs[0].stdout
    assert f"schema version {newest}, nothing to do" in outputs[1].stdout


def test_upgrade_of_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        xhooks_cmd("db", "upgrade", "--db", "postgresql://postgres@127.0.0.1:1/x"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot connect to postgresql://postgres@127.0.0.1:1/x")
    assert "Traceback" not in result.stderr
