"""Erasure on every engine (`store/erasure.py`, issue 15): by hand, on X's revoke events, with audit records."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.test_contract import _aaa, _delivery, _xaa
from xhooks.protocol.envelope import deleted_posts
from xhooks.store import EventQuery, Store
from xhooks.store.erasure import POST_DELETE_TYPES, REVOKE_TYPES, ErasureRecord

T0 = 1_767_225_600.0
FIXTURES = Path(__file__).parents[1] / "fixtures" / "x-api" / "examples"


async def test_forget_erases_a_users_bodies_keeps_their_keys_and_audits_it(store: Store) -> None:
    mine = await store.record(_delivery(_aaa("7", "1", "2"), at=T0))
    copy = await store.record(_delivery(_aaa("7", "2"), at=T0 + 1))  # a duplicate delivery of one of them
    other = await store.record(_delivery(_aaa("8", "3"), at=T0 + 2))
    (claimed,) = await store.claim("w", 1, 30.0, T0 + 3)
    assert await store.fail(claimed.event.id, "w", "Traceback: text 'hi' unreadable", None, T0 + 3)
    record = await store.erase("7", "forget", T0 + 4)
    assert record == ErasureRecord(T0 + 4, "forget", "user:7", deliveries=2, events=2)
    for intake, kept in ((mine, False), (copy, False), (other, True)):
        delivery = await store.delivery(intake.delivery_id)
        assert delivery is not None and bool(delivery.body) is kept and bool(delivery.headers) is kept
    events = {event.key.rpartition(":")[2]: event for event in await store.events(EventQuery())}
    assert {key: event.status for key, event in events.items()} == {"1": "dead", "2": "dead", "3": "pending"}
    # the dead letter's error quoted the body; the pending event could never run without it: both given up
    assert events["1"].last_error == events["2"].last_error == "erased (forget): its body is gone"
    assert events["1"].pruned_at == events["2"].pruned_at == T0 + 4 and events["3"].pruned_at is None
    again = await store.record(_delivery(_aaa("7", "1"), at=T0 + 5))
    assert (again.new_events, again.duplicates) == (0, 1)  # the tombstone still deduplicates
    assert await store.redispatch(EventQuery(for_user_id="7"), T0 + 6) == 0
    assert [item.event.for_user_id for item in await store.claim("w", 10, 30.0, T0 + 6)] == ["8"]
    assert (await store.stats()).erasures == [record]


async def test_a_second_forget_finds_nothing_more_and_is_audited_too(store: Store) -> None:
    await store.record(_delivery(_xaa("1", user="5"), at=T0))
    first = await store.erase("5", "forget", T0 + 1)
    second = await store.erase("5", "GDPR request 12", T0 + 2)
    assert (first.deliveries, first.events, second.deliveries, second.events) == (1, 1, 0, 0)
    assert [record.reason for record in (await store.stats()).erasures] == ["GDPR request 12", "forget"]


@pytest.mark.parametrize("fixture", ["aaa.user_event.revoke.json", "xaa.oauth.revoke.json"])
async def test_a_revoke_event_erases_what_its_user_stored_before_it(store: Store, fixture: str) -> None:
    revoke = (FIXTURES / fixture).read_bytes()
    (revoke_ref,) = _delivery(revoke).events
    user = revoke_ref.for_user_id
    assert user is not None
    before = await store.record(_delivery(_xaa("1", user=user), at=T0))
    untouched = await store.record(_delivery(_xaa("2", user="someone-else"), at=T0))
    await store.record(_delivery(revoke, at=T0 + 1))
    (record,) = await store.erase_signalled(T0 + 2, REVOKE_TYPES)
    assert (record.reason, record.scope, record.deliveries) == (revoke_ref.event_type, f"user:{user}", 1)
    assert record.event_id is not None
    assert await store.erase_signalled(T0 + 3, REVOKE_TYPES) == []  # answered once
    gone, kept = await store.delivery(before.delivery_id), await store.delivery(untouched.delivery_id)
    assert gone is not None and gone.body == b"" and kept is not None and kept.body
    (revoke_event,) = await store.events(EventQuery(event_type=revoke_ref.event_type))
    assert (revoke_event.status, revoke_event.pruned_at) == ("pending", None)  # its handlers still see it


def _post(post_id: str, user: str = "1111111111111111111") -> bytes:
    return (
        f'{{"data":{{"event_uuid":"{post_id}","event_type":"post.create","filter":{{"user_id":"{user}"}},'
        f'"payload":{{"id":"{post_id}","text":"words of post {post_id}"}}}}}}'
    ).encode()


@pytest.mark.parametrize("fixture", ["aaa.tweet_delete_events.json", "xaa.post.delete.json"])
async def test_a_delete_event_erases_the_deleted_posts_events(store: Store, fixture: str) -> None:
    delete = (FIXTURES / fixture).read_bytes()
    (post_id,) = deleted_posts(delete)
    created = await store.record(_delivery(_post(post_id), at=T0))
    other = await store.record(_delivery(_post("1" + post_id[1:] if post_id[0] != "1" else "9" + post_id[1:]), at=T0))
    fs_copy = await store.record(_delivery(f'{{"data":{{"id":"{post_id}","text":"w"}},"matching_rules":[]}}'.encode()))
    await store.record(_delivery(delete, at=T0 + 1))
    assert await store.erase_signalled(T0 + 2, REVOKE_TYPES) == []  # deletes are not asked for here
    (record,) = await store.erase_signalled(T0 + 2, POST_DELETE_TYPES)
    assert (record.scope, record.deliveries, record.events) == (f"post:{post_id}", 2, 2)
    for intake, kept in ((created, False), (fs_copy, False), (other, True)):
        delivery = await store.delivery(intake.delivery_id)
        assert delivery is not None and bool(delivery.body) is kept
    assert await store.erase_signalled(T0 + 3, POST_DELETE_TYPES) == []
    (delete_event,) = await store.events(EventQuery(event_type=record.reason))
    assert delete_event.pruned_at is None  # X's delete event stays for its handlers
