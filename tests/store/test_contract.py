"""The store contract: every engine must pass every test here (see conftest.ENGINES)."""

from __future__ import annotations

import pytest

from tests.store.conftest import same_database
from xhooks.protocol import parse_envelope
from xhooks.store import CrcRecord, Delivery, DeliveryPath, EventQuery, Span, Store


def _delivery(body: bytes, app: str = "/webhook", at: float = 1000.0) -> Delivery:
    return Delivery.received(app, body, at, [("content-type", "application/json")])


def _aaa(for_user: str, *tweet_ids: str) -> bytes:
    items = ",".join(f'{{"id_str":"{tweet}","text":"hi"}}' for tweet in tweet_ids)
    return f'{{"for_user_id":"{for_user}","tweet_create_events":[{items}]}}'.encode()


def _xaa(uuid: str, user: str = "1") -> bytes:
    return f'{{"data":{{"event_uuid":"{uuid}","event_type":"post.create","filter":{{"user_id":"{user}"}}}}}}'.encode()


async def test_record_returns_new_and_duplicate_counts(store: Store) -> None:
    first = await store.record(_delivery(_aaa("7", "1", "2")))
    again = await store.record(_delivery(_aaa("7", "2", "3"), at=1001.0))
    assert (first.new_events, first.duplicates) == (2, 0)
    assert (again.new_events, again.duplicates) == (1, 1)
    assert again.delivery_id != first.delivery_id


async def test_duplicate_never_becomes_a_second_event(store: Store) -> None:
    for at in (1.0, 2.0, 3.0):
        await store.record(_delivery(_xaa("-42"), at=at))
    events = await store.events(EventQuery())
    assert len(events) == 1
    assert events[0].duplicates == 2
    assert events[0].last_seen_at == 3.0
    assert [delivery for delivery, _ in await store.sightings(events[0].id)] == [1, 2, 3]


async def test_same_key_for_two_apps_is_two_events(store: Store) -> None:
    await store.record(_delivery(_xaa("5"), app="/a"))
    await store.record(_delivery(_xaa("5"), app="/b"))
    assert sorted(event.app for event in await store.events(EventQuery())) == ["/a", "/b"]


async def test_raw_bytes_and_headers_are_kept_exactly(store: Store) -> None:
    body = b'{"data":{"event_uuid":"9","event_type":"dm.received","payload":{"text":"caf\\u00e9 \xe2\x9c\x93"}}}'
    intake = await store.record(_delivery(body))
    delivery = await store.delivery(intake.delivery_id)
    assert delivery is not None
    assert delivery.body == body
    assert delivery.headers == [("content-type", "application/json")]


async def test_unparsed_body_is_kept_and_counted(store: Store) -> None:
    await store.record(_delivery(b"not json at all"))
    await store.record(_delivery(b'{"something":"else"}'))
    stats = await store.stats()
    assert stats.unparsed == 2
    assert stats.by_type == {"malformed": 1, "unknown": 1}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg", id="crc-oracle-token"),
        pytest.param(b"12345678901234567890", id="digits-a-json-number"),
        pytest.param(b'["an","array"]', id="json-array"),
    ],
)
async def test_a_body_that_is_not_a_json_object_is_kept_quarantined(store: Store, body: bytes) -> None:
    """Stored and counted, never claimed, never made due again, and a duplicate stays quarantined (issue 12)."""
    await store.record(_delivery(body))
    await store.record(_delivery(body, at=1001.0))
    await store.record(_delivery(_xaa("1")))
    (event,) = await store.events(EventQuery(status="quarantined"))
    assert (event.event_type, event.duplicates) == ("malformed", 1)
    assert (await store.stats()).by_status == {"quarantined": 1, "pending": 1}
    claimed = await store.claim("w", limit=10, lease=30, now=2000.0)
    assert [item.event.key for item in claimed] == [parse_envelope(_xaa("1")).events[0].key]
    assert await store.redispatch(EventQuery(), now=2001.0) == 0  # the claimed one stays claimed, too
    assert await store.redispatch(EventQuery(status="quarantined"), now=2001.0) == 0
    retaken = await store.claim("w2", limit=10, lease=30, now=5000.0)  # the lease expired: only xaa:1 is due
    assert [item.event.key for item in retaken] == [parse_envelope(_xaa("1")).events[0].key]
    assert await store.event(event.id) == event


