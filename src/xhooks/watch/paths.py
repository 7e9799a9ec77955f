"""One delivery path gone silent while the other carries events: the webhook and the X Activity stream.

X sends an app's X Activity events on the stream and, for subscriptions with a `webhook_id`, to the webhook too
(docs/stream.md). When both carry the same kind of events and one of them stops (the webhook invalid or
unsubscribed at X, the stream consumer wedged, a proxy eating POSTs), the other still fills the store and
nothing looks wrong: the handlers see every event once. The watcher says so: alert `path_silent:<path>`.

The rule reads a sample of the newest events (`SAMPLE`, newest first, an index-backed read however large the
store) and, for each path P:

- what P is expected to carry: the (app, event type, user) triples P carried in the sample (a subscription
  without a webhook sends only to the stream, so the stream's other events are no evidence against the webhook);
- what it missed: the sample's events of those triples that another path carried after P's newest event and
  at least `after` seconds ago (time for P to catch up: X's webhook retries end about 5 minutes after the first
  try, a stream reconnect backfills at most 5 minutes);
- P is silent when it missed at least `least` of them.

Once firing, the alert resolves only when P carries an event newer than the one it had when it fired, so a
long silence that has pushed P out of the sample does not look like a recovery.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xhooks.clock import iso_utc
from xhooks.store import EventQuery, Store
from xhooks.store.base import DeliveryPath, StoredEvent
from xhooks.watch.alerts import Alerts

__all__ = ["SAMPLE", "PathWatch", "Silence", "silent_paths"]

SAMPLE = 2000
"""The newest events the rule reads each round."""


@dataclass(frozen=True)
class Silence:
    """Path `path` carried nothing since `last_at` while others carried `missed` of its kind of events."""

    path: DeliveryPath
    last_at: float
    missed: int

    @property
    def alert(self) -> str:
        return f"path_silent:{self.path.value}"


def _last(events: Sequence[StoredEvent], path: DeliveryPath) -> float | None:
    times = [at for event in events if (at := event.seen_at(path)) is not None]
    return max(times) if times else None


def silent_paths(events: Sequence[StoredEvent], now: float, after: float, least: int) -> list[Silence]:
    """The paths that went silent in `events` (any order) by the module's rule, at `now`."""
    found: list[Silence] = []
    for path in DeliveryPath:
        last = _last(events, path)
        if last is None:
            continue  # no evidence that this path is used at all
        expected = {(e.app, e.event_type, e.for_user_id) for e in events if e.seen_at(path) is not None}
        missed = 0
        for event in events:
            if event.seen_at(path) is not None or (event.app, event.event_type, event.for_user_id) not in expected:
                continue
            others = [at for other in DeliveryPath if other is not path and (at := event.seen_at(other)) is not None]
            if any(last < at <= now - after for at in others):
                missed += 1
        if missed >= least:
            found.append(Silence(path, last, missed))
    return found


class PathWatch:
    """Fire and resolve `path_silent:<path>` from the store's newest events, once per watcher round."""

    def __init__(self, store: Store, alerts: Alerts, *, after: float, least: int, sample: int = SAMPLE) -> None:
        self.store, self.alerts, self.after, self.least, self.sample = store, alerts, after, least, sample
        self._firing: dict[DeliveryPath, float] = {}
        """Each silent path's newest event when its alert fired."""

    async def check(self, now: float) -> list[Silence]:
        events = await self.store.events(EventQuery(limit=self.sample))
        silent = silent_paths(events, now, self.after, self.least)
        for silence in silent:
            other = " and ".join(p.value for p in DeliveryPath if p is not silence.path)
            await self.alerts.fire(
                silence.alert,
                f"the {silence.path.value} path has carried nothing since its event at {iso_utc(silence.last_at)} "
                f"while the {other} carried {silence.missed} events of the same types and users",
            )
            self._firing.setdefault(silence.path, silence.last_at)
        for path, last_at in list(self._firing.items()):
            newest = _last(events, path)
            if newest is not None and newest > last_at and all(s.path is not path for s in silent):
                del self._firing[path]
                await self.alerts.resolve(f"path_silent:{path.value}", f"the {path.value} path carries events again")
        return silent
