"""Pruning on the SQLite engine: the rule of `store/retention.py`, applied by the writer in one transaction.

A body is pruned by deleting its delivery row and inserting it again without body and headers. An UPDATE that
empties the columns would leave each row in place on a page of its own, so no page would ever be freed
(measured: 4000 rows of 2.5 KB, all emptied by UPDATE, freed 0 of 4000 pages; deleted and inserted again,
every page but the stubs' few). Freed pages are given back to the file system at once by incremental vacuum
(`auto_vacuum=INCREMENTAL`, set when the file is created and by `xhooks db upgrade` / `xhooks db vacuum`).
Python's `sqlite3` runs one step of `PRAGMA incremental_vacuum` per `execute`, and each step frees one page,
so the pragma is executed once per free page, up to `_VACUUM_PAGES` per batch.
"""

from __future__ import annotations

import sqlite3

from xhooks.store.erasure import (
    ERASE_UNFINISHED,
    INSERT_ERASURE,
    RELAY_ERASE,
    ErasureRecord,
    answer,
    carrying,
    erased_error,
    unanswered_signals,
)
from xhooks.store.retention import (
    EMPTY_DELIVERIES,
    PruneReport,
    RetentionPolicy,
    expired_tombstones,
    prunable_deliveries,
)

__all__ = ["count", "erase_events", "erase_signalled", "make_incremental", "prune_batch", "vacuum"]

_VACUUM_PAGES = 20_000
"""At most this many free pages are given back per batch (80 MB of 4 KB pages); the rest at the next."""
_CHUNK = 10_000
"""Ids per statement (SQLite allows 32766 parameters)."""
_STUB_COLUMNS = "id, app, received_at, secret_index, shape, path"
EMPTY_HEADERS = b"[]"
INCREMENTAL = 2
"""`PRAGMA auto_vacuum`'s value for INCREMENTAL."""


