"""X's replay window for `POST /2/webhooks/replay`, as data and one pure check.

X replays what it delivered (or attempted) in the past 24 hours, between `from_date` and `to_date`, both
inclusive, both whole minutes in UTC (docs/x-platform.md, "Replay"). The client checks a window before
sending it (a mistake costs no API call), the emulator refuses what X refuses, and the watcher plans its
replays inside it: all three ask `replay_window_problem`.
"""

from __future__ import annotations

import enum

__all__ = ["MINUTE", "REPLAY_WINDOW", "ReplayProblem", "replay_window_problem"]

REPLAY_WINDOW = 24 * 3600.0
"""Seconds back from now that X still replays."""
MINUTE = 60.0


class ReplayProblem(enum.Enum):
    """Why X refuses a replay window."""

    FROM_IN_FUTURE = "from_date is in the future"
    TO_IN_FUTURE = "to_date is in the future"
    STARTS_AFTER_END = "from_date is after to_date"
    TOO_OLD = "from_date is more than 24 hours ago"


def replay_window_problem(from_at: float, to_at: float, now: float) -> ReplayProblem | None:
    """Why X would refuse replaying `from_at`..`to_at` at `now` (Unix seconds), or None if it would not.

    X reads both ends as the minutes they fall in: a time is cut to its minute before it is judged.
    """
    first = from_at // MINUTE * MINUTE
    last = to_at // MINUTE * MINUTE
    if first > now:
        return ReplayProblem.FROM_IN_FUTURE
    if last > now:
        return ReplayProblem.TO_IN_FUTURE
    if first > last:
        return ReplayProblem.STARTS_AFTER_END
    if now - first > REPLAY_WINDOW:
        return ReplayProblem.TOO_OLD
    return None
