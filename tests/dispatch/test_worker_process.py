"""`xhooks worker` as a real process: SIGKILL in the middle of handling loses nothing."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.dispatch.conftest import dm_body, record, wait_for_statuses
from tests.support import free_port, spawn, xhooks_cmd
from xhooks.protocol import signature
from xhooks.store import EventQuery, open_reader
from xhooks.store.sqlite import SQLiteStore

HANDLERS = """
import os
import time

from xhooks.dispatch import XHooks

hooks = XHooks()


@hooks.on_any
def append(event, ctx):
    with open(os.environ["HANDLED_LOG"], "a") as log:
        log.write(ctx.event_key + "\\n")
    with open(os.environ["HANDLED_LOG"]) as log:
        if len(log.read().splitlines()) >= int(os.environ.get("STALL_AFTER", "1000000")):
            time.sleep(3600)  # held here until the test kills the worker
    time.sleep(float(os.environ.get("HANDLER_SECONDS", "0.01")))
"""


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


async def test_sigkill_mid_handling_then_restart_handles_every_event(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    log = tmp_path / "handled.log"
    (tmp_path / "handlers.py").write_text(HANDLERS)
    store = SQLiteStore(db)
    await store.start()
    try:
        for n in range(60):
            await record(store, dm_body(f"user-{n % 6}", f"dm-{n}"), at=1000.0 + n)
        keys = {event.key for event in await store.events(EventQuery(limit=100))}
        assert len(keys) == 60
        args = xhooks_cmd("worker", "--app", "handlers:hooks", "--db", str(db), "--lease", "1", "--concurrency", "4")
        env = {"HANDLED_LOG": str(log)}
        with spawn(args, env={**env, "STALL_AFTER": "15"}, cwd=tmp_path) as first:  # handlers hang from the 15th
            _wait_for(lambda: len(_lines(log)) >= 15)
            first.send_signal(signal.SIGKILL)
            first.wait(60)
        interrupted = {event.status for event in await store.events(EventQuery(limit=100))}
        assert interrupted & {"pending", "claimed"}, "the kill came too late to test anything"
        with spawn(args, env=env, cwd=tmp_path):
            await wait_for_statuses(store, lambda found: set(found) == {"handled"}, timeout=30.0)
        handled = _lines(log)
        assert set(handled) == keys  # none lost
        assert len(handled) - len(keys) <= 4  # re-run at most the events in flight at the kill (concurrency 4)
    finally:
        await store.close()


async def test_worker_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    log = tmp_path / "handled.log"
    (tmp_path / "handlers.py").write_text(HANDLERS)
    store = SQLiteStore(db)
    await store.start()
    try:
        await record(store, dm_body("7", "1"))
        args = xhooks_cmd("worker", "--app", "handlers:hooks", "--db", str(db))
        with spawn(args, env={"HANDLED_LOG": str(log)}, cwd=tmp_path) as proc:
            _wait_for(lambda: len(_lines(log)) == 1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0
        assert [event.status for event in await store.events(EventQuery())] == ["handled"]
    finally:
        await store.close()


def test_worker_with_a_bad_app_says_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    subprocess.run(xhooks_cmd("db", "upgrade", "--db", str(db)), check=True, capture_output=True)
    with spawn(xhooks_cmd("worker", "--app", "nowhere:hooks", "--db", str(db)), cwd=tmp_path) as proc:
        assert proc.wait(20) == 2
        assert proc.stdout is not None
        assert "cannot import 'nowhere'" in proc.stdout.read().decode()


def test_serve_with_app_handles_events_and_finishes_them_on_sigterm(tmp_path: Path) -> None:
    db, log, port = tmp_path / "events.db", tmp_path / "handled.log", free_port()
    (tmp_path / "handlers.py").write_text(HANDLERS)
    args = xhooks_cmd(
        "serve",
        "--consumer-secret",
        "s3cret",
        "--db",
        str(db),
        "--port",
        str(port),
        "--no-dashboard",
        "--app",
        "handlers:hooks",
    )
    env = {"HANDLED_LOG": str(log), "HANDLER_SECONDS": "0.5"}
    body = dm_body("7", "1")
    with spawn(args, f"http://127.0.0.1:{port}/healthz", env, tmp_path) as proc:
        headers = {"x-twitter-webhooks-signature": signature(body, "s3cret")}
        assert httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers).status_code == 200
        _wait_for(lambda: len(_lines(log)) == 1)  # the handler has started; it takes half a second
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    with open_reader(db) as store:
        assert [event.status for event in store.events(EventQuery())] == ["handled"]
