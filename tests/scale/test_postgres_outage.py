"""Issue 7, done-means 3: PostgreSQL stops under load and starts again. While it is down every receiver answers
503 (so X retries), no receiver ever answers 200 for a delivery that is not stored, and all of them take
deliveries again once it is back, without being restarted.

The server it stops is its own (`PrivateServer`: a fresh cluster on a free port), never the shared one on 5432
that other tests, and other test runs on this machine, use at the same time.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.postgres_support import PrivateServer, private_server_available
from tests.scale._cluster import Receiver, Sender, running
from xhooks.protocol import parse_envelope
from xhooks.store import EventQuery
from xhooks.store.migrations import upgrade
from xhooks.store.postgres import PostgresStore

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not private_server_available(), reason="needs Debian's PostgreSQL server binaries (initdb)"),
]

LOADERS = 6


def _body(n: int) -> bytes:
    return (
        f'{{"data":{{"event_uuid":"outage-{n}","event_type":"post.create","filter":{{"user_id":"{n % 7}"}}}}}}'.encode()
    )


class Phases:
    """Which stretch of the test a request started and ended in: before, down, back."""

    def __init__(self) -> None:
        self.now = "before"
        self.answers: list[tuple[str, str, int, int | str, str]] = []  # (started, ended, receiver, answer, key)


async def _load(sender: Sender, phases: Phases, stop: asyncio.Event) -> None:
    numbers = itertools.count()

    async def loader() -> None:
        while not stop.is_set():
            n = next(numbers)
            if n > 50_000:
                return
            receiver = n % len(sender.urls)
            body = _body(n)
            started = phases.now
            answer = await sender.post(sender.urls[receiver], body)
            phases.answers.append((started, phases.now, receiver, answer, parse_envelope(body).events[0].key))
            if answer != 200:
                await asyncio.sleep(0.02)

    await asyncio.gather(*(loader() for _ in range(LOADERS)))


async def _until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.05)


async def test_receivers_answer_503_while_the_database_is_down_and_resume_without_restart(tmp_path: Path) -> None:
    with PrivateServer() as server:
        url = server.url
        await asyncio.to_thread(upgrade, url)
        receivers = [Receiver(f"receiver{n}", url, tmp_path) for n in range(3)]
        idle_worker = PostgresStore(url)
        await idle_worker.start()
        await idle_worker.wait_for_events(0.0)  # LISTEN from now on
        with running(receivers):
            pids = [r.proc.pid for r in receivers if r.proc]
            phases = Phases()
            stop = asyncio.Event()
            async with httpx.AsyncClient(timeout=60.0) as client:  # a hang guard: slow answers are no fault
                sender = Sender([r.url for r in receivers], client, attempts=1)
                loading = asyncio.create_task(_load(sender, phases, stop))
                try:
                    await _until(lambda: sum(a[3] == 200 for a in phases.answers) >= 150, 20)
                    phases.now = "stopping"
                    await asyncio.to_thread(server.stop)
                    phases.now = "down"
                    await _until(lambda: sum(a[0] == "down" and a[1] == "down" for a in phases.answers) >= 60, 10)
                    phases.now = "starting"
                finally:
                    await asyncio.to_thread(server.start)
                phases.now = "back"

                def every_receiver_took_one() -> bool:
                    back = {a[2] for a in phases.answers if a[0] == "back" and a[3] == 200}
                    return back == {0, 1, 2}

                await _until(every_receiver_took_one, 30)
                relistened = await idle_worker.wait_for_events(0.0)  # reconnects; notifications may have been missed
                woken = await idle_worker.wait_for_events(10.0)  # a commit by a receiver, heard on the new LISTEN
                stop.set()
                await asyncio.wait_for(loading, 60)
            alive = [r.alive() for r in receivers]
            still_same = [r.proc.pid for r in receivers if r.proc] == pids
        stored = {event.key for event in await idle_worker.events(EventQuery(limit=100_000))}
        await idle_worker.close()

    while_down = Counter(
        answer for started, ended, _, answer, _ in phases.answers if (started, ended) == ("down", "down")
    )
    assert while_down[503] > 0
    assert set(while_down) == {503}
    acknowledged = {key for _, _, _, answer, key in phases.answers if answer == 200}
    assert acknowledged <= stored
    assert every_receiver_took_one()
    assert alive == [True, True, True] and still_same
    assert relistened and woken
