"""The stream consumer's decisions, without I/O: its states, why a connection ended, how long to wait, and how
much backfill to ask for.

Theory (docs/x-platform.md §13, docs/stream.md). X says a stream will end and the client must reconnect:
at once after an established connection drops, then backing off by the kind of failure: network errors
linearly (+250 ms a try, at most 16 s), HTTP errors exponentially (5 s doubling, at most 320 s), 429 from a
minute, doubling, and never before `x-rate-limit-reset`. Every wait gets up to a quarter more, at random,
so that many consumers do not come back in step. Some answers are not worth retrying in a loop: 402 (the
app's credits are exhausted) and 401/403 (the token is wrong) stop the consumer until it is resumed.

Missed time is asked back with `backfill_minutes`, whole minutes up to 5 (X's limit) and up to what the
caller allows; a gap longer than that cannot come from the stream, and `plan_gap` names the window that
needs another recovery (a webhook replay) or an alert.

The consumer's life; moves are data (`TRANSITIONS`), and an illegal move raises and leaves the state as it was:

```
idle ──connect──▶ connecting ──connected──▶ streaming ──dropped──▶ backing_off ──connect──▶ connecting
connecting ──refused──▶ backing_off
connecting, streaming ──store_down──▶ store_down ──connect──▶ connecting     (reading stops until the store writes)
connecting ──credits──▶ credits_exhausted ──resume──▶ backing_off
connecting ──unauthorized──▶ unauthorized ──resume──▶ backing_off
any state ──stop──▶ stopped
```
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import msgspec

from xhooks.errors import ConfigError
from xhooks.protocol.activity_stream import BACKFILL_LIMIT, TOO_MANY_CONNECTIONS

__all__ = [
    "TRANSITIONS",
    "Backoff",
    "Cause",
    "Gap",
    "IllegalTransition",
    "StreamState",
    "move",
    "plan_gap",
    "refusal",
]

_decoder = msgspec.json.Decoder()


class StreamState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    BACKING_OFF = "backing_off"
    STORE_DOWN = "store_down"
    CREDITS_EXHAUSTED = "credits_exhausted"
    UNAUTHORIZED = "unauthorized"
    STOPPED = "stopped"


_I, _C, _S, _B = StreamState.IDLE, StreamState.CONNECTING, StreamState.STREAMING, StreamState.BACKING_OFF
_D, _X, _U, _T = StreamState.STORE_DOWN, StreamState.CREDITS_EXHAUSTED, StreamState.UNAUTHORIZED, StreamState.STOPPED
TRANSITIONS: dict[StreamState, dict[str, StreamState]] = {
    _I: {"connect": _C, "stop": _T},
    _C: {"connected": _S, "refused": _B, "credits": _X, "unauthorized": _U, "store_down": _D, "stop": _T},
    _S: {"dropped": _B, "store_down": _D, "stop": _T},
    _B: {"connect": _C, "stop": _T},
    _D: {"connect": _C, "stop": _T},
    _X: {"resume": _B, "stop": _T},
    _U: {"resume": _B, "stop": _T},
    _T: {},
}


class IllegalTransition(RuntimeError):
    """The consumer was asked to make a move its state does not allow (a bug in the caller)."""


def move(state: StreamState, event: str) -> StreamState:
    """The state after `event`; raises `IllegalTransition` if `state` does not allow it."""
    target = TRANSITIONS[state].get(event)
    if target is None:
        raise IllegalTransition(f"a {state.value} stream consumer cannot take {event!r}")
    return target


class Cause(enum.Enum):
    """Why the consumer is not reading: how a connection ended, or why it was refused."""

    ENDED = "ended"
    """X closed an established connection (a deploy, a buffer-full drop, an operational disconnect)."""
    SILENT = "silent"
    """No byte, not even a keep-alive, for the silence timeout."""
    NETWORK = "network"
    HTTP = "http"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    CREDITS_EXHAUSTED = "credits_exhausted"
    UNAUTHORIZED = "unauthorized"


def refusal(status: int, body: bytes) -> Cause:
    """What a non-200 answer to `GET /2/activity/stream` means."""
    if status == 402:
        return Cause.CREDITS_EXHAUSTED
    if status in (401, 403):
        return Cause.UNAUTHORIZED
    if status == 429:
        try:
            doc = _decoder.decode(body)
        except msgspec.DecodeError:
            doc = None
        issue = doc.get("connection_issue") if isinstance(doc, dict) else None
        return Cause.TOO_MANY_CONNECTIONS if issue == TOO_MANY_CONNECTIONS else Cause.RATE_LIMITED
    return Cause.HTTP


@dataclass
class Backoff:
    """How long to wait before the next connection attempt (X's schedule, see the module's docstring).

    The figures are X's; tests shrink them. `failures` counts attempts since the last established connection.
    """

    network_step: float = 0.25
    network_max: float = 16.0
    http_first: float = 5.0
    http_max: float = 320.0
    rate_first: float = 60.0
    rate_max: float = 900.0
    jitter: float = 0.25
    random: Callable[[], float] = field(default=random.random, repr=False)
    failures: int = 0

    def __post_init__(self) -> None:
        figures = (self.network_step, self.network_max, self.http_first, self.http_max, self.rate_first)
        if min(figures) < 0 or not 0 <= self.jitter <= 1:
            raise ConfigError("stream back-off figures must be >= 0 and jitter between 0 and 1")

    def connected(self) -> None:
        """A connection was established: the next drop reconnects at once."""
        self.failures = 0

    def delay(self, cause: Cause, now: float, reset: float | None = None) -> float:
        """Seconds to wait after `cause`; `reset` is the `x-rate-limit-reset` X sent (epoch seconds), if any."""
        self.failures += 1
        n = self.failures
        if cause in (Cause.ENDED, Cause.SILENT):
            if n == 1:  # an established connection dropped: reconnect at once
                return 0.0
            base = min(self.network_step * (n - 1), self.network_max)
        elif cause is Cause.NETWORK:
            base = min(self.network_step * n, self.network_max)
        elif cause in (Cause.RATE_LIMITED, Cause.TOO_MANY_CONNECTIONS):
            base = min(self.rate_first * 2 ** (n - 1), self.rate_max)
            if reset is not None:
                base = max(base, reset - now)
        else:
            base = min(self.http_first * 2 ** (n - 1), self.http_max)
        return base * (1 + self.jitter * self.random())


class Gap(NamedTuple):
    """What a (re)connection asks for: `backfill_minutes`, and the older window the stream cannot give back."""

    backfill_minutes: int
    lost: tuple[float, float] | None


def plan_gap(resume_at: float | None, now: float, limit: int, margin: float) -> Gap:
    """The backfill covering `now - resume_at` (plus `margin` for the time an event takes to arrive and for
    clock skew), in whole minutes, at most `limit` (itself at most 5); None as `resume_at` (nothing read yet):
    no backfill. A gap past the limit gives the window before it as `lost`."""
    limit = max(0, min(limit, BACKFILL_LIMIT))
    if resume_at is None:
        return Gap(0, None)
    gap = max(0.0, now - resume_at) + margin
    minutes = min(math.ceil(gap / 60), limit)
    covered_from = now - minutes * 60
    lost = (resume_at - margin, covered_from) if covered_from > resume_at - margin else None
    return Gap(minutes, lost)
