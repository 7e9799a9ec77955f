"""Schema versions: every engine creates the newest on an empty database, refuses any other at start-up, and
`upgrade` brings an older one forward."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from tests.postgres_support import fresh_schema_url
from tests.store.conftest import EngineFactory
from xhooks.errors import SchemaMismatch
from xhooks.protocol import parse_envelope
from xhooks.store import (
    Delivery,
    DeliveryPath,
    EventQuery,
    Store,
    StoredEvent,
    _postgres_schema,
    _rekey,
    _sqlite_schema,
)
from xhooks.store._query import numbered
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
    newest = SQLITE[-1].version
    assert upgrade(path) == (None, newest)
    assert upgrade(f"sqlite:///{path}") == (newest, newest)
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


# -- migration 2: X Activity events re-keyed by subscription (issue 12) ---------------------------------------

POST = "2080765813578191303"


def _activity(event_type: str, user: str) -> bytes:
    """One Post as X delivers it to a subscription: `event_uuid` is the Post's id."""
    return (
        f'{{"data":{{"event_uuid":"{POST}","filter":{{"user_id":"{user}"}},"event_type":"{event_type}",'
        f'"payload":{{"id":"{POST}","author_id":"B","text":"@A hi"}}}}}}'
    ).encode()


MENTION, CREATE = _activity("post.mention.create", "A"), _activity("post.create", "B")


def _delivery(body: bytes, at: float) -> Delivery:
    return Delivery.received("/webhook", body, at)


# What schema 1's intake did with an X Activity delivery: the event keyed `xaa:<event_uuid>`, a repeated key
# counted as a duplicate with a sighting (SQLite's trigger records it; on PostgreSQL the intake function did).
V1_DELIVERY = (
    "INSERT INTO deliveries (app, received_at, headers, body, secret_index, shape)"
    " VALUES ('/webhook', ?, ?, ?, 0, 'activity') RETURNING id"
)
V1_EVENT = """
    INSERT INTO events AS e
        (app, key, event_type, for_user_id, delivery_id, idx, received_at, last_seen_at, last_delivery_id)
    VALUES ('/webhook', ?, ?, ?, ?, 0, ?, ?, ?)
    ON CONFLICT (app, key) DO UPDATE SET
        duplicates = e.duplicates + 1, last_seen_at = excluded.last_seen_at, last_delivery_id = excluded.delivery_id
"""
V1_SIGHTING = "INSERT INTO sightings (event_id, delivery_id, seen_at) SELECT id, ?, ? FROM events WHERE key = ?"


def _v1_event(body: bytes, at: float, delivery_id: int) -> tuple[object, ...]:
    (event,) = parse_envelope(body).events
    return f"xaa:{POST}", event.event_type, event.for_user_id, delivery_id, at, at, delivery_id


async def _schema_1_store(make_store: EngineFactory, tmp_path: Path, *bodies: tuple[bytes, float]) -> Store:
    """A database as schema 1 left it (migration 1's tables, version 1), holding `bodies` as its intake did."""
    store = make_store(tmp_path)
    if isinstance(store, SQLiteStore):
        with contextlib.closing(sqlite3.connect(store.path)) as db, db:
            for statement in SQLITE[0].statements:
                db.execute(statement)
            db.execute("INSERT INTO meta (name, value) VALUES ('schema_version', '1')")
            for body, at in bodies:
                (delivery_id,) = db.execute(V1_DELIVERY, (at, b"[]", body)).fetchone()
                db.execute(V1_EVENT, _v1_event(body, at, delivery_id))
        return store
    assert isinstance(store, PostgresStore)
    conn = await asyncpg.connect(store.url)
    try:
        for statement in POSTGRES[0].statements:
            await conn.execute(statement)
        await conn.execute(_postgres_schema.WRITE_VERSION, "1")
        for body, at in bodies:
            delivery_id = await conn.fetchval(numbered(V1_DELIVERY), at, b"[]", body)
            seen = await conn.fetchval("SELECT count(*) FROM events WHERE key = $1", f"xaa:{POST}")
            await conn.execute(numbered(V1_EVENT), *_v1_event(body, at, delivery_id))
            if seen:
                await conn.execute(numbered(V1_SIGHTING), delivery_id, at, f"xaa:{POST}")
    finally:
        await conn.close()
    return store


