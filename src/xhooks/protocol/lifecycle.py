"""The life of one stored event, as data: states, the moves between them, and one function that applies a move.

```
received ──store──▶ pending ──claim──▶ claimed ──succeed──▶ handled
                       ▲                 │ │ │ └──ignore──▶ ignored
                       │                 │ │ └──fail──▶ retry ──claim──▶ claimed
                       │                 │ └──give_up──▶ dead
                       └────release──────┘   (lease_expired: claimed ──▶ claimed, by another worker)
handled | ignored | retry | dead ──redispatch──▶ pending
received ──quarantine──▶ quarantined   (terminal: never claimed, never redispatched)
pending | claimed | retry ──erase──▶ dead   (its body was erased: it can never run)
```

An event is ignored when the handlers' registry skips it without running a handler: with
`XHooks(ignore_own_actions=True)`, an event whose actor is the subscribed user itself (a bot's own DM echoed
back by X). It is over, like a handled one, but says that nothing ran.

An event is quarantined when its body cannot be an X event (`Shape.quarantined`: a signed body that is not a
JSON object). It stays stored and visible, but no move leads out of it, so no worker ever leases it.

An event whose body is erased (`xhooks events forget`, or X's signal that the user revoked consent) before it
was handled is given up: `erase` makes it `dead`, and as a tombstone it is never made due again.

This table is the only statement of these rules: the store's `status` column holds `STORED_STATES`, and each
engine's status-changing SQL makes only the moves listed here (`tests/store/test_transitions.py` reads the SQL
against the table).

A move that the table does not list is a bug in the caller; `advance` raises `IllegalTransition` and the
state it was given stays what it was (states are values, nothing is mutated).
"""

from __future__ import annotations

import enum

__all__ = ["SETTLED_STATES", "STORED_STATES", "TRANSITIONS", "DeliveryState", "IllegalTransition", "Move", "advance"]


class DeliveryState(enum.Enum):
    """Where one event is; the stored `status` column holds the values from `pending` on."""

    RECEIVED = "received"
    PENDING = "pending"
    CLAIMED = "claimed"
    HANDLED = "handled"
    IGNORED = "ignored"
    RETRY = "retry"
    DEAD = "dead"
    QUARANTINED = "quarantined"


STORED_STATES: tuple[DeliveryState, ...] = tuple(
    state for state in DeliveryState if state is not DeliveryState.RECEIVED
)
"""The states an event can be stored in (every value its `status` column may hold), in lifecycle order."""


class Move(enum.Enum):
    STORE = "store"
    CLAIM = "claim"
    SUCCEED = "succeed"
    IGNORE = "ignore"
    FAIL = "fail"
    GIVE_UP = "give_up"
    RELEASE = "release"
    LEASE_EXPIRED = "lease_expired"
    REDISPATCH = "redispatch"
    QUARANTINE = "quarantine"
    ERASE = "erase"


_S, _M = DeliveryState, Move

TRANSITIONS: dict[DeliveryState, dict[Move, DeliveryState]] = {
    _S.RECEIVED: {_M.STORE: _S.PENDING, _M.QUARANTINE: _S.QUARANTINED},
    _S.PENDING: {_M.CLAIM: _S.CLAIMED, _M.ERASE: _S.DEAD},
    _S.CLAIMED: {
        _M.SUCCEED: _S.HANDLED,
        _M.IGNORE: _S.IGNORED,
        _M.FAIL: _S.RETRY,
        _M.GIVE_UP: _S.DEAD,
        _M.RELEASE: _S.PENDING,
        _M.LEASE_EXPIRED: _S.CLAIMED,
        _M.ERASE: _S.DEAD,
    },
    _S.RETRY: {_M.CLAIM: _S.CLAIMED, _M.REDISPATCH: _S.PENDING, _M.ERASE: _S.DEAD},
    _S.HANDLED: {_M.REDISPATCH: _S.PENDING},
    _S.IGNORED: {_M.REDISPATCH: _S.PENDING},
    _S.DEAD: {_M.REDISPATCH: _S.PENDING},
    _S.QUARANTINED: {},
}


SETTLED_STATES: tuple[DeliveryState, ...] = tuple(
    state for state in STORED_STATES if not set(TRANSITIONS[state]) - {Move.REDISPATCH}
)
"""The states no worker moves an event out of (only a redispatch does): its handling is over, one way or another."""


class IllegalTransition(RuntimeError):
    """A move that the lifecycle does not allow from the current state (a bug in the caller)."""

    def __init__(self, state: DeliveryState, move: Move) -> None:
        super().__init__(f"cannot {move.value} an event that is {state.value}")
        self.state = state
        self.move = move


def advance(state: DeliveryState, move: Move) -> DeliveryState:
    """The state after `move`. Raises `IllegalTransition` when `move` is not allowed from `state`."""
    try:
        return TRANSITIONS[state][move]
    except KeyError:
        raise IllegalTransition(state, move) from None
