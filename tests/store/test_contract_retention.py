"""Retention on every engine (`store/retention.py`, issue 15): what goes, what stays, and that dedup survives it."""

from __future__ import annotations

import pytest

from tests.store.test_contract import _aaa, _delivery, _xaa
from xhooks.errors import ConfigError
from xhooks.store import EventQuery, Store
from xhooks.store.retention import DAY, TOMBSTONE_FLOOR, PruneReport, RetentionPolicy

T0 = 1_767_225_600.0  # the received time of every delivery below, unless it says otherwise
POLICY = RetentionPolicy(body_days=1, dead_days=3, quarantine_days=5, tombstone_days=10)


async def _handle_all(store: Store, now: float = T0 + 1) -> list[int]:
    ids = []
    while claimed := await store.claim("w", 100, 30.0, now):
        for item in claimed:
            assert await store.complete(item.event.id, "w", now)
            ids.append(item.event.id)
    return ids


async def _prune_all(store: Store, now: float, policy: RetentionPolicy = POLICY) -> PruneReport:
    total = PruneReport()
    while True:
        report = await store.prune(policy, now)
        total += report
        if not report.more:
            return total


async def test_a_handled_events_body_goes_after_body_days_and_its_key_stays(store: Store) -> None:
    intake = await store.record(_delivery(_aaa("7", "1"), at=T0))
    (event_id,) = await _handle_all(store)
    assert await store.prune(POLICY, T0 + DAY - 1) == PruneReport()
    report = await store.prune(POLICY, T0 + DAY + 1)
    assert (report.bodies, report.tombstones, report.more) == (1, 0, False)
    assert report.bytes == len(_aaa("7", "1")) + len(b'[["content-type","application/json"]]')
    delivery = await store.delivery(intake.delivery_id)
    assert delivery is not None
    assert (delivery.body, delivery.headers, delivery.app, delivery.received_at) == (b"", [], "/webhook", T0)
    event = await store.event(event_id)
    assert event is not None
    assert (event.key, event.status, event.pruned_at) == ("aaa:7:tweet_create_events:1", "handled", T0 + DAY + 1)
    stats = await store.stats()
    assert stats.tombstones == 1 and (await store.storage()).oldest_body is None


async def test_a_late_duplicate_of_a_pruned_event_is_still_a_duplicate(store: Store) -> None:
    await store.record(_delivery(_xaa("-42"), at=T0))
    await _handle_all(store)
    assert (await store.prune(POLICY, T0 + 2 * DAY)).bodies == 1
    again = await store.record(_delivery(_xaa("-42"), at=T0 + 4 * DAY))  # X's replay, within its 5 days
    assert (again.new_events, again.duplicates) == (0, 1)
    (event,) = await store.events(EventQuery())
    assert (event.duplicates, event.status) == (1, "handled")
    assert await store.claim("w", 10, 30.0, T0 + 4 * DAY) == []  # nothing runs twice


@pytest.mark.parametrize("state", ["pending", "claimed", "retry"])
async def test_an_unfinished_event_keeps_its_bodies_however_old(store: Store, state: str) -> None:
    first = await store.record(_delivery(_aaa("7", "1"), at=T0))
    copy = await store.record(_delivery(_aaa("7", "1"), at=T0 + 1))  # a duplicate delivery of it
    if state != "pending":
        (claimed,) = await store.claim("w", 1, 10 * 365 * DAY, T0 + 1)
        if state == "retry":
            assert await store.fail(claimed.event.id, "w", "boom", T0 + 365 * DAY, T0 + 2)
    far = T0 + 100 * DAY
    assert await store.prune(POLICY, far, dry_run=True) == PruneReport()
    assert await _prune_all(store, far) == PruneReport()
    for delivery_id in (first.delivery_id, copy.delivery_id):
        delivery = await store.delivery(delivery_id)
        assert delivery is not None and delivery.body == _aaa("7", "1")
    (event,) = await store.events(EventQuery())
    assert (event.status, event.pruned_at) == (state, None)


