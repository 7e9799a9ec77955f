"""Versioned schema migrations for every store engine, and the start-up check that refuses an unknown schema.

Each engine has an ordered list of migrations: migration N takes a database from version N - 1 to N, and
migration 1 creates the schema from nothing. The version a database holds is the `schema_version` row of its
`meta` table. A store starting on an empty database creates the newest schema; on any other version than the
newest it refuses to run (`SchemaMismatch`) and says what to do: `xhooks db upgrade --db …` applies the
missing migrations, each in its own transaction, or a newer xhooks is needed for a newer schema.

| version | what it does |
|---|---|
| 1 | creates the schema |
| 2 | re-keys X Activity events by subscription and splits the events the old key merged (`_rekey.py`) |
| 3 | PostgreSQL: intake sets each new event's status (quarantine). SQLite: the relay sinks' tables |
| 4 | PostgreSQL: the relay sinks' tables (`xhooks.relay`). SQLite: the delivery paths (as PostgreSQL's 5) |
| 5 | PostgreSQL: each delivery's path and each event's paths and first times. SQLite: retention (as PostgreSQL's 6) |
| 6 | PostgreSQL: retention and erasure: when bodies went, pruning's indexes, the erasure audit (`retention.py`) |

```python
from xhooks.store.migrations import upgrade
before, after = upgrade("postgresql://xhooks@db.internal/xhooks")   # e.g. (1, 2); (None, 2) on an empty database
```
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from xhooks.errors import SchemaMismatch, StoreError
from xhooks.store import _postgres_schema, _rekey, _sqlite_retention, _sqlite_schema
from xhooks.store._query import numbered
from xhooks.store.registry import engine_for

if TYPE_CHECKING:
    import asyncpg

__all__ = ["POSTGRES", "SQLITE", "Migration", "check", "prepare_postgres", "redact", "steps", "upgrade"]


class Migration(NamedTuple):
    """The statements that take a database from version `version - 1` to `version`."""

    version: int
    statements: tuple[str, ...]
    rekey: bool = False
    """After the statements, re-key X Activity events from their raw bodies (`_rekey.py`)."""


SQLITE: tuple[Migration, ...] = (
    Migration(1, _sqlite_schema.STATEMENTS),
    Migration(2, (), rekey=True),
    Migration(3, _sqlite_schema.RELAY_STATEMENTS),
    Migration(4, _sqlite_schema.V4),
    Migration(5, _sqlite_schema.V5),
)
POSTGRES: tuple[Migration, ...] = (
    Migration(1, _postgres_schema.V1),
    Migration(2, (), rekey=True),
    Migration(3, _postgres_schema.V3),
    Migration(4, _postgres_schema.V4),
    Migration(5, _postgres_schema.V5),
    Migration(6, _postgres_schema.V6),
)

# Two-key advisory locks live apart from the one-key locks intake takes per user.
_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(7001, 1)"


def steps(migrations: Sequence[Migration], found: int | None, where: str) -> tuple[Migration, ...]:
    """The migrations that bring a database at version `found` (None: empty) to the newest, in order.

    Raises:
        SchemaMismatch: `found` is newer than every migration this xhooks knows.
    """
    newest = migrations[-1].version
    if found is not None and found > newest:
        raise SchemaMismatch(
            f"{where} has schema version {found}, newer than this xhooks knows ({newest}); upgrade xhooks"
        )
    return tuple(m for m in migrations if found is None or m.version > found)


def check(migrations: Sequence[Migration], found: int, where: str) -> None:
    """The start-up check: a database must hold exactly the newest version.

    Raises:
        SchemaMismatch: older (with the command that upgrades it) or newer than this xhooks.
    """
    if steps(migrations, found, where):
        raise SchemaMismatch(
            f"{where} has schema version {found}, this xhooks needs {migrations[-1].version};"
            f" run `xhooks db upgrade --db {where}` (after a backup)"
        )


def redact(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))


def _version(value: str | None) -> int | None:
    return None if value is None else int(value)


# -- PostgreSQL ----------------------------------------------------------------------------------------------


async def prepare_postgres(conn: asyncpg.Connection, where: str, *, upgrade: bool = False) -> tuple[int | None, int]:
    """Create the schema on an empty database, check it otherwise, or with `upgrade` apply what is missing.

    Runs in one transaction under an advisory lock, so receivers and workers starting together on an empty
    database create it once. Returns `(version found, version now)`.
    """
    async with conn.transaction():
        await conn.execute(_MIGRATION_LOCK)
        has_meta = await conn.fetchval(_postgres_schema.HAS_META)
        found = _version(await conn.fetchval(_postgres_schema.READ_VERSION) if has_meta else None)
        if found is not None and not upgrade:
            check(POSTGRES, found, where)
            return found, found
        todo = steps(POSTGRES, found, where)
        for migration in todo:
            for statement in migration.statements:
                await conn.execute(statement)
            if migration.rekey:
                await _rekey_postgres(conn)
        newest = POSTGRES[-1].version
        await conn.execute(_postgres_schema.WRITE_VERSION, str(newest))
        return found, newest


async def _rekey_postgres(conn: asyncpg.Connection) -> None:
    keys = [key async for row in conn.cursor(_rekey.EVENTS) if (key := _rekey.rekeyed(row))]
    await conn.executemany(numbered(_rekey.SET_KEY), keys)
    splits, recounts = _rekey.plan([_rekey.sighting(row) async for row in conn.cursor(_rekey.SIGHTINGS)])
    for split in splits:
        new_id = await conn.fetchval(numbered(_rekey.INSERT_EVENT), *split.insert_args())
        await conn.execute(numbered(_rekey.DROP_SIGHTING), split.source, split.delivery_id)
        moves = [(new_id, split.source, later) for later in split.later]
        await conn.executemany(numbered(_rekey.MOVE_SIGHTING), moves)
    await conn.executemany(numbered(_rekey.RECOUNT), recounts)


async def _upgrade_postgres(url: str) -> tuple[int | None, int]:
    import asyncpg

    from xhooks.store._postgres_errors import FOREIGN_ERRORS

    try:
        conn = await asyncpg.connect(url)
    except FOREIGN_ERRORS as exc:
        raise StoreError(f"cannot connect to {redact(url)}: {exc}; is PostgreSQL running?") from exc
    try:
        return await prepare_postgres(conn, redact(url), upgrade=True)
    except FOREIGN_ERRORS as exc:
        raise StoreError(f"could not upgrade {redact(url)}: {exc}") from exc
    finally:
        await conn.close()


# -- SQLite --------------------------------------------------------------------------------------------------


def _rekey_sqlite(conn: sqlite3.Connection) -> None:
    conn.executemany(_rekey.SET_KEY, [key for row in conn.execute(_rekey.EVENTS) if (key := _rekey.rekeyed(row))])
    splits, recounts = _rekey.plan([_rekey.sighting(row) for row in conn.execute(_rekey.SIGHTINGS)])
    conn.execute(_sqlite_schema.DROP_SIGHTING_TRIGGER)  # a recount is not a sighting
    for split in splits:
        (new_id,) = conn.execute(_rekey.INSERT_EVENT, split.insert_args()).fetchone()
        conn.execute(_rekey.DROP_SIGHTING, (split.source, split.delivery_id))
        conn.executemany(_rekey.MOVE_SIGHTING, [(new_id, split.source, later) for later in split.later])
    conn.executemany(_rekey.RECOUNT, recounts)
    conn.execute(_sqlite_schema.SIGHTING_TRIGGER)


def _upgrade_sqlite(path: str) -> tuple[int | None, int]:
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}; check the path and its permissions") from exc
    try:
        conn.execute("BEGIN IMMEDIATE")
        has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        row = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() if has_meta else None
        found = _version(row[0] if row else None)
        for migration in steps(SQLITE, found, path):
            for statement in migration.statements:
                conn.execute(statement)
            if migration.rekey:
                _rekey_sqlite(conn)
        newest = SQLITE[-1].version
        conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema_version', ?)", (str(newest),))
        conn.execute("COMMIT")
        _sqlite_retention.make_incremental(conn)  # so that pruning gives space back (`_sqlite_retention`)
        return found, newest
    except sqlite3.Error as exc:
        raise StoreError(f"could not upgrade {path}: {exc}") from exc
    finally:
        conn.close()


def upgrade(url: str | Path) -> tuple[int | None, int]:
    """Bring the database at `url` (a file path, `sqlite:///PATH` or `postgresql://…`) to the newest schema.

    Returns `(version found, version now)`; the first is None for an empty database. Safe to run while
    nothing else writes; every migration is one transaction. A SQLite file made before incremental vacuum is
    then rewritten once by VACUUM (it needs as much free disk as the file takes).

    Raises:
        SchemaMismatch: the database is newer than this xhooks.
        StoreError: the database cannot be reached or a migration failed (nothing of it is kept).
        ConfigError: the URL names no engine.
    """
    engine, target = engine_for(str(url))
    if engine == "postgres":
        return asyncio.run(_upgrade_postgres(target))
    return _upgrade_sqlite(target)
