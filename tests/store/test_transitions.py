"""Each engine's status-changing SQL makes exactly the lifecycle's moves (`protocol/lifecycle.py`, issue 13).

For every statement that sets `status`, the statuses its WHERE clause accepts for the row being moved must be
exactly the states the table allows its moves from, and the status it sets must be where those moves lead.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import pytest

from xhooks.protocol.lifecycle import STORED_STATES, TRANSITIONS, Move
from xhooks.store import _postgres_schema, _sqlite_schema, erasure, postgres, sqlite

# statement that reads the row's status, statement that sets it, the moves they make together
SQLITE = {
    "claim": ("DUE_EVENTS", "CLAIM", (Move.CLAIM, Move.LEASE_EXPIRED)),
    "complete": ("COMPLETE", "COMPLETE", (Move.SUCCEED, Move.IGNORE)),
    "fail": ("FAIL", "FAIL", (Move.FAIL, Move.GIVE_UP)),
    "release": ("RELEASE", "RELEASE", (Move.RELEASE,)),
    "redispatch": ("REDISPATCH", "REDISPATCH", (Move.REDISPATCH,)),
    # each relay sink's own status per event (`relay_events`) lives by the same table
    "relay claim": ("RELAY_DUE", "RELAY_LEASE", (Move.CLAIM, Move.LEASE_EXPIRED)),
    "relay complete": ("RELAY_COMPLETE", "RELAY_COMPLETE", (Move.SUCCEED,)),
    "relay fail": ("RELAY_FAIL", "RELAY_FAIL", (Move.FAIL, Move.GIVE_UP)),
    "relay release": ("RELAY_RELEASE", "RELAY_RELEASE", (Move.RELEASE,)),
    "relay redispatch": ("RELAY_REDISPATCH", "RELAY_REDISPATCH", (Move.REDISPATCH,)),
    "erase": ("ERASE_UNFINISHED", "ERASE_UNFINISHED", (Move.ERASE,)),
    "relay erase": ("RELAY_ERASE", "RELAY_ERASE", (Move.ERASE,)),
}
POSTGRES = {  # one statement reads and sets
    **SQLITE,
    "claim": ("CLAIM", "CLAIM", (Move.CLAIM, Move.LEASE_EXPIRED)),
    "relay claim": ("RELAY_CLAIM", "RELAY_CLAIM", (Move.CLAIM, Move.LEASE_EXPIRED)),
}
ENGINES = [
    pytest.param(_sqlite_schema, sqlite, SQLITE, id="sqlite"),
    pytest.param(_postgres_schema, postgres, POSTGRES, id="postgres"),
]

_SET_STATUS = re.compile(r"\bSET\s+status\s*=\s*('\w+'|\?|\$\d+)", re.IGNORECASE)
# The row's own status (bare, or aliased `e.` / `c.` / `r.`); `o.status` is another row's (the per-user order check).
_ROW_STATUS = re.compile(r"(?<![\w.])(?:[ecr]\.)?status\s*(NOT\s+IN|IN|=)\s*(\([^)]*\)|'\w+')", re.IGNORECASE)
# A list of statuses, spelled `status IN ('a', 'b')` or `status = 'a' OR status = 'b'` (SQLite's partial index
# and the claim that must match it use the second spelling: an `IN` list is evaluated on every insert).
_OTHER_ROW_STATUS = re.compile(
    r"\bo\.status\s+IN\s*\(([^)]*)\)|((?:\bo\.status\s*=\s*'\w+'\s*(?:OR\s+)?){2,})", re.IGNORECASE
)
_ANY_STATUS_IN = re.compile(
    r"\bstatus\s+IN\s*\(([^)]*)\)|((?:(?<![\w.])status\s*=\s*'\w+'\s*(?:OR\s+)?){2,})", re.IGNORECASE
)


def _values(text: str) -> set[str]:
    return set(re.findall(r"'(\w+)'", text))


def _read(statement: str) -> set[str]:
    """The statuses `statement` accepts for the row it moves (its SET clause left out)."""
    accepted: set[str] = set()
    for operator, operand in _ROW_STATUS.findall(_SET_STATUS.sub("", statement)):
        values = _values(operand)
        stored = {state.value for state in STORED_STATES}
        accepted |= stored - values if operator.upper().startswith("NOT") else values
    return accepted


def _set(statement: str) -> set[str] | None:
    """The status `statement` sets: a literal, or None when it is a parameter (the engine passes it)."""
    (target,) = _SET_STATUS.findall(statement)
    return None if target[0] in "?$" else _values(target)


def _statements(schema: ModuleType) -> dict[str, str]:
    """An engine's statements: its schema module's, and those both engines share (erasure's)."""
    shared = {name: value for name, value in vars(erasure).items() if name.isupper() and isinstance(value, str)}
    return shared | {name: value for name, value in vars(schema).items() if name.isupper() and isinstance(value, str)}


@pytest.mark.parametrize(("schema", "engine", "moves"), ENGINES)
def test_status_changing_sql_makes_only_the_lifecycle_moves(
    schema: ModuleType, engine: ModuleType, moves: dict[str, tuple[str, str, tuple[Move, ...]]]
) -> None:
    statements = _statements(schema)
    for name, (reads, sets, made) in moves.items():
        sources = {state.value for state in STORED_STATES if any(move in TRANSITIONS[state] for move in made)}
        assert _read(statements[reads]) == sources, name
        targets = {
            TRANSITIONS[state][move].value for state in STORED_STATES for move in made if move in TRANSITIONS[state]
        }
        written = _set(statements[sets])
        assert written is None or written == targets, name
        assert written is not None or len(made) > 1, f"{name}: a parameter status needs a choice of moves"


@pytest.mark.parametrize(("schema", "engine", "moves"), ENGINES)
def test_every_status_changing_statement_is_checked(
    schema: ModuleType, engine: ModuleType, moves: dict[str, tuple[str, str, tuple[Move, ...]]]
) -> None:
    """No statement that sets `status` escapes the test above, in the schema module or inline in the engine."""
    checked = {sets for _, sets, _ in moves.values()}
    assert {name for name, text in _statements(schema).items() if _SET_STATUS.search(text)} == checked
    assert not _SET_STATUS.search(Path(str(engine.__file__)).read_text())


@pytest.mark.parametrize("schema", [_sqlite_schema, _postgres_schema], ids=["sqlite", "postgres"])
def test_unfinished_means_the_states_a_worker_still_has_to_finish(schema: ModuleType) -> None:
    """The per-user order check (`o.status IN …`) and the partial indexes list the unfinished states: those a
    claim or a completion can still leave."""
    unfinished = {
        state.value
        for state in STORED_STATES
        if {Move.CLAIM, Move.SUCCEED, Move.LEASE_EXPIRED} & set(TRANSITIONS[state])
    }
    tables = getattr(schema, "STATEMENTS", None) or schema.V1
    handlers = {name: text for name, text in _statements(schema).items() if not name.startswith("RELAY_")}
    lists = [found for text in handlers.values() for found in _OTHER_ROW_STATUS.findall(text)]
    lists += [found for text in tables for found in _ANY_STATUS_IN.findall(text)]
    assert len(lists) >= 2
    assert [_values("".join(found)) for found in lists] == [unfinished] * len(lists)
    # A relay leases one user's pending events together, as a run in arrival order, so only a claimed or
    # retrying older event of that user holds the later ones back.
    relay = [
        found
        for name, text in _statements(schema).items()
        if name.startswith("RELAY_")
        for found in _OTHER_ROW_STATUS.findall(text)
    ]
    assert [_values("".join(found)) for found in relay] == [unfinished - {"pending"}]