async def test_rejections_are_counted_not_stored(store: Store) -> None:
    await store.record_rejection("/webhook", "SignatureMismatch", 5.0)
    await store.record_rejection("/webhook", "SignatureMismatch", 6.0)
    assert await store.check_writable(7.0)  # also flushes the queued rejections
    stats = await store.stats()
    assert stats.rejections == {"/webhook:SignatureMismatch": 2}
    assert stats.events == 0


async def test_events_query_filters(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1"), at=10.0))
    await store.record(_delivery(_xaa("2", user="8"), at=20.0))
    assert [e.for_user_id for e in await store.events(EventQuery(for_user_id="8"))] == ["8"]
    by_type = await store.events(EventQuery(event_type="tweet_create_events"))
    assert [e.event_type for e in by_type] == ["tweet_create_events"]
    assert [e.received_at for e in await store.events(EventQuery(since=15.0))] == [20.0]
    assert len(await store.events(EventQuery(limit=1))) == 1


async def test_claim_keeps_per_user_order(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1", "2")))  # two events of user 7
    await store.record(_delivery(_aaa("8", "3")))  # one of user 8
    claimed = await store.claim("w1", limit=10, lease=30, now=100.0)
    assert [c.event.key.rsplit(":", 1)[-1] for c in claimed] == ["1", "3"]  # "2" waits behind "1"
    assert all(c.attempt == 1 for c in claimed)
    assert claimed[0].body == _aaa("7", "1", "2")
    assert await store.complete(claimed[0].event.id, "w1", now=101.0)
    after = await store.claim("w2", limit=10, lease=30, now=102.0)
    assert [c.event.key.rsplit(":", 1)[-1] for c in after] == ["2"]


async def test_expired_lease_is_retaken_and_old_worker_loses_it(store: Store) -> None:
    await store.record(_delivery(_xaa("1")))
    (first,) = await store.claim("dead-worker", limit=1, lease=5, now=100.0)
    assert await store.claim("w2", limit=1, lease=5, now=104.0) == []
    (again,) = await store.claim("w2", limit=1, lease=5, now=106.0)
    assert again.event.id == first.event.id and again.attempt == 2
    assert not await store.complete(first.event.id, "dead-worker", now=107.0)
    assert await store.complete(again.event.id, "w2", now=107.0)
    assert (await store.events(EventQuery()))[0].status == "handled"


async def test_fail_retries_then_dead_letters_then_redispatch(store: Store) -> None:
    await store.record(_delivery(_xaa("1")))
    (claimed,) = await store.claim("w", limit=1, lease=30, now=0.0)
    assert await store.fail(claimed.event.id, "w", "boom", retry_at=10.0, now=1.0)
    assert await store.claim("w", limit=1, lease=30, now=5.0) == []
    (retry,) = await store.claim("w", limit=1, lease=30, now=10.0)
    assert retry.attempt == 2
    assert await store.fail(retry.event.id, "w", "boom again", retry_at=None, now=11.0)
    (dead,) = await store.events(EventQuery(status="dead"))
    assert dead.last_error == "boom again"
    assert await store.redispatch(EventQuery(status="dead"), now=12.0) == 1
    (fresh,) = await store.claim("w", limit=1, lease=30, now=12.0)
    assert fresh.attempt == 1


async def test_an_ignored_event_is_marked_ignored_and_can_be_redispatched(store: Store) -> None:
    """An event the registry skips (the bot's own action) is `ignored`, not `handled` (issue 18)."""
    await store.record(_delivery(_xaa("1")))
    (claimed,) = await store.claim("w", limit=1, lease=30, now=0.0)
    assert not await store.complete(claimed.event.id, "other-worker", now=1.0, ignored=True)
    assert await store.complete(claimed.event.id, "w", now=1.0, ignored=True)
    (ignored,) = await store.events(EventQuery(status="ignored"))
    assert ignored.id == claimed.event.id
    assert await store.events(EventQuery(status="handled")) == []
    assert await store.redispatch(EventQuery(status="ignored"), now=2.0) == 1
    (again,) = await store.claim("w", limit=1, lease=30, now=2.0)
    assert again.attempt == 1


async def test_release_gives_events_back_without_an_attempt(store: Store) -> None:
    await store.record(_delivery(_xaa("1")))
    (claimed,) = await store.claim("w", limit=1, lease=30, now=0.0)
    await store.release([claimed.event.id], "w")
    (again,) = await store.claim("w2", limit=1, lease=30, now=1.0)
    assert again.attempt == 1


async def test_writes_before_start_are_a_usage_error(make_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_store(tmp_path)
    with pytest.raises(RuntimeError):
        await engine.record(_delivery(_xaa("1")))


async def test_reads_need_no_start_and_see_what_another_store_committed(store: Store) -> None:
    """A tool reads the database a receiver writes: a store that was never started answers every read."""
    intake = await store.record(_delivery(_aaa("7", "1")))
    await store.record_crc(CrcRecord("/webhook", 5.0, 0.001, 200, "answered"))
    await store.mark("up", 1.0, 2.0, max_gap=0.0)  # also comes after the CRC record's commit
    reader = same_database(store)
    try:
        (event,) = await reader.events(EventQuery())
        assert await reader.event(event.id) == event
        delivery = await reader.delivery(intake.delivery_id)
        assert delivery is not None and delivery.body == _aaa("7", "1")
        assert await reader.sightings(event.id) == [(intake.delivery_id, 1000.0)]
        assert ((await reader.stats()).deliveries, (await reader.stats()).events) == (1, 1)
        assert await reader.spans("up", since=0.0) == [Span("up", 1.0, 2.0)]
        assert [crc.outcome for crc in await reader.crcs(since=0.0)] == ["answered"]
        with pytest.raises(RuntimeError):
            await reader.record(_delivery(_xaa("1")))  # reading is not starting: writes still need start()
    finally:
        await reader.close()


async def test_each_event_records_the_paths_that_carried_it_and_when(store: Store) -> None:
    """An event seen on the webhook and on the X Activity stream is one event; each path's first time is kept, and
    the path that brought it first (issue 14)."""
    both, stream_only, webhook_only = _xaa("1"), _xaa("2"), _xaa("3")
    await store.record(Delivery.received("/webhook", both, 20.0, path=DeliveryPath.STREAM))
    await store.record(Delivery.received("/webhook", both, 25.0))
    await store.record(Delivery.received("/webhook", both, 30.0, path=DeliveryPath.STREAM))  # a backfill repeat
    intake = await store.record(Delivery.received("/webhook", stream_only, 40.0, path=DeliveryPath.STREAM))
    await store.record(Delivery.received("/webhook", webhook_only, 50.0))
    paths = {
        event.key.rsplit(":", 1)[1]: (event.first_path, event.webhook_at, event.stream_at, event.duplicates)
        for event in await store.events(EventQuery())
    }
    assert paths == {
        "1": ("stream", 25.0, 20.0, 2),
        "2": ("stream", None, 40.0, 0),
        "3": ("webhook", 50.0, None, 0),
    }
    delivery = await store.delivery(intake.delivery_id)
    assert delivery is not None and (delivery.path, delivery.body) == ("stream", stream_only)
    stats = await store.stats()
    assert (stats.by_path, stats.first_by_path) == ({"webhook": 2, "stream": 2}, {"stream": 2, "webhook": 1})


async def test_a_path_keeps_its_earliest_time_whatever_the_commit_order(store: Store) -> None:
    await store.record(Delivery.received("/webhook", _xaa("1"), 30.0))
    await store.record(Delivery.received("/webhook", _xaa("1"), 10.0))  # a late commit of an earlier POST
    (event,) = await store.events(EventQuery())
    assert (event.webhook_at, event.stream_at) == (10.0, None)
