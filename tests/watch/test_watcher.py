"""`Watcher.stop()`: the watcher returns from `run` at once, between two rounds or in the middle of one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tests.support import free_port
from tests.watch.conftest import until
from xhooks.client import AsyncXClient, Credentials
from xhooks.clock import ManualClock
from xhooks.store.sqlite import SQLiteStore
from xhooks.watch import WatchConfig, Watcher


@contextlib.asynccontextmanager
async def _watcher(tmp_path: Path, base_url: str) -> AsyncIterator[Watcher]:
    store = SQLiteStore(tmp_path / "watch.db")
    await store.start()
    try:
        async with AsyncXClient(Credentials(bearer_token="t"), base_url=base_url) as x:
            yield Watcher(x, store, WatchConfig(interval=60.0), clock=ManualClock())  # its clock never moves
    finally:
        await store.close()


async def test_stop_between_two_rounds_ends_the_wait(tmp_path: Path) -> None:
    async with _watcher(tmp_path, f"http://127.0.0.1:{free_port()}") as watcher:  # nobody listens: rounds fail
        running = asyncio.ensure_future(watcher.run())
        await until(lambda: watcher.failed_rounds == 1, "the first round")
        watcher.stop()
        await asyncio.wait_for(running, 60)  # a hang guard: without stop() it sleeps until the clock moves
    assert watcher.failed_rounds == 1


async def test_stop_in_a_round_cuts_it_short(tmp_path: Path) -> None:
    called, left = asyncio.Event(), asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        called.set()
        await reader.read()  # until the watcher's client hangs up
        writer.close()
        left.set()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, _watcher(tmp_path, f"http://127.0.0.1:{port}") as watcher:
        running = asyncio.ensure_future(watcher.run())
        await asyncio.wait_for(called.wait(), 60)
        watcher.stop()
        await asyncio.wait_for(running, 60)
        await asyncio.wait_for(left.wait(), 60)  # the cancelled request let go of its connection
    assert watcher.failed_rounds == 0  # cut short, not failed


async def test_a_watcher_stopped_before_it_runs_does_no_round(tmp_path: Path) -> None:
    async with _watcher(tmp_path, f"http://127.0.0.1:{free_port()}") as watcher:
        watcher.stop()
        await asyncio.wait_for(watcher.run(), 60)
    assert watcher.failed_rounds == 0
