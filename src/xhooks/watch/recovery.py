"""Recovery: find the stretches in which events were missed and get them back with X's replay jobs.

Theory. X retries a failed delivery for about five minutes (0, 6, 36, 281 s), then gives up. What X sent while
the receiver was down for longer, while its store could not commit (503), or while it refused X's signature
(a wrong consumer secret) is lost unless replayed: `POST /2/webhooks/replay` redelivers what X delivered or
attempted in a window of the past 24 hours.

The windows come from spans the receiver keeps in the store:

- `up`, the heartbeat. Beats close together form one span; the time between two spans is downtime: the process
  was down, or the store refused even the heartbeat (unwritable). A window opens only once the receiver beats
  again: replaying into a receiver that is down would fail.
- `rejected`, stretches of POSTs refused because no configured consumer secret made their signature.

Each window is widened by `margin` on both sides and cut to whole minutes, X's `yyyymmddhhmm` (UTC) grain;
`to_date` includes its minute. X's rules are applied before any call: a window is replayed once its end is
at least `ready_delay` in the past (X makes events replayable "roughly 10 minutes after" they happen), and
only from 24 hours ago on (an older start is cut; a window wholly older is lost, and an alert says so). X
runs one job per webhook at a time, so a webhook's jobs run one after another. A job ends when its
`replay_job_status` event reaches the receiver, that is, when it is in the store. `Incomplete` is retried
up to `max_attempts` times; no status within `job_timeout` counts as Incomplete. A complete window is marked
`recovered:<webhook_id>` in the store and is not replayed again, across restarts. Events the receiver
already had come again in the replay; deduplication absorbs them.

A job's life; moves are data (`TRANSITIONS`), and an illegal move raises and leaves the job as it was:

```
waiting ──created──▶ running ──complete──▶ complete
   │                  │   ▲
   │   incomplete,    │   │ created
   │   timeout        ▼   │
   └──expired──▶ failed ◀──exhausted, expired── incomplete
```
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import msgspec

from xhooks.client import AsyncXClient
from xhooks.client.errors import CrcValidationFailed, QueryParamInvalid, ReplayConflictError
from xhooks.clock import Clock
from xhooks.errors import ClientError, StoreError
from xhooks.metrics import Metrics
from xhooks.protocol.replay import MINUTE, REPLAY_WINDOW
from xhooks.store import EventQuery, Span, Store
from xhooks.watch.alerts import Alerts

__all__ = [
    "TRANSITIONS",
    "IllegalTransition",
    "JobState",
    "Recovery",
    "ReplayTask",
    "Window",
    "missed_windows",
    "replay_range",
]

logger = logging.getLogger("xhooks.watch")


class Window(NamedTuple):
    """A stretch of time (Unix seconds) whose events may be missing, and why (`down`, `rejected`, `requested`)."""

    start: float
    end: float
    cause: str


class JobState(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    FAILED = "failed"


_W, _R, _C, _I, _F = JobState.WAITING, JobState.RUNNING, JobState.COMPLETE, JobState.INCOMPLETE, JobState.FAILED
TRANSITIONS: dict[JobState, dict[str, JobState]] = {
    _W: {"created": _R, "expired": _F},
    _R: {"complete": _C, "incomplete": _I, "timeout": _I},
    _I: {"created": _R, "exhausted": _F, "expired": _F},
    _C: {},
    _F: {},
}


class IllegalTransition(RuntimeError):
    """A replay task was asked to make a move its state does not allow (a bug in the caller)."""


@dataclass
class ReplayTask:
    """The recovery of one window for one webhook, over as many replay jobs as it takes."""

    webhook_id: str
    window: Window
    state: JobState = JobState.WAITING
    job_id: str | None = None
    attempts: int = 0
    started_at: float | None = None
    detail: str = ""

    def move(self, event: str) -> None:
        """Apply `event`; raises `IllegalTransition` (and changes nothing) if the state does not allow it."""
        target = TRANSITIONS[self.state].get(event)
        if target is None:
            raise IllegalTransition(f"a {self.state.value} replay task cannot take {event!r}")
        self.state = target


def missed_windows(up: Sequence[Span], rejected: Sequence[Span], margin: float) -> list[Window]:
    """The windows whose events may be missing: gaps between `up` spans and `rejected` spans, each widened by
    `margin` on both sides, overlapping ones merged, oldest first."""
    raw = [Window(before.end, after.start, "down") for before, after in itertools.pairwise(up)]
    raw += [Window(span.start, span.end, "rejected") for span in rejected]
    merged: list[Window] = []
    for start, end, cause in sorted(Window(w.start - margin, w.end + margin, w.cause) for w in raw):
        if merged and start <= merged[-1].end:
            last = merged[-1]
            causes = last.cause if cause in last.cause.split("+") else f"{last.cause}+{cause}"
            merged[-1] = Window(last.start, max(last.end, end), causes)
        else:
            merged.append(Window(start, end, cause))
    return merged


def _covered(window: Window, recovered: Sequence[Span]) -> bool:
    return any(span.start <= window.start and window.end <= span.end for span in recovered)


def replay_range(window: Window, now: float, ready_delay: float) -> tuple[float, float] | None:
    """The first and last minute (UTC, Unix seconds) to ask X for, or None while X's rules forbid it yet.

    Raises:
        ValueError: the window lies wholly before X's 24-hour replay limit: its events are lost.
    """
    if now < window.end + ready_delay:
        return None
    last = math.floor(min(window.end, now) / MINUTE) * MINUTE
    oldest = math.ceil((now - REPLAY_WINDOW) / MINUTE) * MINUTE + MINUTE  # a minute of slack for the call
    first = max(math.floor(window.start / MINUTE) * MINUTE, oldest)
    if first > last:
        raise ValueError(f"the window ended {now - window.end:.0f} s ago; X replays only the past 24 hours")
    return first, last


def _utc(at: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(at, dt.UTC)


class _Status(msgspec.Struct):
    job_id: str | None = None
    job_state: str | None = None


class _StatusBody(msgspec.Struct):
    replay_job_status: _Status | None = None


_status_decoder = msgspec.json.Decoder(_StatusBody)


class Recovery:
    """Turn missed windows into replay jobs and follow them to the end (see the module's docstring).

    `step(webhook_ids)` does one round: read the spans, add tasks for new windows, follow the running job
    of each webhook, and start the next one X allows. The watcher calls it every interval.
    """

    def __init__(
        self,
        client: AsyncXClient,
        store: Store,
        alerts: Alerts,
        clock: Clock,
        *,
        ready_delay: float = 600.0,
        margin: float = 60.0,
        job_timeout: float = 3600.0,
        max_attempts: int = 3,
        down_after: float | None = 120.0,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.alerts = alerts
        self.clock = clock
        self.ready_delay = ready_delay
        self.margin = margin
        self.job_timeout = job_timeout
        self.max_attempts = max_attempts
        self.down_after = down_after
        self.metrics = metrics
        self.tasks: list[ReplayTask] = []

    # -- one round -------------------------------------------------------------------------------------

    async def step(self, webhook_ids: Sequence[str]) -> None:
        """Find new windows for `webhook_ids` (the valid webhooks), then advance each webhook's tasks.

        Raises:
            StoreError: the store could not be read.
        """
        now = self.clock.now()
        since = now - REPLAY_WINDOW - 2 * self.margin
        up = await self.store.spans("up", since)
        rejected = await self.store.spans("rejected", since)
        await self._check_heartbeat(up, now)
        windows = missed_windows(up, rejected, self.margin)
        self.tasks = [t for t in self.tasks if t.state in (JobState.RUNNING, JobState.WAITING) or t.window.end > since]
        for webhook_id in webhook_ids:
            recovered = await self.store.spans(f"recovered:{webhook_id}", since)
            for window in windows:
                if not _covered(window, recovered):
                    self._track(webhook_id, window)
            await self.advance(webhook_id)

    def request(self, webhook_id: str, window: Window) -> ReplayTask:
        """Track a window asked for by hand (`xhooks recover`); `advance` runs it like any other."""
        task = ReplayTask(webhook_id, window)
        self.tasks.append(task)
        return task

    async def advance(self, webhook_id: str) -> None:
        """Follow the running job of `webhook_id`; if none is running, start the oldest task X allows."""
        now = self.clock.now()
        running = next((t for t in self.tasks if t.webhook_id == webhook_id and t.state is JobState.RUNNING), None)
        if running is not None:
            await self._follow(running, now)
        if running is None or running.state is not JobState.RUNNING:
            waiting = [
                t
                for t in self.tasks
                if t.webhook_id == webhook_id and t.state in (JobState.WAITING, JobState.INCOMPLETE)
            ]
            for task in sorted(waiting, key=lambda t: t.window.start):
                if await self._start(task, now):
                    break
        self._export()

    # -- internals -------------------------------------------------------------------------------------

    def _track(self, webhook_id: str, window: Window) -> None:
        for task in self.tasks:
            if task.webhook_id != webhook_id or task.state is JobState.COMPLETE:
                continue  # a window overlapping a complete one but not covered by it holds more to recover
            if task.window.start <= window.end and window.start <= task.window.end:
                if task.state is JobState.WAITING:  # not asked yet: let it grow with a stretch that goes on
                    task.window = Window(
                        min(task.window.start, window.start), max(task.window.end, window.end), window.cause
                    )
                return
        self.tasks.append(ReplayTask(webhook_id, window))
        logger.warning(
            "events may be missing for webhook %s from %s to %s (%s); a replay job will recover them",
            webhook_id,
            _utc(window.start),
            _utc(window.end),
            window.cause,
        )

    async def _check_heartbeat(self, up: Sequence[Span], now: float) -> None:
        if self.down_after is None or not up:
            return
        silent = now - up[-1].end
        if silent > self.down_after:
            await self.alerts.fire("receiver_down", f"no heartbeat from the receiver for {silent:.0f} s")
        else:
            await self.alerts.resolve("receiver_down", "the receiver beats again")

    async def _start(self, task: ReplayTask, now: float) -> bool:
        """Create the task's next replay job if X's rules allow it; True when the webhook is now busy."""
        if task.state is JobState.INCOMPLETE and task.attempts >= self.max_attempts:
            task.move("exhausted")
            await self._failed(task, f"{task.attempts} replay jobs ended Incomplete")
            return False
        try:
            minutes = replay_range(task.window, now, self.ready_delay)
        except ValueError as exc:
            task.move("expired")
            await self._failed(task, str(exc))
            return False
        if minutes is None:
            return False
        try:
            job = await self.client.create_replay_job(task.webhook_id, _utc(minutes[0]), _utc(minutes[1]))
        except ReplayConflictError:
            task.detail = "another replay job of this webhook is running; waiting for it"
            return True
        except CrcValidationFailed as exc:
            task.detail = f"the webhook is invalid; waiting for it to be re-validated ({exc})"
            return True
        except QueryParamInvalid as exc:
            task.move("expired")
            await self._failed(task, str(exc))
            return False
        except ClientError as exc:
            task.detail = f"could not create the replay job: {exc}"
            logger.warning("replay for webhook %s not created: %s", task.webhook_id, exc)
            return True
        task.move("created")
        task.job_id, task.started_at, task.detail = job.job_id, now, ""
        task.attempts += 1
        logger.info(
            "replay job %s for webhook %s: %s to %s", job.job_id, task.webhook_id, _utc(minutes[0]), _utc(minutes[1])
        )
        return True

    async def _follow(self, task: ReplayTask, now: float) -> None:
        assert task.job_id is not None and task.started_at is not None
        state = await self._job_state(task.job_id, task.started_at - self.margin - MINUTE)
        if state == "Complete":
            task.move("complete")
            try:
                await self.store.mark(f"recovered:{task.webhook_id}", task.window.start, task.window.end, 0.0)
            except StoreError as exc:  # the window will be found again and replayed once more: harmless
                logger.warning("could not mark the recovered window: %s", exc)
            logger.info("replay job %s complete: webhook %s recovered", task.job_id, task.webhook_id)
            await self.alerts.resolve(f"replay_failed:{task.webhook_id}", f"webhook {task.webhook_id} recovered")
        elif state is not None:
            task.move("incomplete")
            task.detail = f"replay job {task.job_id} ended {state}"
            logger.warning("replay job %s ended %s; it will be retried", task.job_id, state)
        elif now - task.started_at > self.job_timeout:
            task.move("timeout")
            task.detail = f"no replay_job_status for job {task.job_id} within {self.job_timeout:.0f} s"

    async def _job_state(self, job_id: str, since: float) -> str | None:
        """The `job_state` of `job_id` if its `replay_job_status` event reached the store since `since`."""
        for event in await self.store.events(EventQuery(event_type="replay_job_status", since=since, limit=100)):
            delivery = await self.store.delivery(event.delivery_id)
            if delivery is None:
                continue
            try:
                status = _status_decoder.decode(delivery.body).replay_job_status
            except msgspec.DecodeError:
                continue
            if status is not None and status.job_id == job_id:
                return status.job_state or "Incomplete"
        return None

    async def _failed(self, task: ReplayTask, why: str) -> None:
        task.detail = why
        await self.alerts.fire(
            f"replay_failed:{task.webhook_id}",
            f"events of webhook {task.webhook_id} from {_utc(task.window.start)} to {_utc(task.window.end)}"
            f" could not be recovered: {why}",
        )

    def _export(self) -> None:
        if self.metrics is None:
            return
        for state in JobState:
            self.metrics.replay_jobs.labels(state.value).set(sum(1 for t in self.tasks if t.state is state))
