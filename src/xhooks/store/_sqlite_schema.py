"""The SQLite schema. Bodies are BLOBs of the exact bytes received; times are Unix seconds (REAL).

Version 2 has the tables of version 1; it differs in how X Activity events are keyed (`store/_rekey.py`).
Version 3 adds the relay sinks' tables (`RELAY_STATEMENTS`). Version 4 (`V4`) records the path of each
delivery and, per event, the path that brought it first and when each path first carried it. Version 5 (`V5`)
adds retention and erasure (`store/retention.py`): when a delivery's body and an event's body went, the indexes
pruning reads, and the audit record of erasures. A new database runs `CREATE` (`STATEMENTS`, `RELAY_STATEMENTS`,
`V4`, then `V5`), as an upgrade does.
"""

SCHEMA_VERSION = 5

# A duplicate sighting is recorded by the database itself, so intake can insert events with executemany.
SIGHTING_TRIGGER = """CREATE TRIGGER IF NOT EXISTS events_sighting AFTER UPDATE OF duplicates ON events BEGIN
        INSERT INTO sightings (event_id, delivery_id, seen_at) VALUES (new.id, new.last_delivery_id, new.last_seen_at);
    END"""
DROP_SIGHTING_TRIGGER = "DROP TRIGGER IF EXISTS events_sighting"

# Only unfinished events: the claim's "no older unfinished event of this user" test stays a short index
# probe however long one user's history grows (a full index made it scan every handled event). The condition
# is spelled with `=` and OR, not `IN (…)`: SQLite evaluates a partial index's `IN` list on every row it
# writes, which measured a fifth of the CPU of recording a delivery (bench/README.md, issue 13). The claim
# (`DUE_EVENTS`) spells it the same way, or the planner would not use the index.
OPEN_USER_INDEX = """CREATE INDEX IF NOT EXISTS events_open_user ON events (app, for_user_id, id)
        WHERE status = 'pending' OR status = 'claimed' OR status = 'retry'"""

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
    OPEN_USER_INDEX,
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
V4 = (
    "ALTER TABLE deliveries ADD COLUMN path TEXT NOT NULL DEFAULT 'webhook'",
    "ALTER TABLE events ADD COLUMN first_path TEXT NOT NULL DEFAULT 'webhook'",
    "ALTER TABLE events ADD COLUMN webhook_at REAL",
    "ALTER TABLE events ADD COLUMN stream_at REAL",
    "UPDATE events SET webhook_at = received_at",  # before version 3 every delivery was a webhook POST
)
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
             AND (o.status = 'pending' OR o.status = 'claimed' OR o.status = 'retry')))
    ORDER BY e.id LIMIT :limit
"""
CLAIM = """
    UPDATE events SET status = 'claimed', lease_owner = ?, lease_until = ?, claimed_at = ?, attempts = attempts + 1
    WHERE id = ?
"""
COMPLETE = """
    UPDATE events SET status = ?, handled_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL
    WHERE id = ? AND status = 'claimed' AND lease_owner = ?
"""
FAIL = """
    UPDATE events SET status = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
    WHERE id = ? AND status = 'claimed' AND lease_owner = ?
"""
RENEW = "UPDATE events SET lease_until = ? WHERE status = 'claimed' AND lease_owner = ?"
"""A running handler's lease, extended (`Store.renew`; the engine appends the ids)."""
RELEASE = """
    UPDATE events SET status = 'pending', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
    WHERE status = 'claimed' AND lease_owner = ?
"""
REDISPATCH = """
    UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
    WHERE status IN ('retry', 'handled', 'ignored', 'dead') AND pruned_at IS NULL
"""
"""A tombstone (its body pruned or erased) is never made due again: its handlers would get no body."""

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
# Run on every start as well: a database made before the claim's index was spelled without `IN` gets the new
# index and loses the old one.
INDEX_STATEMENTS = ("DROP INDEX IF EXISTS events_unfinished_user", OPEN_USER_INDEX)
INSERT_CRC = "INSERT INTO crc_log (app, at, latency, status, outcome) VALUES (?, ?, ?, ?, ?)"
NEWEST_SPAN = 'SELECT id, start, "end" FROM spans WHERE kind = ? ORDER BY start DESC, id DESC LIMIT 1'
GROW_SPAN = 'UPDATE spans SET start = min(start, ?), "end" = max("end", ?) WHERE id = ?'
INSERT_SPAN = 'INSERT INTO spans (kind, start, "end") VALUES (?, ?, ?)'

