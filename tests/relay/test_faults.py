"""Faults: a sink's server killed and started again, a receiver down or refusing, a relay SIGKILLed mid-batch. In
every case nothing is lost, each user's order holds and the backlog drains; refused events become dead letters that
the CLI lists and sends again.

Outages use private servers (`_servers.py`) on free ports; the machine's shared ones are never stopped. 1,000 events
per test (the sink tests carry 5,000): enough for several batches on each side of the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import nats
import pytest
import redis.asyncio as redis

from tests.relay._servers import PrivateServer, private_nats, private_redis
from tests.relay._servers import running as server_running
from tests.relay.conftest import (
    WEBHOOK_SECRET,
    Expected,
    check_arrived,
    expected,
    intake,
    mixed,
    ordering_key,
    running,
    stream_arrivals,
    wait_until,
)
from tests.support import xhooks_cmd
from xhooks.dispatch import RetryPolicy
from xhooks.relay import Message, Relay, Sink, open_sink
from xhooks.relay.sink import Outcome
from xhooks.store import EventQuery
from xhooks.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EVENTS = 1000
BRIEF_OUTAGES = RetryPolicy(max_attempts=2**31, base=0.02, max_delay=0.2)
"""The relay's pause after an unreachable sink, short so a test waits milliseconds for the restart to be seen."""


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, Expected]:
    db = tmp_path / "intake.db"
    intake(db, mixed(EVENTS, seed=61))
    return db, expected(db)


class Gate(Sink):
    """A sink in front of another that stops before its `at`-th batch until the test lets it go: the fault is
    then injected between two batches, never after the relay has already finished."""

    def __init__(self, inner: Sink, at: int) -> None:
        self.inner, self.name, self.format = inner, inner.name, inner.format
        self.at, self.batches = at, 0
        self.reached, self.go = asyncio.Event(), asyncio.Event()

    async def open(self) -> None:
        await self.inner.open()

    async def send(self, messages: Sequence[Message]) -> list[Outcome]:
        self.batches += 1
        if self.batches == self.at:
            self.reached.set()
            await asyncio.wait_for(self.go.wait(), 60)
        return await self.inner.send(messages)

    async def close(self) -> None:
        await self.inner.close()


async def _through_an_outage(db: Path, server: PrivateServer, url: str) -> Relay:
    """Relay `db` to `url` while `server` is killed after four batches and started again once the relay has met
    the outage twice; return the relay once it has confirmed every event."""
    store = SQLiteStore(db, durability="process")
    await store.start()
    gate = Gate(open_sink(url), at=5)
    try:
        async with running(Relay(store, gate, batch=50, outage=BRIEF_OUTAGES)) as relay:
            await asyncio.wait_for(gate.reached.wait(), 60)
            before = relay.counts.relayed
            server.kill()
            gate.go.set()
            await wait_until(lambda: relay.counts.unavailable >= 2)
            assert relay.counts.relayed == before == 200  # the outage stalls the relay; nothing is marked
            server.start()
            await wait_until(lambda: relay.counts.relayed >= EVENTS)
        assert await store.events(EventQuery(sink=gate.name, status="dead")) == []
        assert relay.counts.rejected == 0  # an outage costs no attempt
    finally:
        await store.close()
    return relay


async def test_a_redis_outage_loses_nothing_keeps_order_and_the_backlog_drains(
    stored: tuple[Path, Expected], tmp_path: Path
) -> None:
    db, want = stored
    (tmp_path / "redis").mkdir()
    server = private_redis(tmp_path / "redis")
    with server_running(server):
        await _through_an_outage(db, server, f"{server.url}/0?stream=x-events#redis")
        client = redis.Redis.from_url(server.url)
        try:
            entries = await client.xrange("x-events")
        finally:
            await client.aclose()
    arrived = stream_arrivals(entries)
    check_arrived(want, arrived, exactly_once=False)


async def test_a_jetstream_outage_loses_nothing_stores_each_key_once_and_the_backlog_drains(
    stored: tuple[Path, Expected], tmp_path: Path
) -> None:
    db, want = stored
    server = private_nats(tmp_path / "jetstream")
    with server_running(server):
        url = f"{server.url}?subject=x.events.{{for_user_id}}&stream=X_EVENTS&timeout=2#nats"
        await _through_an_outage(db, server, url)
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream()
            count = (await js.stream_info("X_EVENTS")).state.messages
            arrived = []
            for seq in range(1, count + 1):
                headers = (await js.get_msg("X_EVENTS", seq)).headers or {}
                arrived.append(
                    (headers["Nats-Msg-Id"], ordering_key(headers.get("Xhooks-App"), headers.get("Xhooks-For-User-Id")))
                )
        finally:
            await nc.close()
    check_arrived(want, arrived, exactly_once=True)


