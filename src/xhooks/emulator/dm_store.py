"""Direct Messages in the emulator's SQLite file: conversations, their participants, their events, DM blocks.

A one-to-one conversation's id is its two user ids joined by `-`, smaller first (X's form); a group's is a
snowflake. Events are `MessageCreate` (a message) and `ParticipantsJoin` (a group's members, when it is made).
A deleted event is gone for everyone.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

__all__ = ["DM_SCHEMA", "DirectMessages", "DmEvent", "one_to_one_id"]

DM_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS dm_conversations (id TEXT PRIMARY KEY, kind TEXT NOT NULL,
        created_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS dm_participants (conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
        PRIMARY KEY (conversation_id, user_id))""",
    """CREATE TABLE IF NOT EXISTS dm_events (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL,
        event_type TEXT NOT NULL, sender_id TEXT NOT NULL, text TEXT, participant_ids TEXT NOT NULL,
        created_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS dm_events_conversation ON dm_events (conversation_id)",
    """CREATE TABLE IF NOT EXISTS dm_blocks (user_id TEXT NOT NULL, blocked_id TEXT NOT NULL,
        PRIMARY KEY (user_id, blocked_id))""",
)


def one_to_one_id(first: str, second: str) -> str:
    return "-".join(sorted((first, second), key=int))


@dataclass(frozen=True)
class DmEvent:
    id: str
    conversation_id: str
    event_type: str
    sender_id: str
    text: str | None
    participant_ids: tuple[str, ...]
    """For `ParticipantsJoin`: who joined."""
    created_at: float


class DirectMessages:
    """The DM tables, on the emulator state's connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        for statement in DM_SCHEMA:
            self.db.execute(statement)

    def open(self, conversation_id: str, kind: str, participants: list[str], now: float) -> None:
        """Create the conversation if it does not exist yet, with `participants`."""
        self.db.execute("INSERT OR IGNORE INTO dm_conversations VALUES (?, ?, ?)", (conversation_id, kind, now))
        self.db.executemany(
            "INSERT OR IGNORE INTO dm_participants VALUES (?, ?)", [(conversation_id, user) for user in participants]
        )

    def kind(self, conversation_id: str) -> str | None:
        row = self.db.execute("SELECT kind FROM dm_conversations WHERE id = ?", (conversation_id,)).fetchone()
        return str(row[0]) if row else None

    def participants(self, conversation_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT user_id FROM dm_participants WHERE conversation_id = ? ORDER BY rowid", (conversation_id,)
        )
        return [row[0] for row in rows]

    def add(self, event: DmEvent) -> None:
        self.db.execute(
            "INSERT INTO dm_events VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event.id,
                event.conversation_id,
                event.event_type,
                event.sender_id,
                event.text,
                json.dumps(list(event.participant_ids)),
                event.created_at,
            ),
        )

    @staticmethod
    def _event(row: sqlite3.Row) -> DmEvent:
        return DmEvent(
            row["id"],
            row["conversation_id"],
            row["event_type"],
            row["sender_id"],
            row["text"],
            tuple(json.loads(row["participant_ids"])),
            row["created_at"],
        )

    def event(self, event_id: str) -> DmEvent | None:
        row = self.db.execute("SELECT * FROM dm_events WHERE id = ?", (event_id,)).fetchone()
        return self._event(row) if row else None

    def events(self, user_id: str, conversation_id: str | None = None, since: float = 0.0) -> list[DmEvent]:
        """Events of the conversations `user_id` is in (or of one of them), newest first."""
        sql = (
            "SELECT e.* FROM dm_events e JOIN dm_participants p ON p.conversation_id = e.conversation_id "
            "WHERE p.user_id = ? AND e.created_at >= ?"
        )
        args: tuple[str | float, ...] = (user_id, since)
        if conversation_id is not None:
            sql += " AND e.conversation_id = ?"
            args += (conversation_id,)
        rows = self.db.execute(sql + " ORDER BY e.created_at DESC, CAST(e.id AS INTEGER) DESC", args)
        return [self._event(row) for row in rows]

    def delete(self, event_id: str) -> None:
        self.db.execute("DELETE FROM dm_events WHERE id = ?", (event_id,))

    def set_blocked(self, user_id: str, blocked_id: str, blocked: bool) -> None:
        if blocked:
            self.db.execute("INSERT OR IGNORE INTO dm_blocks VALUES (?, ?)", (user_id, blocked_id))
        else:
            self.db.execute("DELETE FROM dm_blocks WHERE user_id = ? AND blocked_id = ?", (user_id, blocked_id))

    def blocks(self, user_id: str, sender_id: str) -> bool:
        """Whether `user_id` has blocked DMs from `sender_id`."""
        row = self.db.execute(
            "SELECT 1 FROM dm_blocks WHERE user_id = ? AND blocked_id = ?", (user_id, sender_id)
        ).fetchone()
        return row is not None
