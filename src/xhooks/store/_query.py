"""The SQL WHERE clause for an `EventQuery`, shared by the engines (qmark placeholders; PostgreSQL renumbers)."""

from __future__ import annotations

from typing import Any

from xhooks.store.base import EventQuery

__all__ = ["numbered", "where"]


def numbered(statement: str) -> str:
    """`?` placeholders (the shared query builder's) as PostgreSQL's `$1, $2, …`."""
    parts = statement.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


def where(query: EventQuery) -> tuple[str, list[Any]]:
    """The WHERE clause (and its parameters) selecting the events that `query` describes, ignoring its limit."""
    clauses: list[str] = []
    params: list[Any] = []
    for condition, value in (
        ("app = ?", query.app),
        ("event_type = ?", query.event_type),
        ("for_user_id = ?", query.for_user_id),
        ("status = ?", query.status),
        ("received_at >= ?", query.since),
        ("received_at < ?", query.until),
        ("id < ?", query.after_id),
        ("id = ?", query.event_id),
    ):
        if value is not None:
            clauses.append(condition)
            params.append(value)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else "WHERE 1 = 1"), params
