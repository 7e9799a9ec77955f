"""`Store.storage` on every engine (issue 15, storage health): size, free disk and the oldest body kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.postgres_support import fresh_schema_url
from tests.store.test_contract import _aaa, _delivery
from tests.store.test_contract_retention import T0, _handle_all, _prune_all
from xhooks.store import Store
from xhooks.store.base import byte_size
from xhooks.store.sqlite import SQLiteStore

BIG = 512 * 1024


def _big(tweet: str) -> bytes:
    """A delivery of about `BIG` bytes that neither engine can compress much (PostgreSQL TOASTs with pglz)."""
    return _aaa("7", tweet).replace(b'"hi"', b'"' + os.urandom(BIG // 2).hex().encode() + b'"')


async def test_the_size_grows_with_what_is_stored_and_the_oldest_body_is_the_oldest_kept(store: Store) -> None:
    empty = await store.storage()
    assert empty.oldest_body is None and empty.size > 0
    await store.record(_delivery(_big("1"), at=T0))
    await store.record(_delivery(_big("2"), at=T0 + 5))
    grown = await store.storage()
    assert grown.size - empty.size >= BIG, (byte_size(empty.size), byte_size(grown.size))
    assert grown.oldest_body == T0
    await _handle_all(store, T0 + 6)
    await _prune_all(store, T0 + 2 * 86400)
    assert (await store.storage()).oldest_body is None  # every body went; the tombstones carry none


async def test_sqlite_counts_its_file_and_wal_and_reads_the_free_disk_of_their_folder(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "storage.db")
    await store.start()
    try:
        await store.record(_delivery(_big("1"), at=T0))
        storage = await store.storage()
        disk = shutil.disk_usage(tmp_path)
    finally:
        await store.close()
    wal = tmp_path / "storage.db-wal"
    assert wal.exists()  # the delivery is still in the WAL: counting the file alone would miss it
    assert storage.size == (tmp_path / "storage.db").stat().st_size + wal.stat().st_size
    assert storage.total == disk.total
    assert storage.free is not None and abs(storage.free - disk.free) < 256 * 1024 * 1024  # others write too
    assert storage.free_ratio == storage.free / disk.total


@pytest.mark.postgres
async def test_postgres_cannot_see_the_servers_disk(tmp_path: Path) -> None:
    from xhooks.store.postgres import PostgresStore

    store = PostgresStore(fresh_schema_url(tmp_path.name))
    await store.start()
    try:
        storage = await store.storage()
    finally:
        await store.close()
    assert (storage.free, storage.total, storage.free_ratio) == (None, None, None) and storage.size > 0


def test_byte_sizes_read_in_powers_of_1024() -> None:
    sizes = [0, 1023, 1024, 3 * 1024 * 1024 + 400 * 1024, 18 * 1024**3, 5 * 1024**4]
    assert [byte_size(n) for n in sizes] == ["0 B", "1023 B", "1.0 KiB", "3.4 MiB", "18.0 GiB", "5.0 TiB"]
