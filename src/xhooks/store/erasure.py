"""Erasure: a user's stored bodies removed on request (GDPR, `xhooks events forget --user`) or on X's own signal
that the user revoked the app's access (`user_event` revoke, `oauth.revoke`), and the bodies of a deleted Post's
events on X's signal that it was deleted (`tweet_delete_events`, `post.delete`), with an audit record of each.

Erasing a user takes, in one transaction, every delivery that carried an event of that `for_user_id` (first or
as a duplicate sighting) and removes its body and headers, as pruning does: each of those events becomes a
tombstone that keeps its key, so a copy X sends again is still a duplicate and is not stored as new. An event
of the user not yet handled can never run without its body: it is given up (the lifecycle's `erase` move, to
`dead`) with the reason as its last error; an error text kept from earlier attempts is replaced too, as it may
quote the body. A relay sink's unfinished rows of those events are given up alike. Then an `ErasureRecord`
says what (`scope`), when, how many and why; `Store.stats` lists the newest ones.

A user this app unsubscribes through xhooks (`xhooks subscriptions remove`, the dashboard) is erased as it asks
X, with the reason `UNSUBSCRIBED`, unless `[retention] erase_on_unsubscribe` is off: X sends no event when an app
removes a subscription, so there is no signal to wait for.

An automatic erasure erases what was stored before X's event that asked for it; that event itself (a revoke, a
delete, which carry ids only) stays for its handlers.

What stays readable: SQLite runs with `secure_delete` on and checkpoints its WAL after an erasure, so the
erased bytes are overwritten in the database file and gone from the WAL (`tests/store/test_sqlite_erasure.py`
greps the files). PostgreSQL keeps the old row versions until VACUUM reclaims them, and its WAL segments,
archives, replicas and backups keep what they hold: xhooks runs no VACUUM for you and cannot reach those.
"""

from __future__ import annotations

import msgspec

from xhooks.protocol.envelope import deleted_posts

__all__ = [
    "ERASE_UNFINISHED",
    "FOREVER",
    "INSERT_ERASURE",
    "POST_DELETE_TYPES",
    "RECENT_ERASURES",
    "RELAY_ERASE",
    "REVOKE_TYPES",
    "UNSUBSCRIBED",
    "ErasureRecord",
    "answer",
    "carrying",
    "erased_error",
    "post_events",
    "unanswered_signals",
    "user_events",
]

REVOKE_TYPES = ("user_event.revoke", "oauth.revoke")
"""The event types by which X says a user revoked the app's access (docs/x-platform.md §8)."""
POST_DELETE_TYPES = ("tweet_delete_events", "post.delete")
"""The event types by which X says a Post was deleted (`xhooks.protocol.envelope.deleted_posts` reads them)."""
UNSUBSCRIBED = "unsubscribed"
"""The reason of the erasure of a user this app unsubscribed through xhooks."""
FOREVER = 2**62
"""`before` when every event counts (no event id reaches it)."""


def _listed(kinds: tuple[str, ...]) -> str:
    return ", ".join(f"'{kind}'" for kind in kinds)


def user_events(user_id: str, before: int) -> tuple[str, list[object]]:
    """The events of a user stored before event id `before` (qmark; PostgreSQL renumbers)."""
    return "SELECT id FROM events WHERE for_user_id = ? AND id < ?", [user_id, before]


def post_events(posts: tuple[str, ...], before: int) -> tuple[str, list[object]]:
    """The events of the Posts `posts` (those keyed by a Post's id: its create, mention, quote events; `fs:<id>`)
    whose first delivery still holds its body, stored before event id `before`. Keys end in `:<post id>`
    (docs/x-platform.md §9); the search runs over the deliveries still holding a body (their partial index), not
    the whole history, and the ids are digits (`deleted_posts`), so a pattern holds no wildcard of its own."""
    likes = " OR ".join("e.key LIKE ?" for _ in posts)
    statement = f"""
        SELECT e.id FROM deliveries d JOIN events e ON e.delivery_id = d.id
        WHERE d.pruned_at IS NULL AND e.id < ? AND e.event_type NOT IN ({_listed(POST_DELETE_TYPES)}) AND ({likes})"""
    return statement, [before, *(f"%:{post}" for post in posts)]