def _target(store: Store) -> str:
    return store.path if isinstance(store, SQLiteStore) else store.url  # type: ignore[attr-defined]


def _newest(store: Store) -> int:
    return (SQLITE if isinstance(store, SQLiteStore) else POSTGRES)[-1].version


def _reopen(store: Store) -> Store:
    return SQLiteStore(store.path) if isinstance(store, SQLiteStore) else PostgresStore(_target(store))


async def _by_type(store: Store) -> dict[str, StoredEvent]:
    return {event.event_type: event for event in await store.events(EventQuery())}


async def test_upgrade_rekeys_old_activity_events_so_retries_match_and_other_subscriptions_are_new(
    make_store: EngineFactory, tmp_path: Path
) -> None:
    old = await _schema_1_store(make_store, tmp_path, (MENTION, 10.0))
    with pytest.raises(SchemaMismatch, match="version 1"):
        await old.start()
    assert await asyncio.to_thread(upgrade, _target(old)) == (1, _newest(old))
    store = _reopen(old)
    await store.start()
    try:
        retry = await store.record(_delivery(MENTION, 20.0))
        other = await store.record(_delivery(CREATE, 30.0))
        assert (retry.new_events, retry.duplicates) == (0, 1)
        assert (other.new_events, other.duplicates) == (1, 0)
        events = await _by_type(store)
        assert events["post.mention.create"].key == parse_envelope(MENTION).events[0].key
        assert (events["post.mention.create"].duplicates, events["post.create"].duplicates) == (1, 0)
    finally:
        await store.close()


async def test_upgrade_splits_events_the_old_key_merged(make_store: EngineFactory, tmp_path: Path) -> None:
    """Schema 1 counted the post.create delivery as a duplicate of the mention: the upgrade makes it the event
    it was (pending, so its handler runs), with its own retry as its sighting."""
    old = await _schema_1_store(
        make_store, tmp_path, (MENTION, 10.0), (CREATE, 11.0), (MENTION, 12.0), (CREATE, 13.0), (CREATE, 14.0)
    )
    assert await asyncio.to_thread(upgrade, _target(old)) == (1, _newest(old))
    store = _reopen(old)
    await store.start()
    try:
        events = await _by_type(store)
        mention, create = events["post.mention.create"], events["post.create"]
        assert (mention.duplicates, mention.last_seen_at, mention.status) == (1, 12.0, "pending")
        assert (create.duplicates, create.last_seen_at, create.status) == (2, 14.0, "pending")
        assert (create.received_at, create.for_user_id, create.index) == (11.0, "B", 0)
        assert create.key == parse_envelope(CREATE).events[0].key
        assert [at for _, at in await store.sightings(mention.id)] == [10.0, 12.0]
        assert [at for _, at in await store.sightings(create.id)] == [11.0, 13.0, 14.0]
        again = await store.record(_delivery(CREATE, 15.0))
        assert (again.new_events, again.duplicates) == (0, 1)
        assert (await _by_type(store))["post.create"].duplicates == 3
        stats = await store.stats()
        assert (stats.deliveries, stats.events, stats.duplicates) == (6, 2, 4)
    finally:
        await store.close()


def test_split_plan_keeps_an_unmerged_event_and_recounts_a_fully_split_one() -> None:
    ref = parse_envelope(CREATE).events[0]
    own = parse_envelope(MENTION).events[0].key
    alone = _rekey.SightingRow(1, ref.key, 1.0, 10, 11, 2.0, ref)
    merged = [_rekey.SightingRow(2, own, 5.0, 20, 21, 6.0, ref), _rekey.SightingRow(2, own, 5.0, 20, 22, 7.0, ref)]
    splits, recounts = _rekey.plan([alone, *merged])
    assert splits == [_rekey.Split(2, ref, 21, 6.0, (22,), 7.0, 22)]
    assert recounts == [_rekey.Recount(0, 5.0, 20, 2)]


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
    with pytest.raises(SchemaMismatch, match=f"needs {POSTGRES[-1].version}"):
        await PostgresStore(url).start()
    assert await asyncio.to_thread(upgrade, url) == (1, POSTGRES[-1].version)
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
        await store.record(Delivery.received("/webhook", body, 1.0))
        assert [event.status for event in await store.events(EventQuery())] == ["quarantined"]
    finally:
        await store.close()


