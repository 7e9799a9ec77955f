"""Erasure: a user's stored bodies removed on request (GDPR, `xhooks events forget --user`) or on X's own signal
that the user revoked the app's access (`user_event` revoke, `oauth.revoke`), with an audit record of each.

Erasing a user takes, in one transaction, every delivery that carried an event of that `for_user_id` (first or
as a duplicate sighting) and removes its body and headers, as pruning does: each of those events becomes a
tombstone that keeps its key, so a copy X sends again is still a duplicate and is not stored as new. An event
of the user not yet handled can never run without its body: it is given up (the lifecycle's `erase` move, to
`dead`) with the reason as its last error; an error text kept from earlier attempts is replaced too, as it may
quote the body. A relay sink's unfinished rows of those events are given up alike. Then an `ErasureRecord`
says what (`scope`), when, how many and why; `Store.stats` lists the newest ones.

An automatic erasure (a revoke) erases what the user's events stored before the revoke event; the revoke
event itself stays for its handlers.

What stays readable: SQLite runs with `secure_delete` on and checkpoints its WAL after an erasure, so the
erased bytes are overwritten in the database file and gone from the WAL (`tests/store/test_sqlite_erasure.py`
greps the files). PostgreSQL keeps the old row versions until VACUUM reclaims them, and its WAL segments,
archives, replicas and backups keep what they hold: xhooks runs no VACUUM for you and cannot reach those.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "FOREVER",
    "INSERT_ERASURE",
    "RECENT_ERASURES",
    "REVOKE_TYPES",
    "UNERASED_REVOKES",
    "USER_DELIVERIES",
    "USER_EVENTS",
    "ErasureRecord",
    "erased_error",
]

REVOKE_TYPES = ("user_event.revoke", "oauth.revoke")
"""The event types by which X says a user revoked the app's access (docs/x-platform.md §8)."""
FOREVER = 2**62
"""`before` when every event of the user counts (no event id reaches it)."""

USER_EVENTS = "SELECT id FROM events WHERE for_user_id = ? AND id < ?"
"""The events of a user stored before an event id (qmark; PostgreSQL renumbers)."""
USER_DELIVERIES = f"""
    SELECT d.id FROM deliveries d WHERE d.pruned_at IS NULL AND d.id IN (
        SELECT delivery_id FROM events WHERE id IN ({USER_EVENTS})
        UNION SELECT delivery_id FROM sightings WHERE event_id IN ({USER_EVENTS}))"""
"""The deliveries that still hold a body and carried an event of the user (parameters: user, before, twice)."""


UNERASED_REVOKES = f"""
    SELECT e.id, e.for_user_id, e.event_type FROM events e
    WHERE e.event_type IN ({", ".join(f"'{kind}'" for kind in REVOKE_TYPES)}) AND e.for_user_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM erasures x WHERE x.event_id = e.id)
    ORDER BY e.id"""
"""Revoke events no erasure answered yet (found through the events' type index, whatever their commit order)."""
INSERT_ERASURE = "INSERT INTO erasures (at, reason, scope, deliveries, events, event_id) VALUES (?, ?, ?, ?, ?, ?)"
RECENT_ERASURES = "SELECT at, reason, scope, deliveries, events, event_id FROM erasures ORDER BY id DESC LIMIT 20"
"""The newest audit records, as `Store.stats` lists them."""


def erased_error(reason: str) -> str:
    """The last error an erased event is left with."""
    return f"erased ({reason}): its body is gone"


class ErasureRecord(msgspec.Struct, frozen=True):
    """The audit record of one erasure: what, when, how many, why."""

    at: float
    reason: str
    """Why: `forget` (by hand), `user_event.revoke`, `oauth.revoke`, or the reason given."""
    scope: str
    """What: `user:<for_user_id>`."""
    deliveries: int
    """Deliveries whose body and headers were erased."""
    events: int
    """Events that became tombstones (those not yet handled among them were given up)."""
    event_id: int | None = None
    """The revoke event that asked for the erasure; None for one asked by hand."""
