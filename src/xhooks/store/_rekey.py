"""Migration 2: X Activity events re-keyed under the rule of `xhooks.protocol.envelope` (issue 12).

Schema 1 keyed an X Activity event on `event_uuid` alone. X gives a Post event the Post's id as
`event_uuid`, so one Post delivered to two subscriptions (`post.mention.create` for user A, `post.create`
for user B) was stored as one event, the second delivery counted as its duplicate sighting. The migration
recomputes keys from the raw bodies with `parse_envelope`, the function intake keys with (the rule stays
written once), in one transaction:

1. every X Activity event gets the key of the delivery that created it, so a retry or replay of that
   delivery arriving after the upgrade is still its duplicate;
2. every duplicate sighting of such an event is keyed from its own delivery. A sighting whose key differs
   from its event's was a second event merged by the old rule: it becomes an event of its own, `pending`,
   so its handler runs at last; later sightings with its key move with it, and the first event's
   `duplicates`, `last_seen_at` and `last_delivery_id` count only what is left. Nothing is lost and
   nothing is counted twice.

An X Activity delivery holds exactly one event, which is what lets a sighting (a delivery, not an index)
name the event it carries. The statements use `?` placeholders; `_query.numbered` renumbers them for
PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from xhooks.protocol import EventRef, parse_envelope

__all__ = [
    "DROP_SIGHTING",
    "EVENTS",
    "INSERT_EVENT",
    "MOVE_SIGHTING",
    "RECOUNT",
    "SET_KEY",
    "SIGHTINGS",
    "Recount",
    "SightingRow",
    "Split",
    "activity_event",
    "plan",
    "rekeyed",
    "sighting",
]

EVENTS = (
    "SELECT e.id, e.key, d.body FROM events e JOIN deliveries d ON d.id = e.delivery_id"
    " WHERE d.shape = 'activity' ORDER BY e.id"
)
"""Every X Activity event and the body that created it (run before SET_KEY)."""
SET_KEY = "UPDATE events SET key = ? WHERE id = ?"
SIGHTINGS = """
    SELECT e.id, e.key, e.received_at, e.delivery_id, s.delivery_id, s.seen_at, d.body
    FROM sightings s
    JOIN events e ON e.id = s.event_id
    JOIN deliveries o ON o.id = e.delivery_id
    JOIN deliveries d ON d.id = s.delivery_id
    WHERE o.shape = 'activity'
    ORDER BY e.id, s.seen_at, s.delivery_id
"""
"""Every sighting of an X Activity event, with the event's (new) key and its own body, by event then time."""
INSERT_EVENT = """
    INSERT INTO events
        (app, key, event_type, for_user_id, delivery_id, idx, received_at, duplicates, last_seen_at, last_delivery_id)
    SELECT app, ?, ?, ?, ?, 0, ?, ?, ?, ? FROM events WHERE id = ?
    RETURNING id
"""
MOVE_SIGHTING = "UPDATE sightings SET event_id = ? WHERE event_id = ? AND delivery_id = ?"
DROP_SIGHTING = "DELETE FROM sightings WHERE event_id = ? AND delivery_id = ?"
RECOUNT = "UPDATE events SET duplicates = ?, last_seen_at = ?, last_delivery_id = ? WHERE id = ?"


class SightingRow(NamedTuple):
    """One row of SIGHTINGS, its body already keyed by `activity_event`."""

    event_id: int
    event_key: str
    received_at: float
    event_delivery_id: int
    delivery_id: int
    seen_at: float
    ref: EventRef


class Split(NamedTuple):
    """A merged event taken out of `source`: its first sighting becomes the event, the later ones move."""

    source: int
    ref: EventRef
    delivery_id: int
    received_at: float
    later: tuple[int, ...]
    """Delivery ids of the sightings that follow it to the new event."""
    last_seen_at: float
    last_delivery_id: int

    def insert_args(self) -> tuple[object, ...]:
        """INSERT_EVENT's arguments, in its order."""
        return (
            self.ref.key,
            self.ref.event_type,
            self.ref.for_user_id,
            self.delivery_id,
            self.received_at,
            len(self.later),
            self.last_seen_at,
            self.last_delivery_id,
            self.source,
        )


class Recount(NamedTuple):
    """RECOUNT's arguments for an event that lost sightings to splits."""

    duplicates: int
    last_seen_at: float
    last_delivery_id: int
    event_id: int


def activity_event(body: bytes) -> EventRef:
    """The one event of a stored X Activity delivery, keyed as intake keys it now."""
    return parse_envelope(body).events[0]


def rekeyed(row: Sequence[Any]) -> tuple[str, int] | None:
    """SET_KEY's arguments for one row of EVENTS, or None when its key stays."""
    event_id, old, body = row
    new = activity_event(bytes(body)).key
    return None if new == old else (new, event_id)


def sighting(row: Sequence[Any]) -> SightingRow:
    """One row of SIGHTINGS, its body keyed."""
    event_id, event_key, received_at, event_delivery_id, delivery_id, seen_at, body = row
    return SightingRow(
        event_id, event_key, received_at, event_delivery_id, delivery_id, seen_at, activity_event(bytes(body))
    )


def plan(rows: Iterable[SightingRow]) -> tuple[list[Split], list[Recount]]:
    """The splits that undo merges among `rows` (ordered by event, then time), and the recounts they need."""
    splits: list[Split] = []
    recounts: list[Recount] = []
    for event_id, group in itertools.groupby(rows, key=lambda row: row.event_id):
        sightings = list(group)
        kept = [row for row in sightings if row.ref.key == row.event_key]
        if len(kept) == len(sightings):
            continue
        merged: dict[str, list[SightingRow]] = {}
        for row in sightings:
            if row.ref.key != row.event_key:
                merged.setdefault(row.ref.key, []).append(row)
        for same in merged.values():
            first, last = same[0], same[-1]
            later = tuple(row.delivery_id for row in same[1:])
            splits.append(
                Split(event_id, first.ref, first.delivery_id, first.seen_at, later, last.seen_at, last.delivery_id)
            )
        last_seen_at, last_delivery_id = (
            (kept[-1].seen_at, kept[-1].delivery_id)
            if kept
            else (sightings[0].received_at, sightings[0].event_delivery_id)
        )
        recounts.append(Recount(len(kept), last_seen_at, last_delivery_id, event_id))
    return splits, recounts
