"""Everything the emulator remembers, in one SQLite file: apps, users, webhooks, subscriptions, stream links
and rules, the delivery log with every attempt, and replay jobs. State survives restarts; `:memory:` does not.

The emulator runs on one event loop, so one connection in autocommit mode is enough; the few multi-row
changes run inside `transaction()`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from xhooks.emulator.dm_store import DirectMessages

__all__ = ["ActivitySubscription", "App", "State", "User", "Webhook", "iso", "snowflake_time"]

TWITTER_EPOCH_MS = 1_288_834_974_657

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS apps (id TEXT PRIMARY KEY, name TEXT NOT NULL, consumer_key TEXT UNIQUE NOT NULL,
        consumer_secret TEXT NOT NULL, bearer_token TEXT UNIQUE NOT NULL, created_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
        created_at REAL NOT NULL, app_id TEXT, access_token TEXT UNIQUE, access_token_secret TEXT,
        oauth2_token TEXT UNIQUE, scopes TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
        location TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, app_id TEXT NOT NULL, url TEXT NOT NULL,
        valid INTEGER NOT NULL, created_at REAL NOT NULL, last_success_at REAL, last_crc_at REAL,
        UNIQUE (app_id, url))""",
    """CREATE TABLE IF NOT EXISTS aaa_subscriptions (webhook_id TEXT NOT NULL, user_id TEXT NOT NULL,
        created_at REAL NOT NULL, PRIMARY KEY (webhook_id, user_id))""",
    """CREATE TABLE IF NOT EXISTS activity_subscriptions (id TEXT PRIMARY KEY, app_id TEXT NOT NULL,
        event_type TEXT NOT NULL, filter TEXT NOT NULL, tag TEXT, webhook_id TEXT,
        created_at REAL NOT NULL, updated_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS stream_links (webhook_id TEXT PRIMARY KEY, app_id TEXT NOT NULL,
        instance_id TEXT NOT NULL, fields TEXT NOT NULL, created_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS rules (id TEXT PRIMARY KEY, app_id TEXT NOT NULL, value TEXT NOT NULL,
        tag TEXT)""",
    """CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, webhook_id TEXT NOT NULL, body BLOB NOT NULL,
        created_at REAL NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, replay_job_id TEXT)""",
    """CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL,
        number INTEGER NOT NULL,
        at REAL NOT NULL, status INTEGER, latency_ms REAL NOT NULL, error TEXT)""",
    "CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id)",
    """CREATE TABLE IF NOT EXISTS replay_jobs (id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, from_at REAL NOT NULL,
        to_at REAL NOT NULL, created_at REAL NOT NULL, state TEXT NOT NULL)""",
)


# Columns added after a table was first released: a database from an older emulator gets them on open.
ADDED_COLUMNS = {
    "users": (
        "description TEXT NOT NULL DEFAULT ''",
        "location TEXT NOT NULL DEFAULT ''",
        "url TEXT NOT NULL DEFAULT ''",
    ),
}


