"""X's replay window: one rule, judged on whole minutes."""

from __future__ import annotations

import pytest

from xhooks.protocol.replay import MINUTE, REPLAY_WINDOW, ReplayProblem, replay_window_problem

NOW = 1_745_524_830.0  # 2025-04-24T20:00:30Z, half a minute into its minute


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        pytest.param(NOW - 3600, NOW, None, id="inside"),
        pytest.param(NOW + 40, NOW + 50, ReplayProblem.FROM_IN_FUTURE, id="from-future"),
        pytest.param(NOW - 60, NOW + 40, ReplayProblem.TO_IN_FUTURE, id="to-future"),
        pytest.param(NOW + 20, NOW + 25, None, id="later-in-this-minute-is-this-minute"),
        pytest.param(NOW - 60, NOW - 120, ReplayProblem.STARTS_AFTER_END, id="reversed"),
        pytest.param(NOW - 25 * 3600, NOW, ReplayProblem.TOO_OLD, id="too-old"),
        pytest.param(NOW - REPLAY_WINDOW, NOW, ReplayProblem.TOO_OLD, id="minute-cut-makes-it-too-old"),
        pytest.param(NOW - REPLAY_WINDOW + MINUTE, NOW, None, id="oldest-minute-allowed"),
    ],
)
def test_replay_window_problem(start: float, end: float, problem: ReplayProblem | None) -> None:
    assert replay_window_problem(start, end, NOW) is problem