def carrying(marks: str) -> str:
    """The deliveries still holding a body that carried one of the events `marks` (a placeholder list, given
    twice: first deliveries, then sightings)."""
    return f"""
        SELECT d.id FROM deliveries d WHERE d.pruned_at IS NULL AND d.id IN (
            SELECT delivery_id FROM events WHERE id IN ({marks})
            UNION SELECT delivery_id FROM sightings WHERE event_id IN ({marks}))"""


def unanswered_signals(kinds: tuple[str, ...]) -> str:
    """X's events of the types `kinds` (revokes, deletes) that no erasure answered yet, with their bodies: found
    through the events' type index and the audit table, whatever the order their ids were committed in."""
    return f"""
        SELECT e.id, e.for_user_id, e.event_type, d.body FROM events e JOIN deliveries d ON d.id = e.delivery_id
        WHERE e.event_type IN ({_listed(kinds) or "NULL"})
          AND NOT EXISTS (SELECT 1 FROM erasures x WHERE x.event_id = e.id)
        ORDER BY e.id"""


def answer(event_id: int, user_id: str | None, kind: str, body: bytes) -> tuple[str, tuple[str, list[object]]]:
    """What X's event `event_id` asks to erase: its scope, and the query of the events whose bodies go (those
    stored before it; it stays for its handlers). A revoke: its user's events. A delete: the deleted Posts'."""
    if kind in REVOKE_TYPES:
        return f"user:{user_id or '?'}", user_events(user_id or "", event_id) if user_id else _NOTHING
    posts = deleted_posts(body)
    return f"post:{','.join(posts) or '?'}", post_events(posts, event_id) if posts else _NOTHING


_NOTHING: tuple[str, list[object]] = ("SELECT id FROM events WHERE 1 = 0", [])
INSERT_ERASURE = "INSERT INTO erasures (at, reason, scope, deliveries, events, event_id) VALUES (?, ?, ?, ?, ?, ?)"
RECENT_ERASURES = "SELECT at, reason, scope, deliveries, events, event_id FROM erasures ORDER BY id DESC LIMIT 20"
"""The newest audit records, as `Store.stats` lists them."""

# An erased event not yet handled, or a sink's row of it, is given up (the `erase`
# move).
# `{events}` is the list of the erased events' ids (qmark placeholders; PostgreSQL renumbers).
ERASE_UNFINISHED = """
    UPDATE events SET status = 'dead', last_error = ?, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
    WHERE status IN ('pending', 'claimed', 'retry') AND id IN ({events})
"""
RELAY_ERASE = """
    UPDATE relay_events SET status = 'dead', last_error = ?, next_attempt_at = NULL, lease_owner = NULL,
        lease_until = NULL
    WHERE status IN ('pending', 'claimed', 'retry') AND sink IN (SELECT sink FROM relay_sinks)
      AND event_id IN ({events})
"""


def erased_error(reason: str) -> str:
    """The last error an erased event is left with."""
    return f"erased ({reason}): its body is gone"


class ErasureRecord(msgspec.Struct, frozen=True):
    """The audit record of one erasure: what, when, how many, why."""

    at: float
    reason: str
    """Why: `forget` (by hand), or the type of X's event that asked (`oauth.revoke`, `post.delete`, …)."""
    scope: str
    """What: `user:<for_user_id>`, or `post:<id>[,<id>…]`."""
    deliveries: int
    """Deliveries whose body and headers were erased."""
    events: int
    """Events that became tombstones (those not yet handled among them were given up)."""
    event_id: int | None = None
    """X's event that asked for the erasure (a revoke, a delete); None for one asked by hand."""
