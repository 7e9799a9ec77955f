"""The event lifecycle is a table; a move it does not list raises and changes nothing."""

from __future__ import annotations

import pytest

from xhooks.protocol.lifecycle import TRANSITIONS, DeliveryState, IllegalTransition, Move, advance


def test_happy_path_and_retry_path() -> None:
    state = DeliveryState.RECEIVED
    for move in (Move.STORE, Move.CLAIM, Move.FAIL, Move.CLAIM, Move.GIVE_UP, Move.REDISPATCH, Move.CLAIM):
        state = advance(state, move)
    assert advance(state, Move.SUCCEED) is DeliveryState.HANDLED


def test_illegal_move_raises_and_leaves_the_state_unchanged() -> None:
    state = DeliveryState.HANDLED
    with pytest.raises(IllegalTransition) as raised:
        state = advance(state, Move.SUCCEED)
    assert state is DeliveryState.HANDLED
    assert raised.value.state is DeliveryState.HANDLED and raised.value.move is Move.SUCCEED


def test_claimed_can_be_released_and_every_state_but_quarantined_has_a_way_out() -> None:
    assert advance(DeliveryState.CLAIMED, Move.RELEASE) is DeliveryState.PENDING
    assert set(TRANSITIONS) == set(DeliveryState)
    assert [state for state in DeliveryState if not TRANSITIONS[state]] == [DeliveryState.QUARANTINED]


@pytest.mark.parametrize("move", list(Move), ids=lambda move: move.value)
def test_quarantined_is_terminal(move: Move) -> None:
    """A body that cannot be an X event is never claimed, retried or redispatched (issue 12)."""
    state = advance(DeliveryState.RECEIVED, Move.QUARANTINE)
    assert state is DeliveryState.QUARANTINED
    with pytest.raises(IllegalTransition):
        state = advance(state, move)
    assert state is DeliveryState.QUARANTINED


def test_stored_statuses_are_lifecycle_states() -> None:
    from xhooks.store import EVENT_STATUSES

    assert set(EVENT_STATUSES) <= {state.value for state in DeliveryState}
