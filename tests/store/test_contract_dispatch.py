"""What dispatch needs of every engine beyond the base contract: selecting one event by id."""

from __future__ import annotations

import asyncio

import pytest

from tests.store.test_contract import _aaa, _delivery
from xhooks.store import EventQuery, Store


async def test_event_id_selects_exactly_one_event_of_a_delivery(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1", "2", "3")))
    first, second, third = sorted(event.id for event in await store.events(EventQuery()))
    assert [event.id for event in await store.events(EventQuery(event_id=second))] == [second]
    for event_id in (first, second, third):
        claimed = await store.claim("w", 1, 30.0, 2000.0)
        assert [item.event.id for item in claimed] == [event_id]
        assert await store.complete(event_id, "w", 2000.0)
    assert await store.redispatch(EventQuery(event_id=second), 3000.0) == 1
    assert {event.id: event.status for event in await store.events(EventQuery())} == {
        first: "handled",
        second: "pending",
        third: "handled",
    }


async def _waiter(store: Store) -> asyncio.Future[bool]:
    """A waiter blocked in `wait_for_events`, with a timeout no test outlives."""
    await store.wait_for_events(0.0)  # take any wake-up still pending (PostgreSQL: the LISTEN connecting)
    waiting = asyncio.ensure_future(store.wait_for_events(3600.0))
    await asyncio.sleep(0)  # the waiter is now blocked on the store's wake-up
    return waiting


@pytest.mark.parametrize(
    "commit",
    [
        pytest.param("record", id="record"),
        pytest.param("complete", id="complete"),
        pytest.param("fail-dead", id="fail-dead"),
        pytest.param("fail-retry", id="fail-retry"),
        pytest.param("release", id="release"),
        pytest.param("redispatch", id="redispatch"),
    ],
)
async def test_a_commit_wakes_a_waiter_of_this_process_at_once(store: Store, commit: str) -> None:
    """In-process wake-ups, not polling: without them the waiter would sleep its hour (issue 13)."""
    if commit != "record":
        await store.record(_delivery(_aaa("7", "1")))
        (claimed,) = await store.claim("w", 1, 30.0, 10.0)
        if commit == "redispatch":
            await store.complete(claimed.event.id, "w", 11.0)
    waiting = await _waiter(store)
    if commit == "record":
        await store.record(_delivery(_aaa("7", "1")))
    elif commit == "complete":
        await store.complete(claimed.event.id, "w", 11.0)
    elif commit.startswith("fail"):
        await store.fail(claimed.event.id, "w", "boom", 3600.0 if commit == "fail-retry" else None, 11.0)
    elif commit == "release":
        await store.release([claimed.event.id], "w")
    else:
        assert await store.redispatch(EventQuery(), 12.0) == 1
    assert await asyncio.wait_for(waiting, 10.0) is True


async def test_a_wait_ends_when_a_retry_falls_due(store: Store) -> None:
    """A failure whose retry is due at once ends the next wait at once, though nothing else is committed."""
    await store.record(_delivery(_aaa("7", "1")))
    (claimed,) = await store.claim("w", 1, 30.0, 10.0)
    await store.fail(claimed.event.id, "w", "boom", retry_at=11.0, now=11.0)
    woken = [await asyncio.wait_for(store.wait_for_events(3600.0), 10.0) for _ in range(2)]
    assert woken == [True, True]  # the failure's commit, and its retry falling due


async def test_renew_extends_only_the_leases_the_worker_still_holds(store: Store) -> None:
    await store.record(_delivery(_aaa("7", "1")))
    await store.record(_delivery(_aaa("8", "2")))
    mine, theirs = (item.event.id for item in await store.claim("w", 2, 30.0, 10.0))
    await store.release([theirs], "w")
    (taken,) = await store.claim("x", 1, 30.0, 11.0)
    assert taken.event.id == theirs
    assert await store.renew([mine, theirs], "w", 500.0) == 1  # x holds the other one now
    assert await store.renew([], "w", 500.0) == 0
    # at 45 x's lease (to 41) has run out and is taken again; w's renewed one (to 500) is not
    assert [item.event.id for item in await store.claim("y", 10, 30.0, 45.0)] == [theirs]
    assert await store.complete(mine, "w", 46.0)


async def test_every_attempt_is_kept_with_its_times_outcome_and_error(store: Store) -> None:
    from xhooks.store import Attempt
    from xhooks.store.retention import DAY, RetentionPolicy

    await store.record(_delivery(_aaa("7", "1")))
    (first,) = await store.claim("w1", 1, 30.0, 10.0)
    assert await store.fail(first.event.id, "w1", "Traceback …\nKeyError: 'a'", 20.0, 12.0)
    (second,) = await store.claim("w2", 1, 30.0, 20.0)
    assert await store.fail(second.event.id, "w2", "Traceback …\nKeyError: 'b'", None, 25.5)
    assert await store.redispatch(EventQuery(status="dead"), 30.0) == 1
    (third,) = await store.claim("w1", 1, 30.0, 31.0)
    assert not await store.complete(third.event.id, "someone-else", 32.0)  # no lease, no attempt recorded
    assert await store.complete(third.event.id, "w1", 33.0)
    attempts = await store.attempts(first.event.id)
    assert attempts == [
        Attempt(1, "w1", 10.0, 12.0, "retry", "Traceback …\nKeyError: 'a'"),
        Attempt(2, "w2", 20.0, 25.5, "dead", "Traceback …\nKeyError: 'b'"),
        Attempt(1, "w1", 31.0, 33.0, "handled", None),
    ]
    assert [attempt.duration for attempt in attempts] == [2.0, 5.5, 2.0]
    assert (await store.prune(RetentionPolicy(body_days=1), 2 * DAY)).bodies == 1
    assert await store.attempts(first.event.id) == []  # kept as long as the body, no longer