def iso(ts: float) -> str:
    """`2025-01-15T12:00:00.000Z`, X's timestamp style."""
    import datetime as dt

    moment = dt.datetime.fromtimestamp(ts, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def snowflake_time(snowflake: str) -> float:
    return ((int(snowflake) >> 22) + TWITTER_EPOCH_MS) / 1000


@dataclass(frozen=True)
class App:
    id: str
    name: str
    consumer_key: str
    consumer_secret: str
    bearer_token: str


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str
    created_at: float
    access_token: str | None = None
    access_token_secret: str | None = None
    oauth2_token: str | None = None
    scopes: str = ""
    description: str = ""
    location: str = ""
    url: str = ""
    """The profile's website, as typed (X shows it shortened by t.co)."""


@dataclass(frozen=True)
class Webhook:
    id: str
    app_id: str
    url: str
    valid: bool
    created_at: float
    last_success_at: float | None
    last_crc_at: float | None


@dataclass(frozen=True)
class ActivitySubscription:
    id: str
    app_id: str
    event_type: str
    filter: dict[str, str]
    tag: str | None
    webhook_id: str | None
    created_at: float
    updated_at: float

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subscription_id": self.id,
            "event_type": self.event_type,
            "filter": self.filter,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if self.tag is not None:
            body["tag"] = self.tag
        if self.webhook_id is not None:
            body["webhook_id"] = self.webhook_id
        return body


class State:
    """The emulator's SQLite file."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self.db.execute(statement)
        self.dms = DirectMessages(self.db)
        for table, columns in ADDED_COLUMNS.items():
            present = {row["name"] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column.split()[0] not in present:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ids ------------------------------------------------------------------------------------------------

    def new_id(self, now: float) -> str:
        """A snowflake: milliseconds since X's epoch in the high bits, a persisted counter in the low 22."""
        row = self.db.execute(
            "INSERT INTO meta (name, value) VALUES ('seq', '1') "
            "ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value"
        ).fetchone()
        seq = int(row[0]) & 0x3FFFFF
        return str(((int(now * 1000) - TWITTER_EPOCH_MS) << 22) | seq)

    # apps and users ---------------------------------------------------------------------------------------

    def add_app(self, app: App, now: float) -> None:
        self.db.execute(
            "INSERT INTO apps VALUES (?, ?, ?, ?, ?, ?)",
            (app.id, app.name, app.consumer_key, app.consumer_secret, app.bearer_token, now),
        )

    def update_app_credentials(self, app_id: str, consumer_key: str, consumer_secret: str, bearer: str) -> None:
        self.db.execute(
            "UPDATE apps SET consumer_key = ?, consumer_secret = ?, bearer_token = ? WHERE id = ?",
            (consumer_key, consumer_secret, bearer, app_id),
        )

    def apps(self) -> list[App]:
        rows = self.db.execute("SELECT * FROM apps ORDER BY created_at").fetchall()
        return [App(r["id"], r["name"], r["consumer_key"], r["consumer_secret"], r["bearer_token"]) for r in rows]

    def app(self, app_id: str) -> App | None:
        return next((app for app in self.apps() if app.id == app_id), None)

    def app_by(self, column: str, value: str) -> App | None:
        if column not in ("consumer_key", "bearer_token"):
            raise ValueError(column)
        row = self.db.execute(f"SELECT id FROM apps WHERE {column} = ?", (value,)).fetchone()
        return self.app(row[0]) if row else None

    def add_user(self, user: User, app_id: str | None) -> None:
        self.db.execute(
            "INSERT INTO users (id, username, name, created_at, app_id, access_token, access_token_secret, "
            "oauth2_token, scopes, description, location, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.id,
                user.username,
                user.name,
                user.created_at,
                app_id,
                user.access_token,
                user.access_token_secret,
                user.oauth2_token,
                user.scopes,
                user.description,
                user.location,
                user.url,
            ),
        )

    def _user(self, row: sqlite3.Row | None) -> User | None:
        if row is None:
            return None
        return User(
            row["id"],
            row["username"],
            row["name"],
            row["created_at"],
            row["access_token"],
            row["access_token_secret"],
            row["oauth2_token"],
            row["scopes"],
            row["description"],
            row["location"],
            row["url"],
        )

    def user(self, user_id: str) -> User | None:
        return self._user(self.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())

    def user_by(self, column: str, value: str) -> User | None:
        if column not in ("access_token", "oauth2_token", "username"):
            raise ValueError(column)
        return self._user(self.db.execute(f"SELECT * FROM users WHERE {column} = ?", (value,)).fetchone())

    def users(self) -> list[User]:
        rows = self.db.execute("SELECT * FROM users ORDER BY created_at, id").fetchall()
        return [user for user in map(self._user, rows) if user is not None]

    def update_user_tokens(self, user_id: str, access_token: str, access_token_secret: str, oauth2: str) -> None:
        self.db.execute(
            "UPDATE users SET access_token = ?, access_token_secret = ?, oauth2_token = ? WHERE id = ?",
            (access_token, access_token_secret, oauth2, user_id),
        )

    # webhooks --------------------------------------------------------------------------------------------

    @staticmethod
    def _webhook(row: sqlite3.Row) -> Webhook:
        return Webhook(
            row["id"],
            row["app_id"],
            row["url"],
            bool(row["valid"]),
            row["created_at"],
            row["last_success_at"],
            row["last_crc_at"],
        )

    def add_webhook(self, webhook: Webhook) -> None:
        self.db.execute(
            "INSERT INTO webhooks VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                webhook.id,
                webhook.app_id,
                webhook.url,
                int(webhook.valid),
                webhook.created_at,
                webhook.last_success_at,
                webhook.last_crc_at,
            ),
        )

    def webhook(self, webhook_id: str) -> Webhook | None:
        row = self.db.execute("SELECT * FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        return self._webhook(row) if row else None

    def webhooks(self, app_id: str | None = None) -> list[Webhook]:
        if app_id is None:
            rows = self.db.execute("SELECT * FROM webhooks ORDER BY created_at, id").fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM webhooks WHERE app_id = ? ORDER BY created_at, id", (app_id,)
            ).fetchall()
        return [self._webhook(row) for row in rows]

    def record_crc(self, webhook_id: str, now: float, valid: bool, success: bool) -> None:
        self.db.execute(
            "UPDATE webhooks SET valid = ?, last_crc_at = ?, last_success_at = CASE WHEN ? THEN ? "
            "ELSE last_success_at END WHERE id = ?",
            (int(valid), now, int(success), now, webhook_id),
        )

    def delete_webhook(self, webhook_id: str) -> None:
        with self.transaction():
            for table in ("webhooks", "aaa_subscriptions", "stream_links"):
                column = "id" if table == "webhooks" else "webhook_id"
                self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (webhook_id,))
            self.db.execute("UPDATE activity_subscriptions SET webhook_id = NULL WHERE webhook_id = ?", (webhook_id,))

    # Account Activity subscriptions ----------------------------------------------------------------------

    def subscribe(self, webhook_id: str, user_id: str, now: float) -> None:
        self.db.execute("INSERT INTO aaa_subscriptions VALUES (?, ?, ?)", (webhook_id, user_id, now))

    def is_subscribed(self, webhook_id: str, user_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM aaa_subscriptions WHERE webhook_id = ? AND user_id = ?", (webhook_id, user_id)
        ).fetchone()
        return row is not None

    def unsubscribe(self, webhook_id: str, user_id: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM aaa_subscriptions WHERE webhook_id = ? AND user_id = ?", (webhook_id, user_id)
        )
        return cursor.rowcount > 0

    def subscribers(self, webhook_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT user_id FROM aaa_subscriptions WHERE webhook_id = ? ORDER BY created_at, user_id", (webhook_id,)
        )
        return [row[0] for row in rows]

    def subscription_count(self, app_id: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(DISTINCT s.user_id) FROM aaa_subscriptions s JOIN webhooks w ON w.id = s.webhook_id "
            "WHERE w.app_id = ?",
            (app_id,),
        ).fetchone()
        return int(row[0])

    def subscribed_webhooks(self, user_id: str) -> list[Webhook]:
        rows = self.db.execute(
            "SELECT w.* FROM webhooks w JOIN aaa_subscriptions s ON s.webhook_id = w.id WHERE s.user_id = ? "
            "ORDER BY w.created_at, w.id",
            (user_id,),
        )
        return [self._webhook(row) for row in rows]

    # X Activity API subscriptions ----------------------------------------------------------------------

    @staticmethod
    def _activity(row: sqlite3.Row) -> ActivitySubscription:
        return ActivitySubscription(
            row["id"],
            row["app_id"],
            row["event_type"],
            json.loads(row["filter"]),
            row["tag"],
            row["webhook_id"],
            row["created_at"],
            row["updated_at"],
        )

    def add_activity(self, sub: ActivitySubscription) -> None:
        self.db.execute(
            "INSERT INTO activity_subscriptions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sub.id,
                sub.app_id,
                sub.event_type,
                json.dumps(sub.filter, sort_keys=True),
                sub.tag,
                sub.webhook_id,
                sub.created_at,
                sub.updated_at,
            ),
        )

    def activities(self, app_id: str | None = None) -> list[ActivitySubscription]:
        if app_id is None:
            rows = self.db.execute("SELECT * FROM activity_subscriptions ORDER BY id").fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM activity_subscriptions WHERE app_id = ? ORDER BY id", (app_id,)
            ).fetchall()
        return [self._activity(row) for row in rows]

    def activity(self, sub_id: str) -> ActivitySubscription | None:
        row = self.db.execute("SELECT * FROM activity_subscriptions WHERE id = ?", (sub_id,)).fetchone()
        return self._activity(row) if row else None

    def update_activity(self, sub_id: str, tag: str | None, webhook_id: str | None, now: float) -> None:
        self.db.execute(
            "UPDATE activity_subscriptions SET tag = ?, webhook_id = ?, updated_at = ? WHERE id = ?",
            (tag, webhook_id, now, sub_id),
        )

    def delete_activity(self, sub_id: str) -> bool:
        return self.db.execute("DELETE FROM activity_subscriptions WHERE id = ?", (sub_id,)).rowcount > 0

    # Filtered Stream links and rules ---------------------------------------------------------------------

    def link(self, webhook_id: str, app_id: str, instance_id: str, fields: list[str], now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO stream_links VALUES (?, ?, ?, ?, ?)",
            (webhook_id, app_id, instance_id, json.dumps(fields), now),
        )

    def unlink(self, webhook_id: str) -> bool:
        return self.db.execute("DELETE FROM stream_links WHERE webhook_id = ?", (webhook_id,)).rowcount > 0

    def links(self, app_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM stream_links WHERE app_id = ? ORDER BY created_at", (app_id,))
        return [
            {
                "webhook_id": r["webhook_id"],
                "instance_id": r["instance_id"],
                "fields": json.loads(r["fields"]),
                "created_at": r["created_at"],
            }
            for r in rows
        ]

    def add_rule(self, rule_id: str, app_id: str, value: str, tag: str | None) -> None:
        self.db.execute("INSERT INTO rules VALUES (?, ?, ?, ?)", (rule_id, app_id, value, tag))

    def rules(self, app_id: str) -> list[dict[str, str]]:
        rows = self.db.execute("SELECT * FROM rules WHERE app_id = ? ORDER BY id", (app_id,)).fetchall()
        return [
            {"id": r["id"], "value": r["value"], **({"tag": r["tag"]} if r["tag"] is not None else {})} for r in rows
        ]

    def delete_rule(self, rule_id: str) -> bool:
        return self.db.execute("DELETE FROM rules WHERE id = ?", (rule_id,)).rowcount > 0

    # delivery log ----------------------------------------------------------------------------------------

    def log_delivery(
        self, webhook_id: str, body: bytes, now: float, kind: str, state: str, replay_job_id: str | None = None
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO deliveries (webhook_id, body, created_at, kind, state, replay_job_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (webhook_id, body, now, kind, state, replay_job_id),
        )
        return int(cursor.lastrowid or 0)

    def set_delivery_state(self, delivery_id: int, state: str) -> None:
        self.db.execute("UPDATE deliveries SET state = ? WHERE id = ?", (state, delivery_id))

    def log_attempt(
        self, delivery_id: int, number: int, at: float, status: int | None, latency_ms: float, error: str | None
    ) -> None:
        self.db.execute(
            "INSERT INTO attempts (delivery_id, number, at, status, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?)",
            (delivery_id, number, at, status, latency_ms, error),
        )

    def deliveries(self, webhook_id: str | None = None, since_id: int = 0) -> list[dict[str, Any]]:
        sql = "SELECT * FROM deliveries WHERE id > ?" + (" AND webhook_id = ?" if webhook_id else "") + " ORDER BY id"
        args: tuple[Any, ...] = (since_id, webhook_id) if webhook_id else (since_id,)
        result = []
        for row in self.db.execute(sql, args).fetchall():
            attempts = self.db.execute(
                "SELECT number, at, status, latency_ms, error FROM attempts WHERE delivery_id = ? ORDER BY id",
                (row["id"],),
            )
            result.append(
                {
                    "id": row["id"],
                    "webhook_id": row["webhook_id"],
                    "created_at": row["created_at"],
                    "kind": row["kind"],
                    "state": row["state"],
                    "replay_job_id": row["replay_job_id"],
                    "body": row["body"].decode("utf-8"),
                    "attempts": [dict(a) for a in attempts],
                }
            )
        return result

    def unfinished(self) -> list[tuple[int, str, bytes, str, float, int]]:
        """`pending` deliveries a stopped run left: id, webhook, body, kind, created_at, attempts made."""
        rows = self.db.execute(
            "SELECT d.id, d.webhook_id, d.body, d.kind, d.created_at, "
            "(SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id) FROM deliveries d "
            "WHERE d.state = 'pending' ORDER BY d.id"
        ).fetchall()
        return [(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]

    def replayable(self, webhook_id: str, from_at: float, to_at: float) -> list[tuple[int, bytes]]:
        """Original deliveries to `webhook_id` that were attempted between the two times, oldest first."""
        rows = self.db.execute(
            "SELECT d.id, d.body FROM deliveries d WHERE d.webhook_id = ? AND d.kind = 'event' "
            "AND d.created_at >= ? AND d.created_at <= ? "
            "AND EXISTS (SELECT 1 FROM attempts a WHERE a.delivery_id = d.id) "
            "ORDER BY d.created_at, d.id",
            (webhook_id, from_at, to_at),
        )
        return [(row[0], row[1]) for row in rows]

    # replay jobs -----------------------------------------------------------------------------------------

    def add_replay_job(self, job_id: str, webhook_id: str, from_at: float, to_at: float, now: float) -> None:
        self.db.execute(
            "INSERT INTO replay_jobs VALUES (?, ?, ?, ?, ?, 'running')", (job_id, webhook_id, from_at, to_at, now)
        )

    def running_replay(self, webhook_id: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM replay_jobs WHERE webhook_id = ? AND state = 'running'", (webhook_id,)
        ).fetchone()
        return row[0] if row else None

    def finish_replay(self, job_id: str, state: str) -> None:
        self.db.execute("UPDATE replay_jobs SET state = ? WHERE id = ?", (state, job_id))

    def interrupted_replays(self) -> list[str]:
        rows = self.db.execute("SELECT id FROM replay_jobs WHERE state = 'running'")
        return [row[0] for row in rows]
