"""What only the SQLite engine does when it prunes: the file gives its space back (issue 15)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from tests.store.test_contract import _delivery
from xhooks.store.migrations import SQLITE, upgrade
from xhooks.store.retention import DAY, RetentionPolicy
from xhooks.store.sqlite import SQLiteStore

T0 = 1_767_225_600.0


def _body(n: int) -> bytes:
    return b'{"data":{"event_uuid":"%d","event_type":"post.create","payload":{"text":"%s"}}}' % (
        n,
        os.urandom(1200).hex().encode(),
    )


def _pages(path: Path) -> tuple[int, int]:
    """(pages in the file, auto_vacuum mode) after a checkpoint moved the WAL's pages into the file."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return conn.execute("PRAGMA page_count").fetchone()[0], conn.execute("PRAGMA auto_vacuum").fetchone()[0]


async def _fill_handle_prune(store: SQLiteStore, count: int) -> tuple[int, int]:
    for n in range(count):
        await store.record(_delivery(_body(n), at=T0 + n))
    while claimed := await store.claim("w", 100, 30.0, T0 + count):
        for item in claimed:
            await store.complete(item.event.id, "w", T0 + count)
    before, _ = _pages(Path(store.path))
    while (await store.prune(RetentionPolicy(body_days=1, batch=100), T0 + 2 * DAY)).more:
        pass
    return before, _pages(Path(store.path))[0]


async def test_a_new_file_gives_the_space_of_pruned_bodies_back(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    try:
        before, after = await _fill_handle_prune(store, 300)
    finally:
        await store.close()
    assert _pages(tmp_path / "x.db")[1] == 2  # INCREMENTAL
    assert after < before / 3  # 300 bodies of 2.4 KB went; the events, keys and delivery stubs stay


async def test_upgrade_migrates_an_older_file_to_incremental_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for migration in SQLITE[:4]:
            for statement in migration.statements:
                db.execute(statement)
        db.execute("INSERT INTO meta (name, value) VALUES ('schema_version', '4')")
    assert _pages(path)[1] == 0
    assert upgrade(path) == (4, 5)
    assert _pages(path)[1] == 2
    store = SQLiteStore(path)
    await store.start()
    try:
        before, after = await _fill_handle_prune(store, 200)
    finally:
        await store.close()
    assert after < before / 3
