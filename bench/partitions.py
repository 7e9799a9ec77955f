"""PostgreSQL: pruning in batches against dropping a time partition (issue 15: "say whether partitioning by time
is worth it, with a measurement").

```
python -m bench.partitions                 # 200,000 old rows of 2 KB, about 5 minutes (mostly filling)
python -m bench.partitions --rows 50000
```

On a throw-away database of its own (`xhooks_bench_partitions` on the server of `XHOOKS_BENCH_POSTGRES`, default
`postgresql://postgres@127.0.0.1:5432/postgres`; created, and dropped at the end), two tables shaped like the
store's `deliveries` (the same columns, the `deliveries_unpruned` partial index) each get `--rows` old rows
(received 10 days ago, 2 KB bodies of random hex, headers of 300 bytes) and a quarter as many recent ones:

- `plain`, one table, as the store has it. Measured, one after the other, on the same old rows:
  1. `prune`: the body-pruning batches of `store/_postgres_retention.py` (REPEATABLE READ; select 500 due ids
     oldest first `FOR UPDATE SKIP LOCKED`; set body and headers empty and `pruned_at`), until none is due;
  2. `delete`: deleting those rows in batches of 500 ids (what tombstone expiry does to emptied deliveries);
  3. `vacuum`: the `VACUUM` that makes their space reusable (autovacuum would run it).
- `by_day`, partitioned by `received_at` into days (the primary key must then include `received_at`):
  4. `drop`: `DETACH PARTITION` and `DROP TABLE` of the day that holds the same old rows.

While each operation runs, a second connection inserts one delivery row of 2 KB at a time (paced, `--insert-rate`
a second, each its own transaction), and the p50/p99/max of those inserts is compared with a quiet stretch
before. The table's size (`pg_total_relation_size`) is read before and after. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

__all__ = ["main", "summary"]

RESULTS = Path(__file__).resolve().parent / "results"
ADMIN = os.environ.get("XHOOKS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
NAME = "xhooks_bench_partitions"
DAY = 86_400.0
BATCH = 500

COLUMNS = """
    app text NOT NULL, received_at double precision NOT NULL, headers bytea NOT NULL, body bytea NOT NULL,
    secret_index integer NOT NULL, shape text NOT NULL, pruned_at double precision"""
FILL = """
    INSERT INTO {table} (app, received_at, headers, body, secret_index, shape)
    SELECT 'bench', $1 + g * $2, convert_to(repeat('h', 300), 'UTF8'),
           convert_to((SELECT string_agg(md5(random()::text || k || g), '') FROM generate_series(1, 64) AS k), 'UTF8'),
           0, 'aaa'
    FROM generate_series(1, $3) AS g"""
INSERT = (
    "INSERT INTO {table} (app, received_at, headers, body, secret_index, shape) VALUES ('bench', $1, $2, $3, 0, 'aaa')"
)


def percentiles(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of `latencies_s` in milliseconds (NaN when empty)."""
    if not latencies_s:
        return {"p50": math.nan, "p99": math.nan, "max": math.nan}
    ordered = sorted(latencies_s)
    return {
        "p50": ordered[len(ordered) // 2] * 1000,
        "p99": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "max": ordered[-1] * 1000,
    }


def summary(operations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How much faster dropping the partition was than pruning and deleting in batches (with the vacuum), and how
    much of the quiet insert p99 each operation added."""
    batched = sum(operations[name]["seconds"] for name in ("prune", "delete", "vacuum") if name in operations)
    drop = operations["drop"]["seconds"] if "drop" in operations else math.nan
    quiet = {name: op["quiet_inserts_ms"]["p99"] for name, op in operations.items()}
    return {
        "batched_seconds": batched,
        "drop_seconds": drop,
        "speedup": batched / drop if drop and drop > 0 else math.nan,
        "insert_p99_added_ms": {
            name: op["inserts_ms"]["p99"] - quiet[name] for name, op in operations.items() if op["inserts_ms"]
        },
    }


class _Inserter:
    """Inserts one row at a time into `table` at `rate` a second, recording each insert's latency."""

    def __init__(self, conn: asyncpg.Connection, table: str, rate: float) -> None:
        self.conn, self.table, self.rate = conn, table, rate
        self.latencies: list[float] = []
        self.body = os.urandom(1024).hex().encode()
        self._stop = asyncio.Event()

    async def run(self) -> None:
        statement = INSERT.format(table=self.table)
        started = time.perf_counter()
        n = 0
        while not self._stop.is_set():
            due = started + n / self.rate
            n += 1
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            began = time.perf_counter()
            await self.conn.execute(statement, time.time(), b"[]", self.body)
            self.latencies.append(time.perf_counter() - began)

    async def during(self, work: Callable[[], Awaitable[Any]]) -> tuple[Any, float, list[float]]:
        self.latencies, self._stop = [], asyncio.Event()
        task = asyncio.create_task(self.run())
        began = time.perf_counter()
        try:
            result = await work()
        finally:
            seconds = time.perf_counter() - began
            self._stop.set()
            await task
        return result, seconds, self.latencies


async def _size(conn: asyncpg.Connection, table: str) -> int:
    parts = await conn.fetch("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = $1::regclass", table)
    names = [table, *(row[0] for row in parts)]
    return sum([int(await conn.fetchval("SELECT pg_total_relation_size($1::regclass)", name)) for name in names])


async def _prune(conn: asyncpg.Connection, table: str, cutoff: float) -> int:
    """The body-pruning batches of store/_postgres_retention.py, until none is due."""
    total = 0
    while True:
        async with conn.transaction(isolation="repeatable_read"):
            rows = await conn.fetch(
                f"SELECT id FROM {table} WHERE pruned_at IS NULL AND received_at < $1"
                " ORDER BY received_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
                cutoff,
                BATCH,
            )
            ids = [row[0] for row in rows]
            if ids:
                await conn.execute(
                    f"UPDATE {table} SET body = $2, headers = $3, pruned_at = $4 WHERE id = ANY ($1::bigint[])",
                    ids,
                    b"",
                    b"[]",
                    time.time(),
                )
        total += len(ids)
        if len(ids) < BATCH:
            return total
        await asyncio.sleep(0)


async def _delete(conn: asyncpg.Connection, table: str, cutoff: float) -> int:
    """Delete the old rows in batches of `BATCH` ids, oldest first, one transaction each, as tombstone expiry
    deletes the deliveries it emptied (by id)."""
    ids = [row[0] for row in await conn.fetch(f"SELECT id FROM {table} WHERE received_at < $1 ORDER BY id", cutoff)]
    for first in range(0, len(ids), BATCH):
        async with conn.transaction():
            await conn.execute(f"DELETE FROM {table} WHERE id = ANY ($1::bigint[])", ids[first : first + BATCH])
        await asyncio.sleep(0)
    return len(ids)


async def _fill(conn: asyncpg.Connection, table: str, old_start: float, rows: int, recent: int) -> None:
    chunk = 20_000
    for first in range(0, rows, chunk):  # old rows, spread over the first hours of one day
        await conn.execute(FILL.format(table=table), old_start + first * 0.05, 0.05, min(chunk, rows - first))
    now = time.time() - 3_600
    for first in range(0, recent, chunk):
        await conn.execute(FILL.format(table=table), now + first * 0.01, 0.01, min(chunk, recent - first))
    await conn.execute(f"ANALYZE {table}")


async def _measure(
    name: str, conn: asyncpg.Connection, inserter: _Inserter, table: str, work: Callable[[], Awaitable[Any]]
) -> dict[str, Any]:
    before = await _size(conn, table)
    quiet, _, quiet_latencies = await inserter.during(lambda: asyncio.sleep(3.0))
    del quiet
    result, seconds, latencies = await inserter.during(work)
    after = await _size(conn, table)
    op = {
        "seconds": seconds,
        "rows": result,
        "size_before_mb": before / 1e6,
        "size_after_mb": after / 1e6,
        "inserts_ms": percentiles(latencies),
        "inserts": len(latencies),
        "quiet_inserts_ms": percentiles(quiet_latencies),
    }
    print(
        f"  {name:>7}: {seconds:7.2f} s, {result if result is not None else '-'} rows; table"
        f" {op['size_before_mb']:.0f} -> {op['size_after_mb']:.0f} MB; concurrent inserts p50"
        f" {op['inserts_ms']['p50']:.1f} ms p99 {op['inserts_ms']['p99']:.1f} ms max {op['inserts_ms']['max']:.1f} ms"
        f" (quiet p99 {op['quiet_inserts_ms']['p99']:.1f} ms)",
        flush=True,
    )
    return op


async def run(rows: int, insert_rate: float) -> dict[str, Any]:
    admin = await asyncpg.connect(ADMIN)
    await admin.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {NAME}")
    url = ADMIN.rsplit("/", 1)[0] + "/" + NAME
    try:
        conn, side = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            version = await conn.fetchval("SHOW server_version")
            today = math.floor(time.time() / DAY) * DAY
            old_day = today - 10 * DAY
            await conn.execute(f"CREATE TABLE plain (id bigserial PRIMARY KEY, {COLUMNS})")
            await conn.execute("CREATE INDEX plain_unpruned ON plain (received_at) WHERE pruned_at IS NULL")
            await conn.execute(
                f"CREATE TABLE by_day (id bigserial, {COLUMNS}, PRIMARY KEY (id, received_at))"
                " PARTITION BY RANGE (received_at)"
            )
            await conn.execute("CREATE INDEX by_day_unpruned ON by_day (received_at) WHERE pruned_at IS NULL")
            for day in (old_day, today - DAY, today, today + DAY):
                await conn.execute(
                    f"CREATE TABLE by_day_{int(day)} PARTITION OF by_day FOR VALUES FROM ({day}) TO ({day + DAY})"
                )
            started = time.perf_counter()
            recent = rows // 4
            for table in ("plain", "by_day"):
                await _fill(conn, table, old_day, rows, recent)
            print(f"filled: {rows} old and {recent} recent rows in each table ({time.perf_counter() - started:.0f} s)")
            cutoff = today - 5 * DAY
            operations: dict[str, dict[str, Any]] = {}
            plain = _Inserter(side, "plain", insert_rate)
            operations["prune"] = await _measure("prune", conn, plain, "plain", lambda: _prune(conn, "plain", cutoff))
            operations["delete"] = await _measure(
                "delete", conn, plain, "plain", lambda: _delete(conn, "plain", cutoff)
            )

            async def vacuum() -> None:
                await conn.execute("VACUUM plain")

            operations["vacuum"] = await _measure("vacuum", conn, plain, "plain", vacuum)

            count = int(await conn.fetchval(f"SELECT count(*) FROM by_day_{int(old_day)}"))  # not timed

            async def drop() -> int:
                await conn.execute(f"ALTER TABLE by_day DETACH PARTITION by_day_{int(old_day)}")
                await conn.execute(f"DROP TABLE by_day_{int(old_day)}")
                return count

            operations["drop"] = await _measure("drop", conn, _Inserter(side, "by_day", insert_rate), "by_day", drop)
        finally:
            await conn.close()
            await side.close()
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
        await admin.close()
    return {"server_version": version, "rows": rows, "recent_rows": recent, "operations": operations}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.partitions", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="old rows to remove (default 200,000)")
    parser.add_argument("--insert-rate", type=float, default=100.0, help="concurrent inserts a second (100)")
    args = parser.parse_args(argv)
    if not 1_000 <= args.rows <= 2_000_000:
        parser.error("--rows between 1,000 and 2,000,000")
    print(f"partitions: {args.rows} old rows of 2 KB on a throw-away database ({NAME})", flush=True)
    result = asyncio.run(run(args.rows, args.insert_rate))
    result["summary"] = summary(result["operations"])
    result["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    s = result["summary"]
    print(
        f"batched (prune + delete + vacuum) {s['batched_seconds']:.1f} s against drop {s['drop_seconds']:.3f} s"
        f" ({s['speedup']:.0f}x); insert p99 added: "
        + ", ".join(f"{name} {added:+.1f} ms" for name, added in s["insert_p99_added_ms"].items())
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest-partitions.json").write_text(json.dumps(result, indent=1) + "\n")
    print("wrote bench/results/latest-partitions.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
