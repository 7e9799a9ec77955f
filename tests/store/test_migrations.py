"""Schema versions: every engine creates the newest on an empty database, refuses any other at start-up, and
`upgrade` brings an older one forward."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from tests.postgres_support import fresh_schema_url
from xhooks.errors import SchemaMismatch
from xhooks.protocol import parse_envelope
from xhooks.store import Delivery, EventQuery, _postgres_schema, _sqlite_schema
from xhooks.store.migrations import POSTGRES, SQLITE, Migration, check, redact, steps, upgrade
from xhooks.store.postgres import PostgresStore
from xhooks.store.sqlite import SQLiteStore

THREE = (Migration(1, ("a",)), Migration(2, ("b",)), Migration(3, ("c",)))


@pytest.mark.parametrize(
    ("found", "versions"),
    [
        pytest.param(None, [1, 2, 3], id="empty"),
        pytest.param(1, [2, 3], id="older"),
        pytest.param(3, [], id="newest"),
    ],
)
def test_steps_are_the_missing_migrations_in_order(found: int | None, versions: list[int]) -> None:
    assert [m.version for m in steps(THREE, found, "db")] == versions


def test_a_newer_schema_than_known_is_refused() -> None:
    with pytest.raises(SchemaMismatch, match="newer than this xhooks knows.*upgrade xhooks"):
        steps(THREE, 4, "db")


def test_start_up_check_names_the_upgrade_command() -> None:
    check(THREE, 3, "db")
    with pytest.raises(SchemaMismatch, match=r"version 2, this xhooks needs 3; run `xhooks db upgrade --db db`"):
        check(THREE, 2, "db")


def test_every_engine_numbers_its_migrations_from_one() -> None:
    for migrations in (SQLITE, POSTGRES):
        assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert SQLITE[-1].version == _sqlite_schema.SCHEMA_VERSION  # what SQLiteStore checks at start-up


def test_redact_hides_only_the_password() -> None:
    assert (
        redact("postgresql://xhooks:s3cret@db:5432/x?sslmode=require")
        == "postgresql://xhooks:***@db:5432/x?sslmode=require"
    )
    assert redact("postgresql://xhooks@db/x") == "postgresql://xhooks@db/x"
    assert redact("events.db") == "events.db"


def test_sqlite_upgrade_creates_then_has_nothing_to_do(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    assert upgrade(path) == (None, 1)
    assert upgrade(f"sqlite:///{path}") == (1, 1)
    asyncio.run(_start_and_close(SQLiteStore(path)))


async def _start_and_close(store: SQLiteStore | PostgresStore) -> None:
    await store.start()
    await store.close()


@pytest.mark.postgres
async def test_postgres_upgrade_creates_then_a_started_store_accepts_it() -> None:
    url = fresh_schema_url("upgrade")
    assert await asyncio.to_thread(upgrade, url) == (None, POSTGRES[-1].version)
    assert await asyncio.to_thread(upgrade, url) == (POSTGRES[-1].version, POSTGRES[-1].version)
    await _start_and_close(PostgresStore(url))


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("version", "message"),
    [pytest.param("0", "run `xhooks db upgrade", id="older"), pytest.param("99", "upgrade xhooks", id="newer")],
)
async def test_postgres_store_refuses_another_schema_version(version: str, message: str) -> None:
    url = fresh_schema_url("mismatch")
    await _start_and_close(PostgresStore(url))
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("UPDATE meta SET value = $1 WHERE name = 'schema_version'", version)
    finally:
        await conn.close()
    with pytest.raises(SchemaMismatch, match=message):
        await PostgresStore(url).start()


def test_sqlite_store_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    upgrade(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(SchemaMismatch, match="schema version 99"):
        asyncio.run(_start_and_close(SQLiteStore(path)))
    with pytest.raises(SchemaMismatch, match="upgrade xhooks"):
        upgrade(path)


@pytest.mark.postgres
async def test_stores_starting_together_on_an_empty_database_create_it_once() -> None:
    url = fresh_schema_url("together")
    stores = [PostgresStore(url) for _ in range(4)]
    await asyncio.gather(*(store.start() for store in stores))
    await asyncio.gather(*(store.close() for store in stores))


@pytest.mark.postgres
async def test_postgres_v1_database_upgrades_to_an_intake_that_quarantines() -> None:
    """A database made by the previous xhooks (schema 1, its 22-array intake) is upgraded in place (issue 12)."""
    url = fresh_schema_url("v1-upgrade")
    conn = await asyncpg.connect(url)
    try:
        for statement in (*_postgres_schema.V1, (Path(__file__).parent / "postgres_v1_intake.sql").read_text()):
            await conn.execute(statement)
        await conn.execute(_postgres_schema.WRITE_VERSION, "1")
    finally:
        await conn.close()
    with pytest.raises(SchemaMismatch, match="needs 2"):
        await PostgresStore(url).start()
    assert await asyncio.to_thread(upgrade, url) == (1, 2)
    conn = await asyncpg.connect(url)
    try:
        functions = await conn.fetchval(
            "SELECT count(*) FROM pg_proc"
            " WHERE proname = 'xhooks_intake' AND pronamespace = current_schema()::regnamespace"
        )
    finally:
        await conn.close()
    assert functions == 1  # the first version is dropped, not left beside the new one
    store = PostgresStore(url)
    await store.start()
    try:
        body = b"dGhpcy1pcy1hLWNyYy10b2tlbi1mcm9tLXg"
        envelope = parse_envelope(body)
        await store.record(Delivery("/webhook", 1.0, [], body, 0, envelope.shape, envelope.events))
        assert [event.status for event in store.events(EventQuery())] == ["quarantined"]
    finally:
        await store.close()
