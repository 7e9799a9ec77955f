"""Times for replay jobs: X's `yyyymmddhhmm` UTC format, friendly input, and X's replay window.

The window rule itself is `xhooks.protocol.replay`; here it is checked before sending, so a mistake
costs no API call, with advice for the command line. `now` is always passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from xhooks.errors import ConfigError
from xhooks.protocol.replay import ReplayProblem, replay_window_problem

__all__ = ["check_replay_window", "parse_time", "x_timestamp"]

_AGO = re.compile(r"\s*(\d+)\s*(s|sec|m|min|h|hour|hours|d|day|days)\s+ago\s*", re.IGNORECASE)
_UNITS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}
_X_FORMAT = "%Y%m%d%H%M"


def x_timestamp(value: datetime | str) -> str:
    """`value` as X's `yyyymmddhhmm` in UTC; a string is passed through unchanged.

    A naive datetime is taken to be UTC.

    ```python
    >>> x_timestamp(datetime(2025, 4, 24, 20, 0, tzinfo=UTC))
    '202504242000'
    ```
    """
    if isinstance(value, str):
        return value
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_X_FORMAT)


def parse_time(text: str, now: datetime) -> datetime:
    """Read `now`, `2h ago` (s, m, h, d), X's `yyyymmddhhmm`, or an ISO 8601 time (naive means UTC).

    Raises:
        ConfigError: none of these forms.
    """
    text = text.strip()
    if text.lower() == "now":
        return now
    match = _AGO.fullmatch(text)
    if match:
        return now - timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2).lower()])
    try:
        if re.fullmatch(r"\d{12}", text):
            return datetime.strptime(text, _X_FORMAT).replace(tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None:
        raise ConfigError(f"cannot read the time {text!r}; use ISO 8601 (2025-04-24T20:00Z), yyyymmddhhmm or '2h ago'")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_replay_window(from_date: datetime, to_date: datetime, now: datetime) -> None:
    """Refuse a replay window that X would refuse.

    Raises:
        ConfigError: `from_date` after `to_date`, either in the future, or `from_date` (cut to its minute, as
            X reads it) older than 24 hours.
    """
    problem = replay_window_problem(from_date.timestamp(), to_date.timestamp(), now.timestamp())
    if problem is not None:
        raise ConfigError(_ADVICE[problem])


_ADVICE = {
    ReplayProblem.FROM_IN_FUTURE: "the replay window ends in the future; use a time up to now",
    ReplayProblem.TO_IN_FUTURE: "the replay window ends in the future; use a time up to now",
    ReplayProblem.STARTS_AFTER_END: "the replay window starts after it ends; swap --from and --to",
    ReplayProblem.TOO_OLD: "X replays only the past 24 hours; start the window at most 24h ago",
}
