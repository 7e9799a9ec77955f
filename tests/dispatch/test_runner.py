"""`xhooks events redispatch` and the runner functions behind the worker commands."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.dispatch.conftest import dm_body, record
from xhooks.cli.main import app
from xhooks.dispatch import WorkerConfig, XHooks, workers_in_background
from xhooks.errors import ConfigError
from xhooks.store import EventQuery
from xhooks.store.sqlite import SQLiteStore


def _prepare(db: Path) -> dict[str, int]:
    """Four events: two dead DMs, a handled DM, a dead post; ids by name."""

    async def main() -> dict[str, int]:
        store = SQLiteStore(db)
        await store.start()
        try:
            await record(store, dm_body("1", "a"), at=100.0)
            await record(store, dm_body("2", "b"), at=200.0)
            await record(store, dm_body("3", "c"), at=300.0)
            await record(store, b'{"data":{"event_uuid":"9","event_type":"post.create","payload":{}}}', at=400.0)
            ids = {event.key.split(":")[-1]: event.id for event in await store.events(EventQuery())}
            for claimed in await store.claim("w", 10, 60.0, 500.0):
                if claimed.event.id == ids["c"]:
                    await store.complete(claimed.event.id, "w", 500.0)
                else:
                    await store.fail(claimed.event.id, "w", "boom", None, 500.0)
            return ids
        finally:
            await store.close()

    return asyncio.run(main())


def _statuses(db: Path) -> dict[int, str]:
    async def main() -> dict[int, str]:
        store = SQLiteStore(db)
        await store.start()
        try:
            return {event.id: event.status for event in await store.events(EventQuery())}
        finally:
            await store.close()

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("args", "due"),
    [
        pytest.param(["--dead"], {"a", "b", "9"}, id="dead-letters"),
        pytest.param(["--id", "ID:a", "--id", "ID:c"], {"a", "c"}, id="by-id"),
        pytest.param(["--type", "post.create"], {"9"}, id="by-type"),
        pytest.param(["--since", "150", "--until", "1970-01-01T00:05:00Z"], {"b"}, id="time-range"),
        pytest.param(["--all"], {"a", "b", "c", "9"}, id="all"),
    ],
)
def test_redispatch_chooses_events(tmp_path: Path, args: list[str], due: set[str]) -> None:
    db = tmp_path / "x.db"
    ids = _prepare(db)
    args = [str(ids[arg[3:]]) if arg.startswith("ID:") else arg for arg in args]
    result = CliRunner().invoke(app, ["events", "redispatch", "--db", str(db), *args])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{len(due)} event(s) due again")
    pending = {name for name, event_id in ids.items() if _statuses(db)[event_id] == "pending"}
    assert pending == due


def test_redispatch_without_a_choice_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["events", "redispatch", "--db", str(tmp_path / "x.db")])
    assert isinstance(result.exception, ConfigError)
    assert "--all" in str(result.exception)


def test_workers_in_background_handle_events_and_stop(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    _prepare(db)
    seen: list[str] = []
    hooks = XHooks()
    hooks.on_any(lambda event, ctx: seen.append(ctx.event_key))
    CliRunner().invoke(app, ["events", "redispatch", "--db", str(db), "--all"])
    with workers_in_background(WorkerConfig(db=db), hooks):
        pass  # stopping at once: whatever was claimed finishes, the rest stays pending
    with workers_in_background(WorkerConfig(db=db), hooks):
        deadline = time.monotonic() + 60  # a hang guard
        while set(_statuses(db).values()) != {"handled"} and time.monotonic() < deadline:
            time.sleep(0.02)
    assert len(seen) == len(set(seen)) == 4


def test_workers_in_background_report_a_bad_store(tmp_path: Path) -> None:
    with pytest.raises(ConfigError), workers_in_background(WorkerConfig(db="mysql://nope"), XHooks()):
        pass
