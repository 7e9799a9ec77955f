"""Both paths under SIGKILL (issue 14, "done means" 1, at a smaller scale): the receiver (`xhooks serve` with a
transactional handler) and the stream consumer (`xhooks stream`) are separate processes on one PostgreSQL store,
the emulator sends every event to the webhook and the stream; each is killed five times, and both together
once. Every event ends committed once, seen on both paths, and handled exactly once (the handler's row has the
event's id as its primary key, written in the transaction that marks the event handled).

The issue asks for 2,000 events; this first version sends 200, so that it runs in a minute or two here.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.cli.test_stream import Streaming
from tests.emulator.conftest import Running, start
from tests.postgres_support import fresh_schema_url
from tests.support import free_port, wait_ready, xhooks_cmd
from xhooks.store import EventQuery
from xhooks.store.postgres import PostgresStore

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

HANDLERS = """
from xhooks.dispatch import XHooks

hooks = XHooks()


@hooks.on("profile.update.bio", transactional=True)
async def handled(event, ctx):
    await ctx.connection.execute("INSERT INTO handled (event_uuid) VALUES ($1)", event.event_uuid)
"""


@pytest.fixture
def emulator() -> Iterator[Running]:
    for running in start():
        running.emulator.activity_streams.keep_alive = 0.2
        yield running


class Receiver:
    """`xhooks serve --app handlers:hooks` on a fixed port, killed and started again at will."""

    def __init__(self, emulator: Running, db: str, home: Path) -> None:
        self.port = free_port()
        self.args = xhooks_cmd(
            "serve", "--consumer-secret", emulator.app["consumer_secret"], "--port", str(self.port), "--db", db,
            "--app", "handlers:hooks", "--no-watch", "--no-dashboard", "--log-level", "warning",
        )  # fmt: skip
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, cwd=self.home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{self.port}/healthz", proc=self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(60)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def _bios(emulator: Running, count: int, sent: list[str]) -> None:
    for _ in range(count):
        sent.append(emulator.trigger("profile.update.bio")["routed"][0]["event_uuid"])


async def _table(url: str, statement: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


async def _state(url: str) -> tuple[int, int, int, int]:
    """Events stored, events seen on both paths, events handled, rows the handler wrote."""
    store = PostgresStore(url)
    try:
        events = await store.events(EventQuery(limit=10_000))
    finally:
        await store.close()
    rows = await _table(url, "SELECT count(*) FROM handled")
    both = sum(1 for e in events if e.webhook_at is not None and e.stream_at is not None)
    return len(events), both, sum(1 for e in events if e.status == "handled"), int(rows)  # type: ignore[call-overload]


def test_both_paths_killed_again_and_again_lose_nothing_and_handle_each_event_once(
    emulator: Running, tmp_path: Path
) -> None:
    url = fresh_schema_url("stream-kill")
    (tmp_path / "handlers.py").write_text(HANDLERS)
    receiver = Receiver(emulator, url, tmp_path)
    receiver.start()  # creates the schema
    asyncio.run(_table(url, "CREATE TABLE handled (event_uuid text PRIMARY KEY)"))
    webhook = emulator.register(f"http://127.0.0.1:{receiver.port}/webhook")
    body = {"event_type": "profile.update.bio", "filter": {"user_id": emulator.dev["id"]}, "webhook_id": webhook["id"]}
    assert emulator.http.post("/2/activity/subscriptions", json=body, headers=emulator.bearer).status_code == 200
    sent: list[str] = []
    streaming = Streaming(emulator, url)
    try:
        streaming.stop(signal.SIGKILL)  # both down together
        receiver.kill()
        _bios(emulator, 20, sent)
        for _ in range(5):
            receiver.start()
            streaming = Streaming(emulator, url)
            _bios(emulator, 10, sent)
            streaming.stop(signal.SIGKILL)
            _bios(emulator, 10, sent)  # the receiver alone
            receiver.kill()
            _bios(emulator, 10, sent)  # nobody at all
        receiver.start()
        streaming = Streaming(emulator, url)
        _bios(emulator, 30, sent)
        emulator.advance(300)  # X's retries (6, 36, 281 s) reach the receiver, which is up again
        deadline = time.monotonic() + 300  # a hang guard (a killed worker's lease lasts 60 s), not a timing
        while (state := asyncio.run(_state(url))) != (len(sent), len(sent), len(sent), len(sent)):
            assert time.monotonic() < deadline, f"{state} of {len(sent)}"
            time.sleep(0.2)
    finally:
        if streaming.proc.poll() is None:
            streaming.stop()
        receiver.stop()
    assert len(set(sent)) == len(sent) == 200
