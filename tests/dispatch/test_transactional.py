"""Transactional handlers (`XHooks.on(..., transactional=True)`) on the real PostgreSQL store, and the refusal
on SQLite."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.dispatch.conftest import dm_body, record, running, wait_for_statuses
from tests.postgres_support import fresh_schema_url
from tests.support import xhooks_cmd
from xhooks.dispatch import Context, RetryPolicy, Worker, XHooks
from xhooks.errors import ConfigError
from xhooks.protocol.events import DirectMessage
from xhooks.store import EventQuery, Store
from xhooks.store.sqlite import SQLiteStore

EFFECTS = "CREATE TABLE effects (event_id bigint, attempt int, worker text)"
EFFECT = "INSERT INTO effects (event_id, attempt, worker) VALUES ($1, $2, $3)"


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[tuple[Store, str]]:
    from xhooks.store.postgres import PostgresStore

    url = fresh_schema_url(tmp_path.name)
    store = PostgresStore(url)
    await store.start()
    conn = await asyncpg.connect(url)
    await conn.execute(EFFECTS)
    await conn.close()
    try:
        yield store, url
    finally:
        await store.close()


async def _effects(url: str) -> list[tuple[int, int, str]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await conn.fetch("SELECT event_id, attempt, worker FROM effects ORDER BY 1, 2")]
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_transactional_handler_writes_commit_with_the_handled_mark_once_per_event(
    pg: tuple[Store, str],
) -> None:
    store, url = pg
    hooks = XHooks()
    seen: list[object] = []

    @hooks.on(DirectMessage, transactional=True)
    async def remember(event: DirectMessage, ctx: Context) -> None:
        await ctx.connection.execute(EFFECT, ctx.event_id, ctx.attempt, "w")

    @hooks.on_any
    async def plain(event: object, ctx: Context) -> None:
        seen.append(ctx.connection)

    for n in range(20):
        await record(store, dm_body(str(n % 4), f"dm-{n}"))
    async with running(Worker(store, hooks, name="w", concurrency=4)):
        await wait_for_statuses(store, lambda found: found.count("handled") == 20)
    ids = sorted(event.id for event in await store.events(EventQuery(limit=100)))
    assert await _effects(url) == [(event_id, 1, "w") for event_id in ids]
    assert len(seen) == 20 and all(connection is not None for connection in seen)


@pytest.mark.postgres
async def test_transactional_handler_error_rolls_back_its_writes_and_the_event_is_retried(
    pg: tuple[Store, str],
) -> None:
    store, url = pg
    hooks = XHooks()

    @hooks.on(DirectMessage, transactional=True)
    async def flaky(event: DirectMessage, ctx: Context) -> None:
        await ctx.connection.execute(EFFECT, ctx.event_id, ctx.attempt, "w")
        if ctx.attempt < 3:
            raise RuntimeError("downstream refused")

    await record(store, dm_body("7", "dm-1"))
    worker = Worker(store, hooks, name="w", retry=RetryPolicy(max_attempts=5, base=0.0))
    async with running(worker):
        await wait_for_statuses(store, lambda found: found.count("handled") == 1)
    (event,) = await store.events(EventQuery())
    assert await _effects(url) == [(event.id, 3, "w")]
    assert event.attempts == 3


@pytest.mark.postgres
async def test_transactional_writes_roll_back_when_the_lease_was_lost_meanwhile(pg: tuple[Store, str]) -> None:
    store, url = pg
    hooks = XHooks()
    entered, release = asyncio.Event(), asyncio.Event()

    @hooks.on(DirectMessage, transactional=True)
    async def slow(event: DirectMessage, ctx: Context) -> None:
        await ctx.connection.execute(EFFECT, ctx.event_id, ctx.attempt, "slow")
        entered.set()
        await release.wait()

    await record(store, dm_body("7", "dm-1"))
    async with running(Worker(store, hooks, name="slow", lease=30.0)):
        await asyncio.wait_for(entered.wait(), 60)
        (taken,) = await store.claim("other", 1, 30.0, time.time() + 60)  # the slow worker's lease has expired
        async with store.completing(taken.event.id, "other", time.time() + 60) as conn:
            await conn.execute(EFFECT, taken.event.id, taken.attempt, "other")
        release.set()
        await wait_for_statuses(store, lambda found: found.count("handled") == 1)
    assert await _effects(url) == [(taken.event.id, 2, "other")]


async def test_transactional_handler_on_sqlite_refuses_to_start_the_worker(tmp_path: Path) -> None:
    hooks = XHooks()

    @hooks.on(DirectMessage, transactional=True)
    async def remember(event: DirectMessage, ctx: Context) -> None: ...

    store = SQLiteStore(tmp_path / "events.db")
    await store.start()
    try:
        with pytest.raises(ConfigError, match="transactional handlers need the postgres store"):
            Worker(store, hooks)
    finally:
        await store.close()


def test_xhooks_worker_on_sqlite_with_a_transactional_handler_exits_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(
        "from xhooks.dispatch import XHooks\n\nhooks = XHooks()\n\n\n"
        "@hooks.on('post.create', transactional=True)\nasync def h(event, ctx):\n    pass\n"
    )
    db = tmp_path / "events.db"
    subprocess.run(xhooks_cmd("db", "upgrade", "--db", str(db)), check=True, capture_output=True)
    done = subprocess.run(
        xhooks_cmd("worker", "--app", "handlers:hooks", "--db", str(db)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("error: transactional handlers need the postgres store")
    assert "Traceback" not in done.stderr


def test_transactional_handler_must_be_async() -> None:
    hooks = XHooks()
    with pytest.raises(ConfigError, match="must be async def"):

        @hooks.on(DirectMessage, transactional=True)
        def sync(event: DirectMessage, ctx: Context) -> None: ...
