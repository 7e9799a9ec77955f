"""What relays need of every engine: each sink's own status per event, per-user order, dead letters, re-dispatch."""

from __future__ import annotations

from tests.store.test_contract import _aaa, _delivery, _xaa
from xhooks.store import EventQuery, Store

NOW = 2000.0


async def _claim(store: Store, sink: str = "bus", limit: int = 100, worker: str = "r", now: float = NOW) -> list[int]:
    return [item.event.id for item in await store.relay_claim(sink, worker, limit, 30.0, now)]


async def test_a_sink_takes_in_every_committed_event_once_with_body_and_headers(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1", "2")))
    await store.record(_delivery(_xaa("-5")))
    claimed = await store.relay_claim("bus", "r", 100, 30.0, NOW)
    assert [item.event.event_type for item in claimed] == ["tweet_create_events", "tweet_create_events", "post.create"]
    assert [item.attempt for item in claimed] == [1, 1, 1]
    assert claimed[2].body == _xaa("-5")
    assert claimed[2].headers == [("content-type", "application/json")]
    assert await store.relay_complete("bus", [item.event.id for item in claimed], "r", NOW) == 3
    await store.record(_delivery(_aaa("7", "2")))  # a duplicate is not a new event for the sink either
    assert await _claim(store) == []


async def test_each_sink_has_its_own_status_apart_from_the_handlers(store: Store) -> None:
    await store.record(_delivery(_xaa("1")))
    (event_id,) = await _claim(store, "a")
    assert await store.relay_complete("a", [event_id], "r", NOW) == 1
    assert await _claim(store, "b") == [event_id]  # another sink still has it to send
    assert [e.status for e in await store.events(EventQuery(sink="a"))] == ["handled"]
    assert [e.status for e in await store.events(EventQuery(sink="b"))] == ["claimed"]
    assert [e.status for e in await store.events(EventQuery())] == ["pending"]  # the handlers' own status is untouched
    assert await store.events(EventQuery(sink="c")) == []


async def test_one_users_events_are_leased_as_an_ordered_run_and_wait_behind_a_retry(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1", "2", "3")))
    await store.record(_delivery(_aaa("8", "9")))
    first, second, third, other = await _claim(store)
    assert first < second < third
    assert await store.relay_fail("bus", first, "r", "HTTP 500", NOW + 60, NOW)
    await store.relay_release("bus", [second, third], "r")
    assert await store.relay_complete("bus", [other], "r", NOW) == 1
    assert await _claim(store, now=NOW + 1) == []  # user 7 waits for its first event's retry
    assert await _claim(store, now=NOW + 60) == [first, second, third]
    released = {e.id: e.attempts for e in await store.events(EventQuery(sink="bus"))}
    assert released == {first: 2, second: 1, third: 1, other: 1}  # a release is not an attempt


async def test_a_live_lease_blocks_a_users_later_events_and_an_expired_one_is_taken_again(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1")))
    (first,) = await _claim(store, worker="r1")
    await store.record(_delivery(_aaa("7", "2")))
    assert await _claim(store, worker="r2", now=NOW + 1) == []
    assert await _claim(store, worker="r2", now=NOW + 31) == [first, first + 1]
    assert await store.relay_complete("bus", [first], "r1", NOW + 32) == 0  # r1 lost its lease
    assert not await store.relay_fail("bus", first, "r1", "late", None, NOW + 32)


async def test_dead_letters_are_listed_per_sink_and_redispatched(store: Store) -> None:
    await store.record(_delivery(_xaa("1")))
    await store.record(_delivery(_xaa("2")))
    one, two = await _claim(store)
    assert await store.relay_fail("bus", one, "r", "rejected: 400", None, NOW)
    assert await store.relay_complete("bus", [two], "r", NOW) == 1
    (dead,) = await store.events(EventQuery(sink="bus", status="dead"))
    assert (dead.id, dead.attempts, dead.last_error) == (one, 1, "rejected: 400")
    assert await store.redispatch(EventQuery(sink="bus", status="dead"), NOW) == 1
    listed = await store.events(EventQuery(sink="bus"))
    assert [(e.id, e.status) for e in listed] == [(two, "handled"), (one, "pending")]
    assert await _claim(store) == [one]
    assert [e.status for e in await store.events(EventQuery())] == ["pending", "pending"]  # handlers' status untouched


async def test_routing_and_quarantine_decide_what_a_sink_takes_in(store: Store) -> None:
    await store.record(_delivery(b"not json"))
    await store.record(_delivery(_aaa("7", "1")))
    await store.record(_delivery(_xaa("1")))
    claimed = await store.relay_claim("posts", "r", 100, 30.0, NOW, lambda event_type: event_type == "post.create")
    assert [item.event.event_type for item in claimed] == ["post.create"]
    await store.record(_delivery(_aaa("7", "2")))
    (later,) = await _claim(store, "posts")  # the earlier Post event of user 7 was passed over for good
    event = await store.event(later)
    assert event is not None and event.key.endswith(":2")
    assert len(await _claim(store, "everything")) == 3  # every event but the quarantined one


async def test_each_sinks_backlog_counts_rate_and_last_error(store: Store) -> None:
    """What the dashboard and `events stats` show of each sink (issue 16)."""
    assert await store.sinks(0.0) == []
    await store.record(_delivery(_aaa("7", "1", "2", "3")))
    first, second, third = await _claim(store)
    await _claim(store, "quiet", limit=0)  # takes the three in, sends none
    assert await store.relay_complete("bus", [first], "r", NOW) == 1
    assert await store.relay_fail("bus", second, "r", "HTTP 503 from the bus", NOW + 60, NOW + 5)
    assert await store.relay_fail("bus", third, "r", "HTTP 400: refused for good", None, NOW + 6)
    await store.record(_delivery(_xaa("late")))  # committed after the last take-in
    bus, quiet = await store.sinks(NOW - 1)
    assert (bus.sink, bus.backlog, bus.not_taken_in, bus.relayed, bus.dead) == ("bus", 1, 1, 1, 1)
    assert (bus.relayed_since, bus.last_relayed_at, bus.last_error) == (1, NOW, "HTTP 400: refused for good")
    assert (await store.sinks(NOW + 1))[0].relayed_since == 0
    assert (quiet.sink, quiet.backlog, quiet.not_taken_in, quiet.relayed, quiet.dead) == ("quiet", 3, 1, 0, 0)
    assert (quiet.relayed_since, quiet.last_relayed_at, quiet.last_error) == (0, None, None)