async def test_an_upgraded_database_relays_the_events_it_held_before(make_store: EngineFactory, tmp_path: Path) -> None:
    """The relay tables come with an upgrade (SQLite 3, PostgreSQL 4), and a sink takes in what was stored earlier."""
    old = await _schema_1_store(make_store, tmp_path, (MENTION, 10.0))
    await asyncio.to_thread(upgrade, _target(old))
    store = _reopen(old)
    await store.start()
    try:
        await store.record(_delivery(CREATE, 30.0))
        claimed = await store.relay_claim("bus", "relay", 10, 30.0, 40.0)
        assert [item.event.event_type for item in claimed] == ["post.mention.create", "post.create"]
        assert [item.body for item in claimed] == [MENTION, CREATE]
    finally:
        await store.close()


# -- SQLite 4 / PostgreSQL 5: delivery paths (issue 14) ------------------------------------------------------


async def _upgraded_paths(store: Store, at: float) -> None:
    """After the path migration: the old event came by webhook at its own time; a stream sighting adds its time."""
    await store.start()
    try:
        (old,) = await store.events(EventQuery())
        assert (old.first_path, old.webhook_at, old.stream_at) == ("webhook", at, None)
        await store.record(Delivery.received("/webhook", MENTION, at + 5, path=DeliveryPath.STREAM))
        (seen,) = await store.events(EventQuery())
        assert (seen.first_path, seen.webhook_at, seen.stream_at, seen.duplicates) == ("webhook", at, at + 5, 1)
        assert (await store.stats()).by_path == {"webhook": 1, "stream": 1}
    finally:
        await store.close()


async def test_sqlite_version_2_upgrades_to_delivery_paths(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for statement in SQLITE[0].statements:
            db.execute(statement)
        db.execute("INSERT INTO meta (name, value) VALUES ('schema_version', '2')")
        (delivery_id,) = db.execute(V1_DELIVERY, (10.0, b"[]", MENTION)).fetchone()
        (event,) = parse_envelope(MENTION).events
        db.execute(V1_EVENT, (event.key, event.event_type, event.for_user_id, delivery_id, 10.0, 10.0, delivery_id))
    with pytest.raises(SchemaMismatch, match="version 2"):
        await SQLiteStore(path).start()
    assert await asyncio.to_thread(upgrade, path) == (2, 5)  # 3: the relay tables, 4: the paths, 5: retention
    await _upgraded_paths(SQLiteStore(path), 10.0)


@pytest.mark.postgres
async def test_postgres_version_3_upgrades_to_delivery_paths_with_one_intake_function() -> None:
    """A database made by the previous xhooks (schema 3, its 23-array intake) gets the path columns in place."""
    url = fresh_schema_url("v3-upgrade")
    conn = await asyncpg.connect(url)
    try:
        for statement in (*_postgres_schema.V1, (Path(__file__).parent / "postgres_v3_intake.sql").read_text()):
            await conn.execute(statement)
        await conn.execute(_postgres_schema.WRITE_VERSION, "3")
        delivery_id = await conn.fetchval(numbered(V1_DELIVERY), 10.0, b"[]", MENTION)
        (event,) = parse_envelope(MENTION).events
        row = (event.key, event.event_type, event.for_user_id, delivery_id, 10.0, 10.0, delivery_id)
        await conn.execute(numbered(V1_EVENT), *row)
    finally:
        await conn.close()
    assert await asyncio.to_thread(upgrade, url) == (3, 6)  # 4: the relay tables, 5: the paths, 6: retention
    conn = await asyncpg.connect(url)
    try:
        functions = await conn.fetchval(
            "SELECT count(*) FROM pg_proc"
            " WHERE proname = 'xhooks_intake' AND pronamespace = current_schema()::regnamespace"
        )
    finally:
        await conn.close()
    assert functions == 1
    await _upgraded_paths(PostgresStore(url), 10.0)
