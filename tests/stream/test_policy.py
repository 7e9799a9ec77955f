"""The consumer's decisions: its transition table, X's back-off schedule, what a refusal means, the backfill."""

from __future__ import annotations

import pytest

from xhooks.errors import ConfigError
from xhooks.stream.policy import TRANSITIONS, Backoff, Cause, IllegalTransition, StreamState, move, plan_gap, refusal


def test_an_illegal_move_raises_and_leaves_the_state() -> None:
    state = StreamState.CREDITS_EXHAUSTED
    with pytest.raises(IllegalTransition, match="credits_exhausted stream consumer cannot take 'connect'"):
        state = move(state, "connect")
    assert state is StreamState.CREDITS_EXHAUSTED
    assert move(state, "resume") is StreamState.BACKING_OFF


def test_every_state_can_stop_and_stopped_is_final() -> None:
    assert all(move(state, "stop") is StreamState.STOPPED for state in TRANSITIONS if state is not StreamState.STOPPED)
    assert TRANSITIONS[StreamState.STOPPED] == {}


def _backoff() -> Backoff:
    return Backoff(random=lambda: 0.0)


def test_a_dropped_connection_reconnects_at_once_then_network_errors_back_off_linearly() -> None:
    backoff = _backoff()
    assert backoff.delay(Cause.ENDED, 0.0) == 0.0
    assert [backoff.delay(Cause.NETWORK, 0.0) for _ in range(3)] == [0.5, 0.75, 1.0]
    assert Backoff(random=lambda: 0.0, failures=200).delay(Cause.NETWORK, 0.0) == 16.0


def test_http_errors_back_off_exponentially_from_5_to_320_seconds() -> None:
    backoff = _backoff()
    delays = [backoff.delay(Cause.HTTP, 0.0) for _ in range(8)]
    assert delays == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 320.0]
    backoff.connected()
    assert backoff.delay(Cause.HTTP, 0.0) == 5.0


def test_429_waits_a_minute_doubling_and_never_before_the_reset() -> None:
    backoff = _backoff()
    assert backoff.delay(Cause.RATE_LIMITED, 1000.0) == 60.0
    assert backoff.delay(Cause.TOO_MANY_CONNECTIONS, 1000.0, reset=1500.0) == 500.0
    assert backoff.delay(Cause.RATE_LIMITED, 1000.0, reset=1010.0) == 240.0


def test_jitter_adds_up_to_a_quarter() -> None:
    assert Backoff(random=lambda: 1.0).delay(Cause.HTTP, 0.0) == 6.25
    with pytest.raises(ConfigError):
        Backoff(jitter=2.0)


@pytest.mark.parametrize(
    ("status", "body", "cause"),
    [
        pytest.param(402, b'{"title":"CreditsDepleted"}', Cause.CREDITS_EXHAUSTED, id="402"),
        pytest.param(401, b"", Cause.UNAUTHORIZED, id="401"),
        pytest.param(403, b"{}", Cause.UNAUTHORIZED, id="403"),
        pytest.param(429, b'{"connection_issue":"TooManyConnections"}', Cause.TOO_MANY_CONNECTIONS, id="too-many"),
        pytest.param(429, b'{"title":"Too Many Requests"}', Cause.RATE_LIMITED, id="429"),
        pytest.param(429, b"<html>", Cause.RATE_LIMITED, id="429-not-json"),
        pytest.param(503, b"", Cause.HTTP, id="503"),
        pytest.param(400, b"{}", Cause.HTTP, id="400"),
    ],
)
def test_refusals(status: int, body: bytes, cause: Cause) -> None:
    assert refusal(status, body) is cause


def test_backfill_covers_the_gap_in_whole_minutes_at_most_the_limit() -> None:
    assert plan_gap(None, 1000.0, 5, 10.0) == (0, None)  # nothing read yet: nothing to ask back
    assert plan_gap(990.0, 1000.0, 5, 10.0) == (1, None)
    assert plan_gap(1000.0 - 130, 1000.0, 5, 10.0) == (3, None)
    assert plan_gap(1000.0 - 130, 1000.0, 0, 10.0) == (0, (860.0, 1000.0))  # backfill off: the gap is lost
    assert plan_gap(1000.0 - 600, 1000.0, 9, 10.0) == (5, (390.0, 700.0))  # X's 5 minutes, the rest lost
