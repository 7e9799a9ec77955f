"""What dispatch needs of every engine beyond the base contract: selecting one event by id."""

from __future__ import annotations

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