# Migration 3: each relay sink's own status per event (`xhooks.relay`). `relay_sinks.cursor` is the newest event id
# the sink has taken in; SQLite has one writer, so ids are committed in order and every id up to max(id) is final.
RELAY_STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS relay_sinks (sink TEXT PRIMARY KEY, cursor INTEGER NOT NULL DEFAULT 0)",
    """CREATE TABLE IF NOT EXISTS relay_events (
        sink TEXT NOT NULL,
        event_id INTEGER NOT NULL,
        app TEXT NOT NULL,
        for_user_id TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        lease_owner TEXT,
        lease_until REAL,
        last_error TEXT,
        handled_at REAL,
        PRIMARY KEY (sink, event_id)
    )""",
    """CREATE INDEX IF NOT EXISTS relay_events_due ON relay_events (sink, event_id)
        WHERE status IN ('pending', 'claimed', 'retry')""",
    """CREATE INDEX IF NOT EXISTS relay_events_waiting_user ON relay_events (sink, app, for_user_id, event_id)
        WHERE status IN ('claimed', 'retry')""",
)
ENSURE_SINK = "INSERT INTO relay_sinks (sink, cursor) VALUES (?, 0) ON CONFLICT (sink) DO NOTHING"
SINK_CURSOR = "SELECT cursor FROM relay_sinks WHERE sink = ?"
SET_SINK_CURSOR = "UPDATE relay_sinks SET cursor = ? WHERE sink = ?"
NEW_EVENTS = "SELECT id, app, for_user_id, event_type, status FROM events WHERE id > ? ORDER BY id LIMIT ?"
TAKE_IN = "INSERT INTO relay_events (sink, event_id, app, for_user_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
# Due rows of a sink, oldest first; a row waits while an older row of its app and user is leased to a live relay
# or waits for its retry (an older due row is in the same claim, before it).
RELAY_DUE = """
    SELECT r.event_id FROM relay_events r
    WHERE r.sink = :sink AND r.status IN ('pending', 'claimed', 'retry')
      AND (r.status = 'pending'
           OR (r.status = 'retry' AND r.next_attempt_at <= :now)
           OR (r.status = 'claimed' AND r.lease_until <= :now))
      AND (r.for_user_id IS NULL OR NOT EXISTS (
           SELECT 1 FROM relay_events o
           WHERE o.sink = r.sink AND o.app = r.app AND o.for_user_id = r.for_user_id AND o.event_id < r.event_id
             AND o.status IN ('claimed', 'retry')
             AND ((o.status = 'claimed' AND o.lease_until > :now)
                  OR (o.status = 'retry' AND o.next_attempt_at > :now))))
    ORDER BY r.event_id LIMIT :limit
"""
RELAY_LEASE = """
    UPDATE relay_events SET status = 'claimed', lease_owner = ?, lease_until = ?, attempts = attempts + 1
    WHERE sink = ? AND event_id IN ({marks})
"""
"""Lease the events `RELAY_DUE` chose (`{marks}`: one `?` per event id)."""
RELAY_COMPLETE = """
    UPDATE relay_events SET status = 'handled', handled_at = ?, lease_owner = NULL, lease_until = NULL,
        last_error = NULL
    WHERE sink = ? AND status = 'claimed' AND lease_owner = ?
"""
RELAY_FAIL = """
    UPDATE relay_events SET status = ?, next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
    WHERE sink = ? AND event_id = ? AND status = 'claimed' AND lease_owner = ?
"""
RELAY_RELEASE = """
    UPDATE relay_events SET status = 'pending', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
    WHERE sink = ? AND status = 'claimed' AND lease_owner = ?
"""
RELAY_REDISPATCH = """
    UPDATE relay_events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL,
        lease_until = NULL
    WHERE sink = ? AND status IN ('retry', 'handled', 'ignored', 'dead')
"""

# Migration 5: retention and erasure (`store/retention.py`). `pruned_at` is when a delivery's body and headers went
# (NULL: still there) and when an event became a tombstone; the partial indexes hold only what pruning looks for
# (bodies still there, tombstones), and `events_delivery` finds the events a delivery brought.
V5 = (
    "ALTER TABLE deliveries ADD COLUMN pruned_at REAL",
    "ALTER TABLE events ADD COLUMN pruned_at REAL",
    "CREATE INDEX IF NOT EXISTS events_delivery ON events (delivery_id)",
    "CREATE INDEX IF NOT EXISTS deliveries_unpruned ON deliveries (received_at) WHERE pruned_at IS NULL",
    "CREATE INDEX IF NOT EXISTS events_tombstones ON events (last_seen_at) WHERE pruned_at IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS erasures (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        reason TEXT NOT NULL,           -- why: forget (by hand), post.delete, consent.revoke, …
        scope TEXT NOT NULL,            -- what: user:<id>, post:<id>
        deliveries INTEGER NOT NULL,    -- how many bodies were erased
        events INTEGER NOT NULL,        -- how many events became tombstones
        event_id INTEGER                -- the revoke event that asked for it (automatic erasures)
    )""",
    "CREATE INDEX IF NOT EXISTS erasures_event ON erasures (event_id)",
    # Every handler attempt (`Store.attempts`): when the claim began it, when and how it ended, its error.
    "ALTER TABLE events ADD COLUMN claimed_at REAL",
    """CREATE TABLE IF NOT EXISTS attempts (
        event_id INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        worker TEXT NOT NULL,
        started_at REAL,
        finished_at REAL NOT NULL,
        outcome TEXT NOT NULL,          -- handled | retry | dead
        error TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS attempts_event ON attempts (event_id)",
)

CREATE = STATEMENTS + RELAY_STATEMENTS + V4 + V5
"""What a new database runs: every migration's statements, in order."""

# The attempt a claimed event's worker finishes (`complete`, `fail`), recorded before its status changes.
RECORD_ATTEMPT = """
    INSERT INTO attempts (event_id, attempt, worker, started_at, finished_at, outcome, error)
    SELECT id, attempts, lease_owner, claimed_at, ?, ?, ? FROM events
    WHERE id = ? AND status = 'claimed' AND lease_owner = ?
"""
ATTEMPTS = (
    "SELECT attempt, worker, started_at, finished_at, outcome, error FROM attempts WHERE event_id = ?"
    " ORDER BY finished_at, attempt"
)
