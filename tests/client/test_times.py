"""Replay times: friendly input, X's yyyymmddhhmm in UTC, and X's 24-hour window checked before sending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from xhooks.client.times import check_replay_window, parse_time, x_timestamp
from xhooks.errors import ConfigError

NOW = datetime(2025, 4, 24, 22, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("now", NOW, id="now"),
        pytest.param("2h ago", NOW - timedelta(hours=2), id="hours"),
        pytest.param("90 min ago", NOW - timedelta(minutes=90), id="minutes"),
        pytest.param("1 day ago", NOW - timedelta(days=1), id="day"),
        pytest.param("202504242000", datetime(2025, 4, 24, 20, 0, tzinfo=UTC), id="x-format"),
        pytest.param("2025-04-24T20:00:00Z", datetime(2025, 4, 24, 20, 0, tzinfo=UTC), id="iso-z"),
        pytest.param("2025-04-24T22:00+02:00", datetime(2025, 4, 24, 20, 0, tzinfo=UTC), id="iso-offset"),
        pytest.param("2025-04-24 20:00", datetime(2025, 4, 24, 20, 0, tzinfo=UTC), id="naive-is-utc"),
    ],
)
def test_parse_time_forms(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2h", "", "2025-13-40"])
def test_parse_time_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_time(text, NOW)


def test_x_timestamp_is_utc_minutes() -> None:
    assert x_timestamp(datetime(2025, 4, 24, 22, 0, 59, tzinfo=timezone(timedelta(hours=2)))) == "202504242000"
    assert x_timestamp(datetime(2025, 4, 24, 20, 5)) == "202504242005"
    assert x_timestamp("202504242000") == "202504242000"


def test_a_window_inside_the_past_24_hours_passes() -> None:
    check_replay_window(NOW - timedelta(hours=23), NOW, NOW)


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        pytest.param(NOW - timedelta(hours=1), NOW - timedelta(hours=2), "swap", id="reversed"),
        pytest.param(NOW - timedelta(hours=1), NOW + timedelta(hours=1), "future", id="future"),
        pytest.param(NOW - timedelta(hours=25), NOW, "24 hours", id="too-old"),
        pytest.param(NOW - timedelta(hours=24), NOW, "24 hours", id="minute-cut-makes-it-too-old"),
    ],
)
def test_a_window_x_would_refuse_is_refused(start: datetime, end: datetime, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        check_replay_window(start, end, NOW)