async def test_a_delivery_keeps_its_body_while_any_event_it_carries_is_unfinished(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1", "2"), at=T0))
    (claimed,) = await store.claim("w", 2, 30.0, T0 + 1)  # one user's events: one at a time
    assert await store.complete(claimed.event.id, "w", T0 + 1)  # the first handled, the second still pending
    assert (await _prune_all(store, T0 + 50 * DAY)).bodies == 0
    await _handle_all(store, T0 + 50 * DAY)
    assert (await _prune_all(store, T0 + 50 * DAY)).bodies == 1
    assert {event.pruned_at for event in await store.events(EventQuery())} == {T0 + 50 * DAY}


async def test_dead_letters_and_quarantined_deliveries_keep_their_own_retention(store: Store) -> None:
    dead = await store.record(_delivery(_xaa("1"), at=T0))
    quarantined = await store.record(_delivery(b"not json at all", at=T0))
    (claimed,) = await store.claim("w", 1, 30.0, T0 + 1)
    assert await store.fail(claimed.event.id, "w", "boom", None, T0 + 1)
    bodies = {}
    for days in (2, 4, 6):
        await _prune_all(store, T0 + days * DAY)
        for name, intake in (("dead", dead), ("quarantined", quarantined)):
            delivery = await store.delivery(intake.delivery_id)
            assert delivery is not None
            bodies[(name, days)] = bool(delivery.body)
    assert bodies == {
        ("dead", 2): True,
        ("quarantined", 2): True,
        ("dead", 4): False,  # dead_days = 3
        ("quarantined", 4): True,
        ("dead", 6): False,
        ("quarantined", 6): False,  # quarantine_days = 5
    }


async def test_a_tombstone_goes_after_tombstone_days_and_then_the_event_is_new_again(store: Store) -> None:
    await store.record(_delivery(_xaa("1"), at=T0))
    await store.record(_delivery(_xaa("1"), at=T0 + DAY))  # seen again: the tombstone counts from here
    await store.record(_delivery(_xaa("2"), at=T0 + 30 * DAY))  # a newer event: the newest is never removed
    await _handle_all(store, T0 + 30 * DAY)
    assert (await _prune_all(store, T0 + 2.5 * DAY)).bodies == 2
    assert (await _prune_all(store, T0 + 10.5 * DAY)).tombstones == 0
    assert await store.prune(POLICY, T0 + 11.5 * DAY, dry_run=True) == PruneReport(tombstones=1)
    assert (await _prune_all(store, T0 + 11.5 * DAY)).tombstones == 1
    assert [event.key.rpartition(":")[2] for event in await store.events(EventQuery())] == ["2"]
    assert (await store.stats()).deliveries == 1  # the two deliveries of the gone event went with it
    again = await store.record(_delivery(_xaa("1"), at=T0 + 40 * DAY))
    assert (again.new_events, again.duplicates) == (1, 0)


async def test_a_dry_run_counts_what_would_go_and_changes_nothing(store: Store) -> None:
    for n in range(3):
        await store.record(_delivery(_xaa(str(n)), at=T0 + n))
    await _handle_all(store)
    report = await store.prune(POLICY, T0 + 2 * DAY, dry_run=True)
    assert (report.bodies, report.tombstones) == (3, 0)
    assert report.bytes == sum(len(_xaa(str(n))) for n in range(3)) + 3 * len(b'[["content-type","application/json"]]')
    assert (await store.stats()).tombstones == 0
    assert await store.prune(POLICY, T0 + 2 * DAY) == PruneReport(report.bodies, report.bytes, 0, False)


async def test_pruning_runs_in_batches_oldest_first(store: Store) -> None:
    for n in range(5):
        await store.record(_delivery(_xaa(str(n)), at=T0 + n))
    await _handle_all(store)
    small = RetentionPolicy(body_days=1, batch=2)
    reports = [await store.prune(small, T0 + 2 * DAY) for _ in range(3)]
    assert [(report.bodies, report.more) for report in reports] == [(2, True), (2, True), (1, False)]
    pruned = {event.key: event.pruned_at is not None for event in await store.events(EventQuery())}
    assert all(pruned.values()) and len(pruned) == 5


async def test_a_tombstone_is_never_made_due_again(store: Store) -> None:
    await store.record(_delivery(_xaa("1"), at=T0))
    await store.record(_delivery(_xaa("2"), at=T0 + 3 * DAY))
    await _handle_all(store, T0 + 3 * DAY)
    await _prune_all(store, T0 + 3 * DAY)
    assert await store.redispatch(EventQuery(), T0 + 3 * DAY) == 1  # only the one that still has its body
    assert [item.body for item in await store.claim("w", 10, 30.0, T0 + 3 * DAY)] == [_xaa("2")]


async def test_an_event_a_relay_sink_has_still_to_send_keeps_its_body(store: Store) -> None:
    await store.record(_delivery(_xaa("1"), at=T0))
    await store.relay_claim("bus", "r", 10, 30.0, T0 + 1)  # the sink exists, and holds event 1
    await store.record(_delivery(_xaa("2"), at=T0 + 1))  # not yet taken in by the sink
    await _handle_all(store)
    assert (await _prune_all(store, T0 + 5 * DAY)).bodies == 0
    (first,) = await store.relay_claim("bus", "r", 1, 30.0, T0 + 5 * DAY)  # its lease ran out: taken again
    assert await store.relay_complete("bus", [first.event.id], "r", T0 + 5 * DAY) == 1
    assert (await _prune_all(store, T0 + 5 * DAY)).bodies == 1  # the second is taken in now, still to send
    (second,) = await store.relay_claim("bus", "r", 10, 30.0, T0 + 5 * DAY)
    assert second.body == _xaa("2")
    assert await store.relay_complete("bus", [second.event.id], "r", T0 + 5 * DAY) == 1
    assert (await _prune_all(store, T0 + 5 * DAY)).bodies == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"body_days": 0}, "body_days must be positive", id="zero"),
        pytest.param({"batch": -1}, "batch must be positive", id="negative-batch"),
        pytest.param({"tombstone_days": 5}, "tombstone_days must be at least 6", id="tombstones-shorter-than-replay"),
    ],
)
def test_a_policy_out_of_range_is_refused(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RetentionPolicy(**fields)  # type: ignore[arg-type]
    assert RetentionPolicy().tombstone_days * DAY >= TOMBSTONE_FLOOR
