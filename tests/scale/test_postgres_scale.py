"""Issue 7, done-means 2: three receivers and three `xhooks worker` processes on one PostgreSQL database; one of
each SIGKILLed mid-run and started again. The workers run a transactional handler (`tests/scale/_hooks.py`) that
records each event's effect in the same database. Every acknowledged event is handled, each effect is recorded
exactly once, and each user's events are handled in the order they were sent.

The client sends each user's events one after another (the next only once the previous was acknowledged), so
send order is the order the store must keep; users run side by side, and every third event is also POSTed,
at the same moment, to another receiver.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.postgres_support import database
from tests.scale._cluster import Receiver, Sender, running, worker
from tests.scale._hooks import EFFECTS
from xhooks.protocol import parse_envelope
from xhooks.store.migrations import upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

USERS = 25
EVENTS_PER_USER = 80
LEASE = 2.0


def _body(user: int, n: int) -> bytes:
    return f'{{"for_user_id":"{user}","tweet_create_events":[{{"id_str":"{user}-{n}","text":"n{n}"}}]}}'.encode()


async def _send_all(sender: Sender, acked: list[tuple[str, str]], halfway: asyncio.Event) -> None:
    turn = itertools.count()

    async def user_events(user: int) -> None:
        for n in range(EVENTS_PER_USER):
            body = _body(user, n)
            first = next(turn)
            copies = [sender.deliver(body, first)] + ([sender.deliver(body, first + 1)] if n % 3 == 0 else [])
            if any(await asyncio.gather(*copies)):
                acked.append((str(user), parse_envelope(body).events[0].key))
            if len(acked) >= USERS * EVENTS_PER_USER // 3:
                halfway.set()

    await asyncio.gather(*(user_events(user) for user in range(USERS)))


async def _settled(url: str, expected: int, deadline: float) -> None:
    conn = await asyncpg.connect(url)
    try:
        while time.monotonic() < deadline:
            done = await conn.fetchval("SELECT count(*) FROM events WHERE status = 'handled'")
            if done >= expected:
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def test_receivers_and_workers_killed_mid_run_lose_nothing_and_repeat_nothing(tmp_path: Path) -> None:
    with database() as url:
        await asyncio.to_thread(upgrade, url)
        conn = await asyncpg.connect(url)
        await conn.execute(EFFECTS)
        await conn.close()
        receivers = [Receiver(f"receiver{n}", url, tmp_path) for n in range(3)]
        workers = [worker(f"worker{n}", url, tmp_path, LEASE) for n in range(3)]
        with running([*receivers, *workers]):
            acked: list[tuple[str, str]] = []
            halfway = asyncio.Event()
            limits = httpx.Limits(max_connections=2 * USERS)
            async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
                sender = Sender([r.url for r in receivers], client)
                sending = asyncio.create_task(_send_all(sender, acked, halfway))
                await asyncio.wait_for(halfway.wait(), 300)  # hang guards, like every bound here
                receivers[0].kill()
                workers[0].kill()
                await asyncio.to_thread(receivers[0].start)
                workers[0].start()
                await asyncio.wait_for(sending, 300)
            await _settled(url, len(acked), time.monotonic() + 300)
            restarted_alive = receivers[0].alive() and workers[0].alive()
            conn = await asyncpg.connect(url)
            try:
                events = {
                    row["key"]: row for row in await conn.fetch("SELECT id, key, for_user_id, status FROM events")
                }
                effects = await conn.fetch("SELECT event_id, key, for_user_id, pid FROM effects ORDER BY seq")
            finally:
                await conn.close()

    assert len(acked) == USERS * EVENTS_PER_USER
    assert restarted_alive
    assert all(events[key]["status"] == "handled" for _, key in acked)
    effect_counts = Counter(row["event_id"] for row in effects)
    assert set(effect_counts) == {row["id"] for row in events.values()}
    assert set(effect_counts.values()) == {1}
    assert len({row["pid"] for row in effects}) == 4  # the three workers and the restarted one all handled events
    for user in {user for user, _ in acked}:
        sent = [key for who, key in acked if who == user]
        handled = [row["key"] for row in effects if row["for_user_id"] == user]
        assert handled == sent
