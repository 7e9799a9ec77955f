"""The SQLite schema. Bodies are BLOBs of the exact bytes received; times are Unix seconds (REAL).

Version 2 has the tables of version 1; it differs in how X Activity events are keyed (`store/_rekey.py`).
Version 3 (`V3`) records the path of each delivery and, per event, the path that brought it first and when each
path first carried it. A new database runs `STATEMENTS` and then `V3`, as an upgrade does.
"""

SCHEMA_VERSION = 3

# A duplicate sighting is recorded by the database itself, so intake can insert events with executemany.
SIGHTING_TRIGGER = """CREATE TRIGGER IF NOT EXISTS events_sighting AFTER UPDATE OF duplicates ON events BEGIN
        INSERT INTO sightings (event_id, delivery_id, seen_at) VALUES (new.id, new.last_delivery_id, new.last_seen_at);
    END"""
DROP_SIGHTING_TRIGGER = "DROP TRIGGER IF EXISTS events_sighting"

STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS deliveries (
        id INTEGER PRIMARY KEY,
        app TEXT NOT NULL,
        received_at REAL NOT NULL,
        headers BLOB NOT NULL,          -- JSON [[name, value], ...] as received
        body BLOB NOT NULL,             -- the raw bytes, exactly as sent
        secret_index INTEGER NOT NULL,  -- which configured consumer secret verified it
        shape TEXT NOT NULL             -- account_activity | activity | filtered_stream | unknown | malformed
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,
        app TEXT NOT NULL,
        key TEXT NOT NULL,
        event_type TEXT NOT NULL,
        for_user_id TEXT,
        delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
        idx INTEGER NOT NULL,           -- position inside the delivery's body
        received_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        lease_owner TEXT,
        lease_until REAL,
        last_error TEXT,
        handled_at REAL,
        duplicates INTEGER NOT NULL DEFAULT 0,
        last_seen_at REAL NOT NULL,
        last_delivery_id INTEGER NOT NULL,
        UNIQUE (app, key)
    )""",
    "CREATE INDEX IF NOT EXISTS events_status ON events (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS events_type ON events (event_type, received_at)",
    # Only unfinished events: the claim's "no older unfinished event of this user" test stays a short index
    # probe however long one user's history grows (a full index made it scan every handled event).
    """CREATE INDEX IF NOT EXISTS events_unfinished_user ON events (app, for_user_id, id)
        WHERE status IN ('pending', 'claimed', 'retry')""",
    """CREATE TABLE IF NOT EXISTS sightings (
        event_id INTEGER NOT NULL REFERENCES events(id),
        delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
        seen_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sightings_event ON sightings (event_id)",
    "CREATE INDEX IF NOT EXISTS sightings_delivery ON sightings (delivery_id)",
    SIGHTING_TRIGGER,
    """CREATE TABLE IF NOT EXISTS rejections (
        app TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL, last_at REAL NOT NULL,
        PRIMARY KEY (app, reason)
    )""",
)

# Migration 3: which path (webhook POST or X Activity stream line) carried a delivery, and each event's paths.
V3 = (
    "ALTER TABLE deliveries ADD COLUMN path TEXT NOT NULL DEFAULT 'webhook'",
    "ALTER TABLE events ADD COLUMN first_path TEXT NOT NULL DEFAULT 'webhook'",
    "ALTER TABLE events ADD COLUMN webhook_at REAL",
    "ALTER TABLE events ADD COLUMN stream_at REAL",
    "UPDATE events SET webhook_at = received_at",  # before version 3 every delivery was a webhook POST
)
CREATE = STATEMENTS + V3
"""What a new database runs (the rekey of version 2 has nothing to do on an empty one)."""

NEXT_DELIVERY_ID = "SELECT coalesce(max(id), 0) + 1 FROM deliveries"
INSERT_DELIVERY = (
    "INSERT INTO deliveries (id, app, received_at, headers, body, secret_index, shape, path)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# A path's first time is the earliest (SQLite's two-argument min() is NULL when either side is).
UPSERT_EVENT = """
    INSERT INTO events
        (app, key, event_type, for_user_id, delivery_id, idx, received_at, last_seen_at, last_delivery_id, status,
         first_path, webhook_at, stream_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (app, key) DO UPDATE SET
        duplicates = duplicates + 1, last_seen_at = excluded.last_seen_at, last_delivery_id = excluded.delivery_id,
        webhook_at = coalesce(min(webhook_at, excluded.webhook_at), webhook_at, excluded.webhook_at),
        stream_at = coalesce(min(stream_at, excluded.stream_at), stream_at, excluded.stream_at)
"""
DUPLICATES_SINCE = "SELECT delivery_id, count(*) FROM sightings WHERE delivery_id >= ? GROUP BY delivery_id"
UPSERT_REJECTION = """
    INSERT INTO rejections (app, reason, count, last_at) VALUES (?, ?, 1, ?)
    ON CONFLICT (app, reason) DO UPDATE SET count = count + 1, last_at = excluded.last_at
"""
HEARTBEAT = (
    "INSERT INTO meta (name, value) VALUES ('heartbeat', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)

# Due events, oldest first, skipping any event that has an older unfinished event of the same app and user.
DUE_EVENTS = """
    SELECT e.id FROM events e
    WHERE (e.status = 'pending'
           OR (e.status = 'retry' AND e.next_attempt_at <= :now)
           OR (e.status = 'claimed' AND e.lease_until <= :now))
      AND (e.for_user_id IS NULL OR NOT EXISTS (
           SELECT 1 FROM events o
           WHERE o.app = e.app AND o.for_user_id = e.for_user_id AND o.id < e.id
             AND o.status IN ('pending', 'claimed', 'retry')))
    ORDER BY e.id LIMIT :limit
"""
CLAIM = "UPDATE events SET status = 'claimed', lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?"
COMPLETE = """
    UPDATE events SET status = 'handled', handled_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL
    WHERE id = ? AND status = 'claimed' AND lease_owner = ?
"""
FAIL = """
    UPDATE events SET status = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
    WHERE id = ? AND status = 'claimed' AND lease_owner = ?
"""
RELEASE = """
    UPDATE events SET status = 'pending', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
    WHERE status = 'claimed' AND lease_owner = ?
"""
REDISPATCH = """
    UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
    WHERE status IN ('retry', 'handled', 'dead')
"""

# Added without a version bump: new tables only, created on every start if missing (`IF NOT EXISTS`).
HEALTH_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS crc_log (
        app TEXT NOT NULL, at REAL NOT NULL, latency REAL NOT NULL, status INTEGER NOT NULL, outcome TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS crc_log_at ON crc_log (at)",
    """CREATE TABLE IF NOT EXISTS spans (
        id INTEGER PRIMARY KEY, kind TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS spans_kind ON spans (kind, start)",
)
INSERT_CRC = "INSERT INTO crc_log (app, at, latency, status, outcome) VALUES (?, ?, ?, ?, ?)"
NEWEST_SPAN = 'SELECT id, start, "end" FROM spans WHERE kind = ? ORDER BY start DESC, id DESC LIMIT 1'
GROW_SPAN = 'UPDATE spans SET start = min(start, ?), "end" = max("end", ?) WHERE id = ?'
INSERT_SPAN = 'INSERT INTO spans (kind, start, "end") VALUES (?, ?, ?)'