def _marks(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def prune_batch(cur: sqlite3.Cursor, policy: RetentionPolicy, now: float) -> PruneReport:
    """Prune one batch at `now` inside the writer's open transaction; give the freed pages back."""
    statement, params = prunable_deliveries(policy, now)
    rows = cur.execute(f"{statement} LIMIT ?", [*params, policy.batch]).fetchall()
    ids = [row[0] for row in rows]
    if ids:
        marks = _marks(ids)
        _strip(cur, ids, now)
        cur.execute(
            f"UPDATE events SET pruned_at = ? WHERE pruned_at IS NULL AND delivery_id IN ({marks})", [now, *ids]
        )
        cur.execute(  # the attempts (and their errors) go with the body
            f"DELETE FROM attempts WHERE event_id IN (SELECT id FROM events WHERE delivery_id IN ({marks}))", ids
        )
    statement, params = expired_tombstones(policy, now)
    gone = [row[0] for row in cur.execute(f"{statement} LIMIT ?", [*params, policy.batch]).fetchall()]
    if gone:
        marks = _marks(gone)
        emptied = [
            row[0]
            for row in cur.execute(
                f"SELECT delivery_id FROM events WHERE id IN ({marks})"
                f" UNION SELECT delivery_id FROM sightings WHERE event_id IN ({marks})",
                [*gone, *gone],
            )
        ]
        cur.execute(f"DELETE FROM sightings WHERE event_id IN ({marks})", gone)
        cur.execute(f"DELETE FROM attempts WHERE event_id IN ({marks})", gone)
        cur.execute(
            f"DELETE FROM relay_events WHERE sink IN (SELECT sink FROM relay_sinks) AND event_id IN ({marks})", gone
        )
        cur.execute(f"DELETE FROM events WHERE id IN ({marks})", gone)
        cur.execute(EMPTY_DELIVERIES.format(ids=f"IN ({_marks(emptied)})"), emptied)
    vacuum(cur.connection, _VACUUM_PAGES)
    full = len(ids) == policy.batch or len(gone) == policy.batch
    return PruneReport(len(ids), sum(row[1] for row in rows), len(gone), full)


def _strip(cur: sqlite3.Cursor, ids: list[int], now: float) -> None:
    """Replace deliveries `ids` by stubs without body and headers (deleted, then inserted again: see above)."""
    marks = _marks(ids)
    stubs = cur.execute(f"SELECT {_STUB_COLUMNS} FROM deliveries WHERE id IN ({marks})", ids).fetchall()
    cur.execute(f"DELETE FROM deliveries WHERE id IN ({marks})", ids)
    cur.executemany(
        f"INSERT INTO deliveries ({_STUB_COLUMNS}, headers, body, pruned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*stub, EMPTY_HEADERS, b"", now) for stub in stubs],
    )


def erase_events(
    cur: sqlite3.Cursor,
    query: tuple[str, list[object]],
    scope: str,
    reason: str,
    now: float,
    event_id: int | None = None,
) -> ErasureRecord:
    """Erase what the events `query` selects stored (`store/erasure.py`), and write the audit record."""
    error = erased_error(reason)
    ids = [row[0] for row in cur.execute(*query).fetchall()]
    deliveries = events = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = _marks(chunk)
        carried = [row[0] for row in cur.execute(carrying(marks), [*chunk, *chunk]).fetchall()]
        for first in range(0, len(carried), _CHUNK):
            _strip(cur, carried[first : first + _CHUNK], now)
        deliveries += len(carried)
        cur.execute(ERASE_UNFINISHED.format(events=marks), [error, *chunk])
        cur.execute(RELAY_ERASE.format(events=marks), [error, *chunk])
        events += cur.execute(
            f"UPDATE events SET pruned_at = ? WHERE pruned_at IS NULL AND id IN ({marks})", [now, *chunk]
        ).rowcount
        cur.execute(
            f"UPDATE events SET last_error = ? WHERE last_error IS NOT NULL AND id IN ({marks})", [error, *chunk]
        )
        cur.execute(f"DELETE FROM attempts WHERE event_id IN ({marks})", chunk)
        cur.execute(
            "UPDATE relay_events SET last_error = ? WHERE last_error IS NOT NULL"
            f" AND sink IN (SELECT sink FROM relay_sinks) AND event_id IN ({marks})",
            [error, *chunk],
        )
    record = ErasureRecord(now, reason, scope, deliveries, events, event_id)
    cur.execute(INSERT_ERASURE, (now, reason, scope, deliveries, events, event_id))
    vacuum(cur.connection, _VACUUM_PAGES)
    return record


def erase_signalled(cur: sqlite3.Cursor, now: float, kinds: tuple[str, ...]) -> list[ErasureRecord]:
    """Answer each of X's events of `kinds` (revokes, deletes) that no erasure answered yet."""
    records = []
    for event_id, user_id, kind, body in cur.execute(unanswered_signals(kinds)).fetchall():
        scope, query = answer(event_id, user_id, kind, bytes(body))
        records.append(erase_events(cur, query, scope, kind, now, event_id))
    return records


def vacuum(conn: sqlite3.Connection, pages: int) -> int:
    """Give up to `pages` free pages back to the file system (incremental vacuum); return how many. A file not
    yet migrated to `auto_vacuum=INCREMENTAL` keeps its free pages for reuse (`xhooks db vacuum` migrates it)."""
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] != INCREMENTAL:
        return 0
    (free,) = conn.execute("PRAGMA freelist_count").fetchone()
    steps = min(int(free), pages)
    cur = conn.cursor()
    try:
        for _ in range(steps):
            cur.execute("PRAGMA incremental_vacuum(1)")
    finally:
        cur.close()
    return steps


def count(conn: sqlite3.Connection, policy: RetentionPolicy, now: float) -> PruneReport:
    """What a prune at `now` would remove, without a batch limit (a dry run, on a read connection)."""
    statement, params = prunable_deliveries(policy, now)
    bodies, size = conn.execute(f"SELECT count(*), coalesce(sum(bytes), 0) FROM ({statement})", params).fetchone()
    statement, params = expired_tombstones(policy, now)
    (tombstones,) = conn.execute(f"SELECT count(*) FROM ({statement})", params).fetchone()
    return PruneReport(int(bodies), int(size), int(tombstones))


def make_incremental(conn: sqlite3.Connection) -> bool:
    """Migrate a file made before `auto_vacuum=INCREMENTAL` (a VACUUM rewrites it whole: it needs as much free disk
    as the file takes, and holds the writer until done); True if it had to. Outside any transaction."""
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
        return False
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    conn.execute("VACUUM")
    return True
