"""What only the SQLite engine does: how its write path keeps intake cheap (issue 13)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from xhooks.store import _sqlite_schema as sql
from xhooks.store.sqlite import SQLiteStore

OLD_INDEX = """CREATE INDEX events_unfinished_user ON events (app, for_user_id, id)
    WHERE status IN ('pending', 'claimed', 'retry')"""


def _indexes(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"))
    finally:
        conn.close()


async def test_the_claims_index_has_no_in_list_which_sqlite_would_evaluate_on_every_insert(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    await store.close()
    indexes = _indexes(tmp_path / "x.db")
    assert "events_open_user" in indexes
    # The intake's table (every delivery inserts into it). The relay sinks' `relay_events` indexes keep their
    # `IN` lists: a relay's take-in pays for them, not the receiver's intake.
    assert not [name for name, text in indexes.items() if name.startswith("events_") and " IN " in text.upper()]


async def test_a_database_with_the_old_claims_index_gets_the_new_one_on_start(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    store = SQLiteStore(db)
    await store.start()
    await store.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP INDEX events_open_user")
    conn.execute(OLD_INDEX)
    conn.close()
    await store.start()
    await store.close()
    indexes = _indexes(db)
    assert "events_open_user" in indexes and "events_unfinished_user" not in indexes


def test_the_claim_probes_the_open_user_index() -> None:
    """The claim must spell the index's condition as the index does, or SQLite would scan for older events."""
    conn = sqlite3.connect(":memory:")
    for statement in sql.STATEMENTS:
        conn.execute(statement)
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql.DUE_EVENTS, {"now": 0, "limit": 1}))
    assert "USING INDEX events_open_user (app=? AND for_user_id=? AND id<?)" in plan
