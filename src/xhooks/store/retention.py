"""Retention: how long the store keeps what X sent, and the one rule that says what may go.

A delivery's raw body and headers are kept while any event it carries still needs them, and for a while after:

- an event that is not finished (`pending`, `claimed`, `retry`: a worker still has to run it) keeps every
  delivery that carried it, however old; so does an event a relay sink has not yet taken in or sent;
- a finished event keeps them for as long as its state's retention says (`RetentionPolicy.keep`): `handled`
  and `ignored` for `body_days`, `dead` (a dead letter) for `dead_days`, `quarantined` for `quarantine_days`,
  counted from when the delivery was received.

When a body goes (it is *pruned*), the delivery keeps its app, time, shape and path, and each event it brought
first becomes a *tombstone*: its key, type, user, status and counts stay, so a late copy of the event from X
(a retry, a replay job) is still a duplicate sighting, not a new event. A tombstone is kept `tombstone_days`
after the event was last seen, and never less than `TOMBSTONE_FLOOR`: X's longest redelivery window
(`REDELIVERY_WINDOW`, docs/x-platform.md §14) and a day's margin. A tombstone is never made due again
(`redispatch` skips it: its handlers would get no body).

The rule is written once, here, as SQL both engines run (`prunable_deliveries`, `expired_tombstones`); each
engine only applies what it selects, in batches of `RetentionPolicy.batch`.

```python
policy = RetentionPolicy(body_days=3)
report = await store.prune(policy, time.time())          # one batch; report.more: call again
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from xhooks.errors import ConfigError
from xhooks.protocol.lifecycle import STORED_STATES, TRANSITIONS, DeliveryState, Move

if TYPE_CHECKING:
    from xhooks.config import Settings

__all__ = [
    "DAY",
    "EMPTY_DELIVERIES",
    "FINISHED_STATES",
    "REDELIVERY_WINDOW",
    "REPLAY_WINDOW",
    "RETRY_WINDOW",
    "TOMBSTONE_FLOOR",
    "UNFINISHED_STATES",
    "PruneReport",
    "RetentionPolicy",
    "expired_tombstones",
    "prunable_deliveries",
]

DAY = 86_400.0
RETRY_WINDOW = 5 * 60.0
"""X retries a delivery it could not hand over for about five minutes (docs/x-platform.md §6, §14)."""
REPLAY_WINDOW = 5 * DAY
"""An Account Activity replay job reaches five days back; `POST /2/webhooks/replay` 24 hours (§7, §14)."""
REDELIVERY_WINDOW = max(RETRY_WINDOW, REPLAY_WINDOW)
"""The longest time after first sending an event in which X may send it again."""
TOMBSTONE_FLOOR = REDELIVERY_WINDOW + DAY
"""Tombstones are kept at least this long: X's window, and a day for a replay job's run and for clocks."""

UNFINISHED_STATES: tuple[DeliveryState, ...] = tuple(
    state for state in STORED_STATES if {Move.CLAIM, Move.SUCCEED, Move.LEASE_EXPIRED} & set(TRANSITIONS[state])
)
"""States a worker (or a relay) still has to finish: an event in one of them keeps its bodies."""
FINISHED_STATES: tuple[DeliveryState, ...] = tuple(state for state in STORED_STATES if state not in UNFINISHED_STATES)
"""States no claim leaves or enters by itself (`handled`, `ignored`, `dead`, `quarantined`): retention applies."""


class PruneReport(msgspec.Struct, frozen=True):
    """What one `Store.prune` call removed (or, in a dry run, would remove now)."""

    bodies: int = 0
    """Deliveries whose raw body and headers went (their events became tombstones)."""
    bytes: int = 0
    """Bytes of body and headers that went with them."""
    tombstones: int = 0
    """Tombstones past `tombstone_days` that went (the event row, its sightings, and deliveries left empty)."""
    more: bool = False
    """A batch was full: call again for the rest (never set by a dry run)."""

    def __add__(self, other: PruneReport) -> PruneReport:
        return PruneReport(
            self.bodies + other.bodies, self.bytes + other.bytes, self.tombstones + other.tombstones, other.more
        )


class RetentionPolicy(msgspec.Struct, frozen=True):
    """How long each kind of stored content is kept, in days, and how pruning runs.

    Defaults: handled bodies 7 days (long enough to look at last week's traffic and re-run it), dead letters
    and quarantined deliveries 30 days (time to notice, fix the handler and `redispatch`), tombstones 30 days
    after an event was last seen (at least `TOMBSTONE_FLOOR`, 6 days). Background pruning runs every 300 s, in
    batches of 500 deliveries per transaction, so it never holds the writer for long, and erases what a user
    who revoked the app's access had stored (`erase_on_revoke`) and the events of deleted Posts
    (`erase_on_delete`); a user this app unsubscribes through xhooks is erased then (`erase_on_unsubscribe`).

    Raises:
        ConfigError: a value is not positive, or `tombstone_days` is shorter than X's redelivery window.
    """

    body_days: float = 7.0
    dead_days: float = 30.0
    quarantine_days: float = 30.0
    tombstone_days: float = 30.0
    batch: int = 500
    interval: float = 300.0
    background: bool = True
    erase_on_revoke: bool = True
    """Each round, erase the stored bodies of a user who revoked the app's access (`store/erasure.py`)."""
    erase_on_delete: bool = True
    """Each round, erase the stored bodies of the events of a Post its author deleted (`store/erasure.py`)."""
    erase_on_unsubscribe: bool = True
    """Erase a user's stored bodies when this app unsubscribes them through xhooks (`xhooks subscriptions remove`,
    the dashboard's Unsubscribe): X sends no event for it, so xhooks erases as it asks X."""

    def __post_init__(self) -> None:
        for name in ("body_days", "dead_days", "quarantine_days", "tombstone_days", "batch", "interval"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"retention {name} must be positive, not {getattr(self, name)!r}")
        if self.tombstone_days * DAY < TOMBSTONE_FLOOR:
            raise ConfigError(
                f"retention tombstone_days must be at least {TOMBSTONE_FLOOR / DAY:g}: X can send an event again"
                f" up to {REDELIVERY_WINDOW / DAY:g} days later (replay), and it must still be a duplicate then"
            )

    def keep(self) -> dict[DeliveryState, float]:
        """Seconds the bodies of an event in each finished state are kept after they were received."""
        kept = {
            DeliveryState.HANDLED: self.body_days * DAY,
            DeliveryState.IGNORED: self.body_days * DAY,  # finished like a handled one: the bot's own echo
            DeliveryState.DEAD: self.dead_days * DAY,
            DeliveryState.QUARANTINED: self.quarantine_days * DAY,
        }
        assert set(kept) == set(FINISHED_STATES), "every finished state needs a retention"
        return kept

    @classmethod
    def from_settings(cls, settings: Settings, explicit: Mapping[str, Any] | None = None) -> RetentionPolicy:
        """The policy from flags (`explicit`, None for a flag not given), else `XHOOKS_RETENTION_<NAME>`, else
        `[retention]` in xhooks.toml, else the defaults.

        Raises:
            ConfigError: a value is not a number (or, for `background`, a boolean), or out of range.
        """
        section = settings.section("retention")
        given = explicit or {}
        fields: dict[str, Any] = {}
        for name, default in zip(cls.__struct_fields__, cls.__struct_defaults__, strict=True):
            raw = section.get(name, given.get(name), default)
            try:
                if isinstance(default, bool):
                    fields[name] = (
                        raw.strip().lower() not in ("0", "false", "no", "off") if isinstance(raw, str) else bool(raw)
                    )
                else:
                    fields[name] = type(default)(raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"retention {name} must be a number, not {raw!r}") from exc
        return cls(**fields)


def _gone(policy: RetentionPolicy, now: float) -> tuple[str, list[Any]]:
    """SQL true when event `e`'s retention has passed for delivery `d` (qmark parameters)."""
    parts = [f"(e.status = '{state.value}' AND d.received_at < ?)" for state in policy.keep()]
    return "(" + " OR ".join(parts) + ")", [now - seconds for seconds in policy.keep().values()]


def _listed(states: tuple[DeliveryState, ...]) -> str:
    return "(" + ", ".join(f"'{state.value}'" for state in states) + ")"


def prunable_deliveries(policy: RetentionPolicy, now: float) -> tuple[str, list[Any]]:
    """`SELECT id, bytes FROM deliveries` whose body and headers may go at `now`, oldest first (qmark; append
    `LIMIT ?` for a batch). The one statement of the rule in this module's docstring."""
    gone, params = _gone(policy, now)
    statement = f"""
        SELECT d.id, length(d.body) + length(d.headers) AS bytes FROM deliveries d
        WHERE d.pruned_at IS NULL AND d.received_at < ?
          AND NOT EXISTS (SELECT 1 FROM events e WHERE e.delivery_id = d.id AND NOT {gone})
          AND NOT EXISTS (
              SELECT 1 FROM sightings s JOIN events e ON e.id = s.event_id WHERE s.delivery_id = d.id AND NOT {gone})
          AND NOT EXISTS (
              SELECT 1 FROM events e, relay_sinks k
              WHERE e.delivery_id = d.id AND (e.id > k.cursor OR EXISTS (
                  SELECT 1 FROM relay_events r
                  WHERE r.sink = k.sink AND r.event_id = e.id AND r.status IN {_listed(UNFINISHED_STATES)})))
        ORDER BY d.received_at, d.id"""
    return statement, [now - min(policy.keep().values()), *params, *params]


def expired_tombstones(policy: RetentionPolicy, now: float) -> tuple[str, list[Any]]:
    """`SELECT id FROM events`: the tombstones past `tombstone_days` at `now`, oldest first (qmark; append
    `LIMIT ?`). The newest event is never among them: SQLite would hand its id out again."""
    statement = """
        SELECT e.id FROM events e
        WHERE e.pruned_at IS NOT NULL AND e.last_seen_at < ? AND e.id < (SELECT max(id) FROM events)
        ORDER BY e.last_seen_at, e.id"""
    return statement, [now - policy.tombstone_days * DAY]


EMPTY_DELIVERIES = """
    DELETE FROM deliveries WHERE id {ids} AND pruned_at IS NOT NULL AND id < (SELECT max(id) FROM deliveries)
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.delivery_id = deliveries.id)
      AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.delivery_id = deliveries.id)"""
"""Delete the pruned deliveries among `{ids}` that no event refers to any more (after tombstones went). The
newest delivery stays: SQLite would hand its id out again."""
