"""Pruning on the PostgreSQL engine: the rule of `store/retention.py`, one batch per transaction.

The batch runs at REPEATABLE READ: if intake (a late duplicate) or a redispatch changes one of its events after
the batch chose them, the batch fails with a serialization error instead of pruning a body that is needed again,
and the next round chooses afresh. Rows another pruner holds are skipped (`SKIP LOCKED`), so pruners of several
processes share the work. The space a pruned body took is reused by later rows once autovacuum has passed; it
is not given back to the file system (that takes `VACUUM FULL`, which locks the table).
"""

from __future__ import annotations

import asyncpg

from xhooks.store import _postgres_schema as sql
from xhooks.store._query import numbered
from xhooks.store.erasure import (
    INSERT_ERASURE,
    UNERASED_REVOKES,
    USER_DELIVERIES,
    USER_EVENTS,
    ErasureRecord,
    erased_error,
)
from xhooks.store.retention import (
    EMPTY_DELIVERIES,
    PruneReport,
    RetentionPolicy,
    expired_tombstones,
    prunable_deliveries,
)

__all__ = ["count", "erase_revoked", "erase_user", "prune_batch"]

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


async def erase_user(
    conn: asyncpg.Connection, user_id: str, reason: str, now: float, before: int, event_id: int | None = None
) -> ErasureRecord:
    """Erase what the events of `user_id` stored before event id `before` (`store/erasure.py`), and audit it, in
    the caller's transaction."""
    error = erased_error(reason)
    ids = [int(row[0]) for row in await conn.fetch(numbered(USER_DELIVERIES), user_id, before, user_id, before)]
    if ids:
        await conn.execute(
            "UPDATE deliveries SET body = $2, headers = $3, pruned_at = $4 WHERE id = ANY ($1::bigint[])",
            ids,
            b"",
            b"[]",
            now,
        )
    await conn.execute(sql.ERASE_UNFINISHED, error, user_id, before)
    await conn.execute(sql.RELAY_ERASE, error, user_id, before)
    done = await conn.execute(
        "UPDATE events SET pruned_at = $1 WHERE pruned_at IS NULL AND for_user_id = $2 AND id < $3",
        now,
        user_id,
        before,
    )
    await conn.execute(
        "UPDATE events SET last_error = $1 WHERE last_error IS NOT NULL AND for_user_id = $2 AND id < $3",
        error,
        user_id,
        before,
    )
    await conn.execute(
        numbered(
            "UPDATE relay_events SET last_error = ? WHERE last_error IS NOT NULL"
            f" AND sink IN (SELECT sink FROM relay_sinks) AND event_id IN ({USER_EVENTS})"
        ),
        error,
        user_id,
        before,
    )
    record = ErasureRecord(now, reason, f"user:{user_id}", len(ids), int(done.rpartition(" ")[2]), event_id)
    await conn.execute(numbered(INSERT_ERASURE), now, reason, record.scope, record.deliveries, record.events, event_id)
    return record


async def erase_revoked(conn: asyncpg.Connection, now: float) -> list[ErasureRecord]:
    """Erase, for each revoke event not yet answered, what its user's earlier events stored (one transaction)."""
    async with conn.transaction():
        revokes = await conn.fetch(UNERASED_REVOKES + " FOR UPDATE OF e SKIP LOCKED")
        return [await erase_user(conn, row[1], row[2], now, int(row[0]), int(row[0])) for row in revokes]