async def test_a_receiver_answering_503_pauses_the_relay_without_spending_attempts(
    stored: tuple[Path, Expected], webhook_receiver: str
) -> None:
    db, want = stored
    store = SQLiteStore(db, durability="process")
    await store.start()
    gate = Gate(open_sink(f"{webhook_receiver}/x-events?secret={WEBHOOK_SECRET}&timeout=30#http"), at=3)
    try:
        async with running(Relay(store, gate, batch=50, outage=BRIEF_OUTAGES)) as relay:
            await asyncio.wait_for(gate.reached.wait(), 60)
            httpx.post(f"{webhook_receiver}/outage", content=b"on")
            gate.go.set()
            await wait_until(lambda: relay.counts.unavailable >= 3)
            httpx.post(f"{webhook_receiver}/outage", content=b"off")
            await wait_until(lambda: relay.counts.relayed >= EVENTS, timeout=300)
        assert relay.counts.rejected == 0
        assert {event.attempts for event in await store.events(EventQuery(sink=gate.name, limit=EVENTS))} == {1}
    finally:
        await store.close()
    report = httpx.get(f"{webhook_receiver}/arrived").json()
    check_arrived(want, [(key, user) for key, user in report["arrived"]], exactly_once=True)


def test_refused_events_become_dead_letters_the_cli_lists_and_sends_again(
    stored: tuple[Path, Expected], webhook_receiver: str
) -> None:
    """The receiver refuses every DM with 400: those are retried, then dead for that sink, while the user's later
    events wait and then go; `xhooks events list --sink … --status dead` names them, `redispatch --sink … --dead`
    sends them again once the receiver takes them."""
    db, want = stored
    httpx.post(f"{webhook_receiver}/refuse", content=b"direct_message_events")
    sink = f"{webhook_receiver}/x-events?secret={WEBHOOK_SECRET}#http"

    async def relay_until(done: str) -> None:
        store = SQLiteStore(db, durability="process")
        await store.start()
        retry = RetryPolicy(max_attempts=2, base=0.0, jitter=0.0)
        try:
            async with running(Relay(store, open_sink(sink), batch=100, retry=retry)) as relay:
                await wait_until(lambda: _count(db, "http", done) == EVENTS, timeout=300)
                assert relay.counts.unavailable == 0
        finally:
            await store.close()

    asyncio.run(relay_until("status IN ('handled', 'dead')"))
    dms = {key for key in want.keys if ":direct_message_events:" in key}
    listed = _cli("events", "list", "--db", str(db), "--sink", "http", "--status", "dead", "--limit", "5000", "--json")
    dead = json.loads(listed.stdout)
    assert {event["key"] for event in dead} == dms
    assert {(event["status"], event["attempts"]) for event in dead} == {("dead", 2)}
    assert all(event["last_error"].startswith("HTTP 400: ") for event in dead)
    report = httpx.get(f"{webhook_receiver}/arrived").json()
    assert {key for key, _ in report["arrived"]} == want.keys - dms
    [sink_stats] = json.loads(_cli("events", "stats", "--db", str(db), "--json").stdout)["sinks"]
    assert (sink_stats["sink"], sink_stats["dead"], sink_stats["backlog"]) == ("http", len(dms), 0)
    assert sink_stats["relayed"] == EVENTS - len(dms) and sink_stats["last_error"].startswith("HTTP 400: ")
    text = _cli("events", "stats", "--db", str(db)).stdout
    assert (
        f"sink http: backlog 0, relayed {EVENTS - len(dms)} (" in text
        and f"dead {len(dms)}; last error: HTTP 400" in text
    )

    httpx.post(f"{webhook_receiver}/refuse", content=b"")
    again = _cli("events", "redispatch", "--db", str(db), "--sink", "http", "--dead")
    assert again.stdout.startswith(f"{len(dms)} event(s) due again for sink 'http'")
    asyncio.run(relay_until("status = 'handled'"))
    report = httpx.get(f"{webhook_receiver}/arrived").json()
    assert {key for key, _ in report["arrived"]} == want.keys
    assert report["copies"] == 0


def test_a_relay_killed_mid_batch_loses_nothing_and_the_next_one_resends_only_what_was_unconfirmed(
    stored: tuple[Path, Expected], webhook_receiver: str
) -> None:
    """`xhooks relay` is SIGKILLed while the receiver holds its batch's POSTs unanswered: its batch stays leased
    until the lease ends, then the next relay sends it again. The receiver keeps each key once, in each user's
    order, and every event ends handled for the sink."""
    db, want = stored
    httpx.post(f"{webhook_receiver}/hold", content=b"300")
    args = xhooks_cmd("relay", "--db", str(db), "--to", f"{webhook_receiver}/x-events?secret={WEBHOOK_SECRET}#http")
    args += ["--batch", "50", "--lease", "2"]
    first = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _poll(lambda: httpx.get(f"{webhook_receiver}/arrived").json()["held"] > 0)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        first.kill()
    assert 0 < _count(db, "http", "status = 'handled'") <= 300
    assert _count(db, "http", "status = 'claimed'") > 0  # the batch in flight, leased to the dead relay
    httpx.post(f"{webhook_receiver}/hold", content=b"off")
    second = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _poll(lambda: _count(db, "http", "status = 'handled'") == EVENTS)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert second.returncode == 0
    report = httpx.get(f"{webhook_receiver}/arrived").json()
    check_arrived(want, [(key, user) for key, user in report["arrived"]], exactly_once=True)


def _count(db: Path, sink: str, condition: str) -> int:
    """How many of `sink`'s events in `db` meet `condition` (SQL on `relay_events`), read as another process would."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM relay_events WHERE sink = ? AND {condition}", (sink,)).fetchone()
    return int(count)


def _poll(condition: Callable[[], bool], timeout: float = 300.0) -> None:
    """Wait for `condition()` (a hang guard of `timeout` seconds), checking every few milliseconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(xhooks_cmd(*args), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result
