"""Pruning on the PostgreSQL engine: the rule of `store/retention.py`, one batch per transaction.

The batch runs at REPEATABLE READ: if intake (a late duplicate) or a redispatch changes one of its events after
the batch chose them, the batch fails with a serialization error instead of pruning a body that is needed again,
and the next round chooses afresh. Rows another pruner holds are skipped (`SKIP LOCKED`), so pruners of several
processes share the work. The space a pruned body took is reused by later rows once autovacuum has passed; it
is not given back to the file system (that takes `VACUUM FULL`, which locks the table).
"""

from __future__ import annotations

import asyncpg

from xhooks.store._query import numbered
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

__all__ = ["count", "erase_events", "erase_signalled", "prune_batch"]

_EMPTY_DELIVERIES = EMPTY_DELIVERIES.format(ids="= ANY ($1::bigint[])")


async def prune_batch(conn: asyncpg.Connection, policy: RetentionPolicy, now: float) -> PruneReport:
    """Prune one batch at `now`, in one transaction of its own."""
    async with conn.transaction(isolation="repeatable_read"):
        statement, params = prunable_deliveries(policy, now)
        rows = await conn.fetch(numbered(f"{statement} LIMIT ? FOR UPDATE OF d SKIP LOCKED"), *params, policy.batch)
        ids = [int(row[0]) for row in rows]
        if ids:
            await conn.execute(
                "UPDATE deliveries SET body = $2, headers = $3, pruned_at = $4 WHERE id = ANY ($1::bigint[])",
                ids,
                b"",
                b"[]",
                now,
            )
            await conn.execute(
                "UPDATE events SET pruned_at = $2 WHERE pruned_at IS NULL AND delivery_id = ANY ($1::bigint[])",
                ids,
                now,
            )
            await conn.execute(  # the attempts (and their errors) go with the body
                "DELETE FROM attempts WHERE event_id IN (SELECT id FROM events WHERE delivery_id = ANY ($1::bigint[]))",
                ids,
            )
        statement, params = expired_tombstones(policy, now)
        found = await conn.fetch(numbered(f"{statement} LIMIT ? FOR UPDATE OF e SKIP LOCKED"), *params, policy.batch)
        gone = [int(row[0]) for row in found]
        if gone:
            emptied = await conn.fetchval(
                "SELECT coalesce(array_agg(x), '{}') FROM (SELECT delivery_id AS x FROM events WHERE id = ANY ($1)"
                " UNION SELECT delivery_id FROM sightings WHERE event_id = ANY ($1)) AS carried",
                gone,
            )
            await conn.execute("DELETE FROM sightings WHERE event_id = ANY ($1::bigint[])", gone)
            await conn.execute("DELETE FROM attempts WHERE event_id = ANY ($1::bigint[])", gone)
            await conn.execute(
                "DELETE FROM relay_events"
                " WHERE sink IN (SELECT sink FROM relay_sinks) AND event_id = ANY ($1::bigint[])",
                gone,
            )
            await conn.execute("DELETE FROM events WHERE id = ANY ($1::bigint[])", gone)
            await conn.execute(_EMPTY_DELIVERIES, list(emptied))
    full = len(ids) == policy.batch or len(gone) == policy.batch
    return PruneReport(len(ids), sum(int(row[1]) for row in rows), len(gone), full)


async def count(conn: asyncpg.Connection, policy: RetentionPolicy, now: float) -> PruneReport:
    """What a prune at `now` would remove, without a batch limit (a dry run)."""
    statement, params = prunable_deliveries(policy, now)
    bodies, size = await conn.fetchrow(
        numbered(f"SELECT count(*), coalesce(sum(bytes), 0) FROM ({statement}) AS due"), *params
    )
    statement, params = expired_tombstones(policy, now)
    tombstones = await conn.fetchval(numbered(f"SELECT count(*) FROM ({statement}) AS due"), *params)
    return PruneReport(int(bodies), int(size), int(tombstones))


async def erase_events(
    conn: asyncpg.Connection,
    query: tuple[str, list[object]],
    scope: str,
    reason: str,
    now: float,
    event_id: int | None = None,
) -> ErasureRecord:
    """Erase what the events `query` selects stored (`store/erasure.py`), and write the audit record, in the
    caller's transaction."""
    error = erased_error(reason)
    ids = [int(row[0]) for row in await conn.fetch(numbered(query[0]), *query[1])]
    listed = "SELECT unnest(?::bigint[])"
    carried = [int(row[0]) for row in await conn.fetch(numbered(carrying(listed)), ids, ids)]
    if carried:
        await conn.execute(
            "UPDATE deliveries SET body = $2, headers = $3, pruned_at = $4 WHERE id = ANY ($1::bigint[])",
            carried,
            b"",
            b"[]",
            now,
        )
    await conn.execute(numbered(ERASE_UNFINISHED.format(events=listed)), error, ids)
    await conn.execute(numbered(RELAY_ERASE.format(events=listed)), error, ids)
    done = await conn.execute(
        "UPDATE events SET pruned_at = $1 WHERE pruned_at IS NULL AND id = ANY ($2::bigint[])", now, ids
    )
    await conn.execute(
        "UPDATE events SET last_error = $1 WHERE last_error IS NOT NULL AND id = ANY ($2::bigint[])", error, ids
    )
    await conn.execute("DELETE FROM attempts WHERE event_id = ANY ($1::bigint[])", ids)
    await conn.execute(
        "UPDATE relay_events SET last_error = $1 WHERE last_error IS NOT NULL"
        " AND sink IN (SELECT sink FROM relay_sinks) AND event_id = ANY ($2::bigint[])",
        error,
        ids,
    )
    record = ErasureRecord(now, reason, scope, len(carried), int(done.rpartition(" ")[2]), event_id)
    await conn.execute(numbered(INSERT_ERASURE), now, reason, scope, record.deliveries, record.events, event_id)
    return record


async def erase_signalled(conn: asyncpg.Connection, now: float, kinds: tuple[str, ...]) -> list[ErasureRecord]:
    """Answer each of X's events of `kinds` (revokes, deletes) that no erasure answered yet (one transaction;
    another process's pruner skips the events this one holds)."""
    async with conn.transaction():
        records = []
        for row in await conn.fetch(unanswered_signals(kinds) + " FOR UPDATE OF e SKIP LOCKED"):
            scope, query = answer(int(row[0]), row[1], row[2], bytes(row[3]))
            records.append(await erase_events(conn, query, scope, row[2], now, int(row[0])))
        return records
