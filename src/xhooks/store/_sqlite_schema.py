"""The SQLite schema, version 1. Bodies are BLOBs of the exact bytes received; times are Unix seconds (REAL)."""

SCHEMA_VERSION = 1

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
        UNIQUE (app, key)
    )""",
    "CREATE INDEX IF NOT EXISTS events_status ON events (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS events_type ON events (event_type, received_at)",
    "CREATE INDEX IF NOT EXISTS events_user ON events (for_user_id, id)",
    """CREATE TABLE IF NOT EXISTS sightings (
        event_id INTEGER NOT NULL REFERENCES events(id),
        delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
        seen_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS sightings_event ON sightings (event_id)",
    """CREATE TABLE IF NOT EXISTS rejections (
        app TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL, last_at REAL NOT NULL,
        PRIMARY KEY (app, reason)
    )""",
)

INSERT_DELIVERY = (
    "INSERT INTO deliveries (app, received_at, headers, body, secret_index, shape) VALUES (?, ?, ?, ?, ?, ?)"
)
UPSERT_EVENT = """
    INSERT INTO events (app, key, event_type, for_user_id, delivery_id, idx, received_at, last_seen_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (app, key) DO UPDATE SET duplicates = duplicates + 1, last_seen_at = excluded.last_seen_at
    RETURNING id, duplicates
"""
INSERT_SIGHTING = "INSERT INTO sightings (event_id, delivery_id, seen_at) VALUES (?, ?, ?)"
UPSERT_REJECTION = """
    INSERT INTO rejections (app, reason, count, last_at) VALUES (?, ?, 1, ?)
    ON CONFLICT (app, reason) DO UPDATE SET count = count + 1, last_at = excluded.last_at
"""
HEARTBEAT = "INSERT INTO meta (name, value) VALUES ('heartbeat', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
