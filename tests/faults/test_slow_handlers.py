"""A slow or failing handler does not slow acknowledgements: `xhooks serve --app` answers every delivery as
soon as it is committed, while its handlers crawl or fail behind it.

The handlers wait at a gate the test opens once every delivery is acknowledged, then sleep 0.25 s per event
(half of them then raise), four at a time. The proof is not a timing but an order: every delivery is
acknowledged while no event has been handled, and the handling then carries on to the end (failures retried).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from bench.payloads import deliveries
from tests.faults._serve import SECRET, signed
from tests.support import free_port, spawn, xhooks_cmd

COUNT = 120
HANDLERS = """
import os
import time

from xhooks.dispatch.registry import XHooks

hooks = XHooks()


@hooks.on_any
def crawl(event, ctx):
    while not os.path.exists("gate"):  # the test opens it once every delivery is acknowledged
        time.sleep(0.01)
    time.sleep(0.25)
    if ctx.event_id % 2 and ctx.attempt == 1:
        raise RuntimeError("this handler fails on its first attempt")
"""


def _by_status(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT status, count(*) FROM events GROUP BY status").fetchall())
    finally:
        conn.close()


async def _deliver_all(url: str, bodies: list[bytes]) -> list[int]:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16)) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(body: bytes) -> int:
            async with semaphore:
                return (await client.post(url, content=body, headers=signed(body))).status_code

        return list(await asyncio.gather(*(one(body) for body in bodies)))


@pytest.mark.slow
def test_slow_and_failing_handlers_do_not_hold_back_acknowledgements(tmp_path: Path) -> None:
    (tmp_path / "slow_hooks.py").write_text(HANDLERS)
    db, port = tmp_path / "handlers.db", free_port()
    bodies = [d.body for d in deliveries(COUNT, SECRET, duplicate_share=0, seed=21)]
    args = xhooks_cmd(
        "serve",
        "--consumer-secret",
        SECRET,
        "--db",
        str(db),
        "--port",
        str(port),
        "--app",
        "slow_hooks:hooks",
        "--concurrency",
        "4",
        "--retry-base",
        "0.1",
    )
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/healthz", cwd=tmp_path):
        statuses = asyncio.run(_deliver_all(f"http://127.0.0.1:{port}/webhook", bodies))
        at_last_ack = _by_status(db)
        (tmp_path / "gate").touch()
        deadline = time.monotonic() + 60
        while _by_status(db).get("handled", 0) < COUNT and time.monotonic() < deadline:
            time.sleep(0.25)
        finally_ = _by_status(db)
    assert statuses == [200] * COUNT
    assert sum(at_last_ack.values()) == COUNT
    assert "handled" not in at_last_ack, f"acknowledgements waited for handlers: {at_last_ack}"
    assert finally_ == {"handled": COUNT}, f"the handlers did not get through every event: {finally_}"
