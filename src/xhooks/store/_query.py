"""The SQL the engines share: the WHERE clause for an `EventQuery` (qmark placeholders; PostgreSQL renumbers),
the per-path counts of `Store.stats` and the oldest body of `Store.storage`."""

from __future__ import annotations

from typing import Any

from xhooks.store.base import DeliveryPath, EventQuery

__all__ = [
    "COUNT_BY_PATH",
    "OLDEST_BODY",
    "PATH_NAMES",
    "RELAY_COLUMNS",
    "RELAY_VIEW",
    "SINK_STATS",
    "numbered",
    "source",
    "where",
]

PATH_NAMES = tuple(path.value for path in DeliveryPath)
COUNT_BY_PATH = "SELECT " + ", ".join(f"count({name}_at)" for name in PATH_NAMES) + " FROM events"
"""Events each path carried at least once, in the order of `PATH_NAMES` (the `<path>_at` columns)."""
OLDEST_BODY = "SELECT min(received_at) FROM deliveries WHERE pruned_at IS NULL"
"""When the oldest delivery whose body is kept arrived (`Storage.oldest_body`; the `deliveries_unpruned` index)."""


def numbered(statement: str) -> str:
    """`?` placeholders (the shared query builder's) as PostgreSQL's `$1, $2, …`."""
    parts = statement.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


RELAY_COLUMNS = (
    "e.id, e.app, e.key, e.event_type, e.for_user_id, e.delivery_id, e.idx, e.received_at, r.status, r.attempts,"
    " e.duplicates, e.last_seen_at, r.last_error, e.first_path, e.webhook_at, e.stream_at, e.pruned_at"
)
"""A `StoredEvent` of one sink (`relay_events r` joined to `events e`): the sink's status, attempts and last error."""

RELAY_VIEW = (
    f"(SELECT {RELAY_COLUMNS} FROM relay_events r JOIN events e ON e.id = r.event_id WHERE r.sink = ?) AS events"
)
"""The events one sink took in, under the events table's column names, with the sink's status, attempts and error."""


SINK_STATS = """
    SELECT s.sink,
        count(r.event_id) FILTER (WHERE r.status IN ('pending', 'claimed', 'retry')),
        (SELECT count(*) FROM events e WHERE e.id > s.cursor),
        count(r.event_id) FILTER (WHERE r.status = 'handled'),
        count(r.event_id) FILTER (WHERE r.status = 'dead'),
        count(r.event_id) FILTER (WHERE r.handled_at >= ?),
        max(r.handled_at),
        (SELECT f.last_error FROM relay_events f WHERE f.sink = s.sink AND f.last_error IS NOT NULL
         ORDER BY f.event_id DESC LIMIT 1)
    FROM relay_sinks s LEFT JOIN relay_events r ON r.sink = s.sink
    GROUP BY s.sink, s.cursor ORDER BY s.sink
"""
"""One row per relay sink, the fields of `SinkStats` in order (both engines: SQLite and PostgreSQL have FILTER)."""


def source(query: EventQuery) -> tuple[str, list[Any]]:
    """What `query` reads from (and its parameters): the events table, or with `query.sink` that sink's events."""
    return ("events", []) if query.sink is None else (RELAY_VIEW, [query.sink])


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
