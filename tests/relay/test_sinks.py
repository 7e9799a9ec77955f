"""Every sink against its real server on 127.0.0.1, fed by real HTTP intake: 5,000 mixed events, about 10 % of the
deliveries sent twice, each key arriving (exactly once where the sink deduplicates) in each user's order.

The servers are the machine's shared ones (Redis 6379, NATS JetStream 4222, RabbitMQ 5672); each test uses a stream,
subject or exchange of its own and removes it afterwards. The intake runs once for the module; every test relays
the same store to its own sink (a sink's status is its own).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import httpx
import nats
import pytest
import redis.asyncio as redis

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
from xhooks.relay import Relay, open_sink
from xhooks.store import EventQuery
from xhooks.store.sqlite import SQLiteStore

# 5,000 events through a busy machine take minutes, not the suite's 120 s; one xdist worker runs the module, so the
# intake happens once.
pytestmark = [pytest.mark.timeout(900), pytest.mark.xdist_group("relay-sinks")]

EVENTS = 5000


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    db = tmp_path_factory.mktemp("relay") / "intake.db"
    intake(db, mixed(EVENTS))
    want = expected(db)
    assert len(want.keys) == EVENTS
    return db, want


@contextlib.asynccontextmanager
async def relaying(db: Path, url: str, events: int) -> AsyncIterator[Relay]:
    """A relay from `db` to `url`, run until the sink has confirmed `events` events."""
    store = SQLiteStore(db, durability="process")
    await store.start()
    try:
        async with running(Relay(store, open_sink(url), batch=256)) as relay:
            await wait_until(lambda: relay.counts.relayed >= events, timeout=600)
            yield relay
        assert await store.events(EventQuery(sink=relay.sink.name, status="dead")) == []
    finally:
        await store.close()


async def test_redis_streams_gets_every_key_in_each_users_order(stored: tuple[Path, Expected]) -> None:
    db, want = stored
    stream = f"xhooks-test-{secrets.token_hex(4)}"
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        async with relaying(db, f"redis://127.0.0.1:6379/0?stream={stream}#redis", EVENTS):
            pass
        entries = await client.xrange(stream)
    finally:
        await client.delete(stream)
        await client.aclose()
    arrived = stream_arrivals(entries)
    check_arrived(want, arrived, exactly_once=False)
    assert len(arrived) == EVENTS  # nothing failed, so nothing was sent twice


async def test_nats_jetstream_stores_each_key_exactly_once_in_each_users_order(stored: tuple[Path, Expected]) -> None:
    db, want = stored
    name = f"XHOOKS_TEST_{secrets.token_hex(4).upper()}"
    subject = f"xhooks.test.{name.lower()}"
    nc = await nats.connect("nats://127.0.0.1:4222")
    js = nc.jetstream()
    try:
        await js.add_stream(name=name, subjects=[f"{subject}.>"])
        async with relaying(db, f"nats://127.0.0.1:4222?subject={subject}.{{for_user_id}}#nats", EVENTS):
            pass
        info = await js.stream_info(name)
        assert info.state.messages == EVENTS
        arrived = []
        for seq in range(1, EVENTS + 1):
            message = await js.get_msg(name, seq)
            headers = message.headers or {}
            arrived.append(
                (headers["Nats-Msg-Id"], ordering_key(headers.get("Xhooks-App"), headers.get("Xhooks-For-User-Id")))
            )
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(name)
        await nc.close()
    check_arrived(want, arrived, exactly_once=True)


async def test_rabbitmq_confirms_every_key_in_each_users_order(stored: tuple[Path, Expected]) -> None:
    db, want = stored
    exchange_name = f"xhooks-test-{secrets.token_hex(4)}"
    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC, auto_delete=True)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, "#")
        url = f"amqp://guest:guest@127.0.0.1:5672/?exchange={exchange_name}&routing_key=x.{{event_type}}#amqp"
        async with relaying(db, url, EVENTS):
            pass
        arrived = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            headers = message.headers
            arrived.append(
                (str(message.message_id), ordering_key(headers.get("xhooks-app"), headers.get("xhooks-for-user-id")))
            )
            assert message.routing_key == f"x.{message.type}"
    finally:
        await connection.close()
    check_arrived(want, arrived, exactly_once=False)
    assert len(arrived) == EVENTS


async def test_http_signed_per_standard_webhooks_reaches_an_idempotent_receiver_exactly_once(
    stored: tuple[Path, Expected], webhook_receiver: str
) -> None:
    db, want = stored
    async with relaying(db, f"{webhook_receiver}/x-events?secret={WEBHOOK_SECRET}#http", EVENTS):
        pass
    report = httpx.get(f"{webhook_receiver}/arrived").json()
    assert (report["refused"], report["copies"]) == (0, 0)
    check_arrived(want, [(key, user) for key, user in report["arrived"]], exactly_once=True)
