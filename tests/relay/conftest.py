"""The relay suite's intake: X-shaped deliveries POSTed, signed, to a real `xhooks serve` on 127.0.0.1, and what a
sink must then get.

`intake(db, deliveries)` sends them through the receiver into a SQLite store, so the relays read what real HTTP
intake committed. `expected(db)` is the ground truth a sink is checked against: every relayable event's key, and
each user's keys in arrival (store) order. `check_arrived` asserts a sink got every key, in each user's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import msgspec
import pytest

from tests.faults._serve import signed, xhooks_serve
from tests.support import ROOT, free_port, spawn
from xhooks.relay import Relay

USERS = [str(2244994945 + n) for n in range(40)]
WEBHOOK_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
"""The Standard Webhooks secret the HTTP sink signs with and the test receiver verifies with."""


def mixed(events: int, duplicates: float = 0.1, seed: int = 16) -> list[bytes]:
    """Deliveries holding `events` distinct events of every shape (AAA DMs and multi-event Posts, X Activity Posts,
    Filtered Stream Posts without a user), and about `duplicates` as many again re-sent, as X re-sends."""
    rng = random.Random(seed)
    bodies: list[bytes] = []
    made = 0
    while made < events:
        user, n = rng.choice(USERS), made
        kind = n % 4
        if kind == 0:
            doc: dict[str, object] = {
                "for_user_id": user,
                "direct_message_events": [
                    {"type": "message_create", "id": f"dm{n}", "created_timestamp": str(1_700_000_000_000 + n),
                     "message_create": {"target": {"recipient_id": user}, "sender_id": "99",
                                        "message_data": {"text": f"hello {n}"}}}
                ],
            }  # fmt: skip
            made += 1
        elif kind == 1 and made + 2 <= events:
            tweets = [{"id_str": f"t{n}-{k}", "text": f"post {n}.{k}", "user": {"id_str": user}} for k in range(2)]
            doc = {"for_user_id": user, "tweet_create_events": tweets}
            made += 2
        elif kind == 2:
            doc = {"data": {"event_uuid": f"-{n}", "event_type": "post.create", "filter": {"user_id": user},
                            "tag": "relay", "payload": {"id": f"p{n}", "text": f"xaa {n}"}}}  # fmt: skip
            made += 1
        else:
            doc = {"data": {"id": f"fs{n}", "text": f"stream {n}"}, "matching_rules": [{"id": "1", "tag": "t"}]}
            made += 1
        bodies.append(json.dumps(doc).encode())
        if rng.random() < duplicates:
            bodies.append(rng.choice(bodies))
    return bodies


def intake(db: Path, deliveries: Sequence[bytes], clients: int = 8) -> None:
    """POST every delivery, signed, to a real `xhooks serve` storing into `db`, from `clients` connections at once
    (the store's order, whatever it is, is what the sinks are checked against); each must be answered 200."""
    with xhooks_serve(db) as (_, url), httpx.Client(timeout=60) as client:

        def post(body: bytes) -> int:
            return client.post(url, content=body, headers=signed(body)).status_code

        with ThreadPoolExecutor(clients) as pool:
            assert set(pool.map(post, deliveries)) == {200}


class Expected(msgspec.Struct, frozen=True):
    keys: frozenset[str]
    by_user: dict[str, list[str]]


def expected(db: Path) -> Expected:
    """What every sink must receive: each stored, relayable event's key, and each user's keys in arrival order."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT key, app, for_user_id FROM events WHERE status != 'quarantined' ORDER BY id")
        by_user: dict[str, list[str]] = {}
        keys = set()
        for key, app, user in rows:
            keys.add(key)
            if user is not None:
                by_user.setdefault(f"{app}\n{user}", []).append(key)
    return Expected(frozenset(keys), by_user)


def check_arrived(want: Expected, arrived: list[tuple[str, str | None]], *, exactly_once: bool) -> None:
    """`arrived` is (key, ordering key) as the sink got them, in its order: every key is there (once when the sink
    deduplicates), and each user's keys, first copies counted, come in arrival order."""
    keys = [key for key, _ in arrived]
    assert set(keys) == want.keys
    if exactly_once:
        assert len(keys) == len(want.keys)
    seen: set[str] = set()
    by_user: dict[str, list[str]] = {}
    for key, user in arrived:
        if key not in seen and user is not None:
            by_user.setdefault(user, []).append(key)
        seen.add(key)
    assert by_user == want.by_user


def ordering_key(app: object, for_user_id: object) -> str | None:
    """The user a sink's metadata names (app and `for_user_id`, as bytes or text), as `expected` groups them."""
    return None if for_user_id is None else f"{text(app)}\n{text(for_user_id)}"


def stream_arrivals(entries: object) -> list[tuple[str, str | None]]:
    """(key, ordering key) of each Redis Streams entry `XRANGE` returned, in stream order."""
    assert isinstance(entries, list)
    return [
        (text(fields[b"key"]), ordering_key(fields.get(b"app"), fields.get(b"for_user_id"))) for _, fields in entries
    ]


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll `condition` on the running loop, letting the relay run between checks; `timeout` is a hang guard."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[Relay]:
    """Run `relay` for the block; stop it (finishing its batch in flight) afterwards."""
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        relay.stop()
        await asyncio.wait_for(task, 60)


@pytest.fixture
def webhook_receiver() -> Iterator[str]:
    """The idempotent receiver (`_webhook_receiver.py`) in a process of its own; yields its base URL."""
    port = free_port()
    args = [sys.executable, "-m", "tests.relay._webhook_receiver", str(port), WEBHOOK_SECRET]
    with spawn(args, ready_url=f"http://127.0.0.1:{port}/arrived", cwd=ROOT):
        yield f"http://127.0.0.1:{port}"
