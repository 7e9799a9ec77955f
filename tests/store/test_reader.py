"""`SyncReader`: the store's async reads, run for synchronous code on a private loop (issue 13)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tests.postgres_support import fresh_schema_url
from tests.store.test_contract import _aaa, _delivery
from xhooks.errors import StoreError
from xhooks.store import EventQuery, Store, SyncReader, open_reader
from xhooks.store.postgres import PostgresStore
from xhooks.store.sqlite import SQLiteStore


async def _fill(store: Store) -> None:
    await store.start()
    try:
        await store.record(_delivery(_aaa("7", "1", "2")))
        await store.record(_delivery(_aaa("7", "2"), at=1001.0))
    finally:
        await store.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(lambda tmp_path: str(tmp_path / "reader.db"), id="sqlite"),
        pytest.param(lambda tmp_path: fresh_schema_url("reader"), id="postgres", marks=pytest.mark.postgres),
    ],
)
def test_a_sync_reader_answers_what_the_async_reads_answer(url: object, tmp_path: Path) -> None:
    target = url(tmp_path)  # type: ignore[operator]
    asyncio.run(_fill(SQLiteStore(target) if target.endswith(".db") else PostgresStore(target)))
    with open_reader(target) as reader:
        events = reader.events(EventQuery())
        first = min(events, key=lambda event: event.id)
        again = max(events, key=lambda event: event.id)
        assert [event.key for event in events] == ["aaa:7:tweet_create_events:2", "aaa:7:tweet_create_events:1"]
        assert reader.event(again.id) == again
        assert reader.delivery(first.delivery_id) is not None
        assert [delivery for delivery, _ in reader.sightings(again.id)] == [1, 2]
        assert (reader.stats().events, reader.stats().duplicates) == (2, 1)
        assert reader.spans("up", since=0.0) == []
        assert reader.crcs(since=0.0) == []


def test_a_missing_database_is_a_store_error_that_says_what_to_do(tmp_path: Path) -> None:
    with open_reader(tmp_path / "typo.db") as reader, pytest.raises(StoreError, match="no database at"):
        reader.events(EventQuery())
    assert not (tmp_path / "typo.db").exists()  # reading never creates the file


async def test_inside_a_running_loop_a_sync_reader_refuses_and_says_to_await(tmp_path: Path) -> None:
    reader = SyncReader(SQLiteStore(tmp_path / "x.db"))
    with pytest.raises(RuntimeError, match="await the store's own reads"):
        reader.events(EventQuery())
    await reader.store.close()


@pytest.mark.postgres
async def test_the_postgres_engine_runs_no_thread_of_its_own() -> None:
    """Reads and writes are awaited on the caller's loop: no reader thread, no private event loop (issue 13)."""
    before = {thread.ident for thread in threading.enumerate()}
    store = PostgresStore(fresh_schema_url("no-threads"))
    await store.start()
    try:
        await store.record(_delivery(_aaa("7", "1")))
        assert len(await store.events(EventQuery())) == 1
        assert (await store.stats()).events == 1
        assert {thread.ident for thread in threading.enumerate()} == before
    finally:
        await store.close()
