"""The emulator's SQLite file: a database written by an older emulator opens with the columns added since."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from xhooks.emulator.state import State, User


def test_an_older_database_gets_the_profile_columns(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    with sqlite3.connect(path) as db:  # the users table before profiles existed
        db.execute(
            "CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, name TEXT NOT NULL, "
            "created_at REAL NOT NULL, app_id TEXT, access_token TEXT UNIQUE, access_token_secret TEXT, "
            "oauth2_token TEXT UNIQUE, scopes TEXT NOT NULL DEFAULT '')"
        )
        db.execute("INSERT INTO users (id, username, name, created_at) VALUES ('1', 'old', 'Old', 0)")
    state = State(path)
    try:
        assert state.user("1") == User("1", "old", "Old", 0.0)
        state.add_user(
            User("2", "new", "New", 1.0, description="bio", location="here", url="https://example.com"), None
        )
        assert (state.user("2") or User("", "", "", 0)).location == "here"
    finally:
        state.close()
