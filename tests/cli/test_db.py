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


def test_prune_reads_flags_then_environment_then_the_retention_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from xhooks.store.retention import PruneReport, RetentionPolicy

    calls: list[tuple[str, RetentionPolicy, bool]] = []

    def fake_prune(db: str, policy: RetentionPolicy, *, dry_run: bool = False) -> PruneReport:
        calls.append((db, policy, dry_run))
        return PruneReport(bodies=2, bytes=3_000_000, tombstones=1)

    monkeypatch.setattr(db_module, "prune", fake_prune)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xhooks.toml").write_text('db = "x.db"\n[retention]\nbody_days = 2\ndead_days = 9\n')
    monkeypatch.setenv("XHOOKS_RETENTION_DEAD_DAYS", "12")
    result = CliRunner().invoke(app, ["db", "prune", "--dry-run", "--tombstone-days", "40"])
    assert result.exit_code == 0, result.output
    ((db, policy, dry_run),) = calls
    assert (db, dry_run) == ("x.db", True)
    assert (policy.body_days, policy.dead_days, policy.quarantine_days, policy.tombstone_days) == (2, 12, 30, 40)
    assert result.output.strip() == (
        "x.db: would go: 2 bodies (3.0 MB of body and headers; their events stay as tombstones),"
        " 1 tombstones past their retention"
    )


def test_prune_refuses_tombstones_shorter_than_xs_replay_window(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["db", "prune", "--db", str(tmp_path / "x.db"), "--tombstone-days", "2"])
    assert result.exit_code != 0
    assert "tombstone_days must be at least 6" in str(result.exception)


def test_prune_and_vacuum_run_on_a_sqlite_file(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    assert CliRunner().invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0
    pruned = CliRunner().invoke(app, ["db", "prune", "--db", db])
    assert pruned.exit_code == 0, pruned.output
    assert pruned.output.startswith(f"{db}: went: 0 bodies")
    vacuumed = CliRunner().invoke(app, ["db", "vacuum", "--db", db])
    assert vacuumed.exit_code == 0, vacuumed.output
    assert "free pages given back" in vacuumed.output  # a file made by this xhooks is incremental already
