"""After an xhooks run: does the store hold every acknowledged delivery, each event exactly once?

With the Python load engine the acknowledged requests are known one by one, so their event keys must all be
in `events`. wrk does not say which requests were answered; it sends the request file in order, so when every
answer was a 200 only the requests still in flight when it stopped (at most one per connection) may be missing.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.load import LoadResult
from xhooks.protocol import parse_envelope

__all__ = ["body_of", "check_store"]


def body_of(request: bytes) -> bytes:
    return request.partition(b"\r\n\r\n")[2]


def _keys(requests: Sequence[bytes], indexes: Any) -> set[str]:
    cache: dict[int, tuple[str, ...]] = {}
    keys: set[str] = set()
    for index in indexes:
        if index not in cache:
            cache[index] = tuple(event.key for event in parse_envelope(body_of(requests[index])).events)
        keys.update(cache[index])
    return keys


def _query(db: str, sql: str) -> list[tuple[Any, ...]]:
    if db.startswith(("postgresql://", "postgres://")):
        import asyncio

        import asyncpg

        async def fetch() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(db)
            try:
                return [tuple(row) for row in await conn.fetch(sql)]
            finally:
                await conn.close()

        return asyncio.run(fetch())
    path = db.removeprefix("sqlite:///")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def check_store(db: str, requests: Sequence[bytes], load: LoadResult) -> dict[str, Any]:
    """Compare the store with what the load generator sent and saw acknowledged; `ok` says whether it holds."""
    deliveries = int(_query(db, "SELECT count(*) FROM deliveries")[0][0])
    events, duplicates = _query(db, "SELECT count(*), coalesce(sum(duplicates), 0) FROM events")[0]
    doubled = int(
        _query(db, "SELECT count(*) FROM (SELECT 1 FROM events GROUP BY app, key HAVING count(*) > 1) d")[0][0]
    )
    stored = {row[0] for row in _query(db, "SELECT key FROM events")}
    issued = load.completed + load.in_flight_at_end
    sent = _keys(requests, (n % len(requests) for n in range(min(issued, len(requests)))))
    phantom = len(stored - sent)
    if load.acked_file is not None:
        acked = array("I")
        acked.frombytes(Path(load.acked_file).read_bytes())
        Path(load.acked_file).unlink()
        missing = len(_keys(requests, acked) - stored)
        allowed_missing = 0
        method = "exact: every acknowledged request's event keys"
    else:
        missing = len(sent - stored)
        allowed_missing = load.in_flight_at_end if load.errors == 0 else len(sent)
        method = "wrk: every issued request's keys, less those still in flight at the end"
    ok = (
        missing <= allowed_missing
        and doubled == 0
        and phantom == 0
        and deliveries >= load.ok
        and events + int(duplicates) >= load.ok
    )
    return {
        "ok": ok,
        "method": method,
        "acknowledged": load.ok,
        "deliveries_stored": deliveries,
        "events_stored": int(events),
        "duplicates_counted": int(duplicates),
        "keys_missing": missing,
        "keys_missing_allowed": allowed_missing,
        "keys_stored_twice": doubled,
        "keys_never_sent": phantom,
    }
