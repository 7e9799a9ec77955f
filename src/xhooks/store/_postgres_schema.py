"""The PostgreSQL schema and statements. Tables mirror the SQLite engine's; bodies are `bytea` of the exact bytes
received, times are Unix seconds (`double precision`).

Intake is one call of `xhooks_intake(...)` per batch: the receiver's batch travels as arrays (one per column) and
the function inserts the deliveries, upserts the events, records duplicate sightings, rejections, CRC requests
and the heartbeat, and notifies idle workers, all in the one statement's transaction: one round trip per batch.

Locks, in the one order every intake takes them (so two receivers never deadlock):
1. a transaction-level advisory lock per (app, for_user_id) of the batch, in key order. Intake of one user's
   events is serialised across receivers, so event ids of a user follow commit order and a worker can never
   claim a user's later event while an earlier one is still being inserted elsewhere;
2. event rows, users' events in arrival order and the others sorted by (app, key) (the caller sorts them);
3. rejection rows, sorted by (app, reason); 4. the heartbeat row.
"""

from __future__ import annotations

CHANNEL = "xhooks_events"
"""The NOTIFY channel: a commit that stored new (or newly due) events notifies it."""

# Migration 1: the tables. The intake function it used to create is replaced by migration 3, which drops that first
# version (on databases that have it) and creates `INTAKE_FUNCTION`; migration 4 adds the path columns, drops the
# version 3 made on databases upgraded from 3, and creates (or replaces) `INTAKE_FUNCTION` again, so every database
# ends with the same schema. (Migration 2 re-keys X Activity events; it has no statements of its own, see
# `migrations.py`.)
V1 = (
    "CREATE TABLE meta (name text PRIMARY KEY, value text NOT NULL)",
    """CREATE TABLE deliveries (
        id bigserial PRIMARY KEY,
        app text NOT NULL,
        received_at double precision NOT NULL,
        headers bytea NOT NULL,
        body bytea NOT NULL,
        secret_index integer NOT NULL,
        shape text NOT NULL
    )""",
    """CREATE TABLE events (
        id bigserial PRIMARY KEY,
        app text NOT NULL,
        key text NOT NULL,
        event_type text NOT NULL,
        for_user_id text,
        delivery_id bigint NOT NULL,
        idx integer NOT NULL,
        received_at double precision NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at double precision,
        lease_owner text,
        lease_until double precision,
        last_error text,
        handled_at double precision,
        duplicates integer NOT NULL DEFAULT 0,
        last_seen_at double precision NOT NULL,
        last_delivery_id bigint NOT NULL,
        UNIQUE (app, key)
    )""",
    "CREATE INDEX events_due ON events (id) WHERE status IN ('pending', 'claimed', 'retry')",
    "CREATE INDEX events_unfinished_user ON events (app, for_user_id, id)"
    " WHERE status IN ('pending', 'claimed', 'retry')",
    "CREATE INDEX events_type ON events (event_type, received_at)",
    "CREATE INDEX events_user ON events (app, for_user_id, id)",
    """CREATE TABLE sightings (
        event_id bigint NOT NULL,
        delivery_id bigint NOT NULL,
        seen_at double precision NOT NULL
    )""",
    "CREATE INDEX sightings_event ON sightings (event_id)",
    "CREATE INDEX sightings_delivery ON sightings (delivery_id)",
    """CREATE TABLE rejections (
        app text NOT NULL, reason text NOT NULL, count bigint NOT NULL, last_at double precision NOT NULL,
        PRIMARY KEY (app, reason)
    )""",
    """CREATE TABLE crc_log (
        id bigserial PRIMARY KEY, app text NOT NULL, at double precision NOT NULL, latency double precision NOT NULL,
        status integer NOT NULL, outcome text NOT NULL
    )""",
    "CREATE INDEX crc_log_at ON crc_log (at)",
    """CREATE TABLE spans (
        id bigserial PRIMARY KEY, kind text NOT NULL, start double precision NOT NULL, "end" double precision NOT NULL
    )""",
    "CREATE INDEX spans_kind ON spans (kind, start)",
)

INTAKE_FUNCTION = f"""CREATE OR REPLACE FUNCTION xhooks_intake(
    d_app text[], d_received_at float8[], d_headers bytea[], d_body bytea[], d_secret_index int[], d_shape text[],
    d_path text[], d_webhook_at float8[], d_stream_at float8[],
    e_delivery int[], e_key text[], e_type text[], e_user text[], e_idx int[], e_round int[], e_status text[],
    r_app text[], r_reason text[], r_count int[], r_at float8[],
    c_app text[], c_at float8[], c_latency float8[], c_status int[], c_outcome text[],
    heartbeat text
) RETURNS TABLE (out_delivery_id bigint, out_duplicates integer) LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    seen integer;
BEGIN
    PERFORM pg_advisory_xact_lock(s.k) FROM (
        SELECT DISTINCT hashtextextended(d_app[t.o] || ' ' || t.u, 0) AS k
        FROM unnest(e_delivery, e_user) AS t(o, u) WHERE t.u IS NOT NULL ORDER BY 1
    ) AS s;
    ids := ARRAY(SELECT nextval('deliveries_id_seq') FROM generate_series(1, cardinality(d_app)));
    INSERT INTO deliveries (id, app, received_at, headers, body, secret_index, shape, path)
    SELECT * FROM unnest(ids, d_app, d_received_at, d_headers, d_body, d_secret_index, d_shape, d_path);
    -- Round r holds the r-th occurrence of each key in this batch: one upsert may not touch a row twice.
    FOR r IN 1..coalesce((SELECT max(x) FROM unnest(e_round) AS x), 0) LOOP
        WITH up AS (
            INSERT INTO events AS e
                (app, key, event_type, for_user_id, delivery_id, idx, received_at, last_seen_at, last_delivery_id,
                 status, first_path, webhook_at, stream_at)
            SELECT d_app[x.o], x.k, x.t, x.u, ids[x.o], x.i, d_received_at[x.o], d_received_at[x.o], ids[x.o], x.s,
                d_path[x.o], d_webhook_at[x.o], d_stream_at[x.o]
            FROM unnest(e_delivery, e_key, e_type, e_user, e_idx, e_round, e_status)
                WITH ORDINALITY AS x(o, k, t, u, i, rd, s, n)
            WHERE x.rd = r ORDER BY x.n
            ON CONFLICT (app, key) DO UPDATE SET duplicates = e.duplicates + 1,
                last_seen_at = excluded.last_seen_at, last_delivery_id = excluded.delivery_id,
                webhook_at = least(e.webhook_at, excluded.webhook_at),
                stream_at = least(e.stream_at, excluded.stream_at)
            RETURNING e.id, e.duplicates, e.last_delivery_id, e.last_seen_at
        )
        INSERT INTO sightings (event_id, delivery_id, seen_at)
        SELECT up.id, up.last_delivery_id, up.last_seen_at FROM up WHERE up.duplicates > 0;
    END LOOP;
    INSERT INTO rejections AS j (app, reason, count, last_at)
    SELECT * FROM unnest(r_app, r_reason, r_count, r_at)
    ON CONFLICT (app, reason) DO UPDATE SET count = j.count + excluded.count,
        last_at = greatest(j.last_at, excluded.last_at);
    INSERT INTO crc_log (app, at, latency, status, outcome)
    SELECT * FROM unnest(c_app, c_at, c_latency, c_status, c_outcome);
    IF heartbeat IS NOT NULL THEN
        INSERT INTO meta (name, value) VALUES ('heartbeat', heartbeat)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value;
    END IF;
    SELECT count(*) INTO seen FROM sightings AS s WHERE s.delivery_id = ANY (ids);
    IF cardinality(e_key) > seen THEN
        PERFORM pg_notify('{CHANNEL}', '');
    END IF;
    RETURN QUERY SELECT d.id, (SELECT count(*)::integer FROM sightings AS s WHERE s.delivery_id = d.id)
    FROM unnest(ids) AS d(id);
END
$$"""

V3 = (
    # Intake now sets each new event's status (`store.base.arrival_status`: `quarantined` for a body that cannot be
    # an X event), so the function takes one more array, `e_status`.
    "DROP FUNCTION IF EXISTS xhooks_intake(text[], float8[], bytea[], bytea[], int[], text[], int[], text[], text[],"
    " text[], int[], int[], text[], text[], int[], float8[], text[], float8[], float8[], int[], text[], text)",
    INTAKE_FUNCTION,
)

V5 = (
    # Which path carried each delivery (`store.base.DeliveryPath`), and per event the first path and the first time
    # on each; the intake function takes three more arrays (`d_path`, `d_webhook_at`, `d_stream_at`).
    "ALTER TABLE deliveries ADD COLUMN path text NOT NULL DEFAULT 'webhook'",
    "ALTER TABLE events ADD COLUMN first_path text NOT NULL DEFAULT 'webhook'",
    "ALTER TABLE events ADD COLUMN webhook_at double precision",
    "ALTER TABLE events ADD COLUMN stream_at double precision",
    "UPDATE events SET webhook_at = received_at",  # before version 5 every delivery was a webhook POST
    "DROP FUNCTION IF EXISTS xhooks_intake(text[], float8[], bytea[], bytea[], int[], text[], int[], text[], text[],"
    " text[], int[], int[], text[], text[], text[], int[], float8[], text[], float8[], float8[], int[], text[], text)",
    INTAKE_FUNCTION,
)

V6 = (
    # Retention and erasure (`store/retention.py`), as SQLite's migration 5: when a delivery's body and an event's
    # body went, the indexes pruning reads, and the audit record of erasures.
    "ALTER TABLE deliveries ADD COLUMN pruned_at double precision",
    "ALTER TABLE events ADD COLUMN pruned_at double precision",
    "CREATE INDEX events_delivery ON events (delivery_id)",
    "CREATE INDEX deliveries_unpruned ON deliveries (received_at) WHERE pruned_at IS NULL",
    "CREATE INDEX events_tombstones ON events (last_seen_at) WHERE pruned_at IS NOT NULL",
    """CREATE TABLE erasures (
        id bigserial PRIMARY KEY,
        at double precision NOT NULL,
        reason text NOT NULL,
        scope text NOT NULL,
        deliveries integer NOT NULL,
        events integer NOT NULL,
        event_id bigint
    )""",
    "CREATE INDEX erasures_event ON erasures (event_id)",
    # Every handler attempt (`Store.attempts`): when the claim began it, when and how it ended, its error.
    "ALTER TABLE events ADD COLUMN claimed_at double precision",
    """CREATE TABLE attempts (
        event_id bigint NOT NULL,
        attempt integer NOT NULL,
        worker text NOT NULL,
        started_at double precision,
        finished_at double precision NOT NULL,
        outcome text NOT NULL,
        error text
    )""",
    "CREATE INDEX attempts_event ON attempts (event_id)",
)

HAS_META = "SELECT to_regclass('meta') IS NOT NULL"
READ_VERSION = "SELECT value FROM meta WHERE name = 'schema_version'"
WRITE_VERSION = """
    INSERT INTO meta (name, value) VALUES ('schema_version', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value
"""

INTAKE = "SELECT out_delivery_id, out_duplicates FROM xhooks_intake(" + ", ".join(f"${n}" for n in range(1, 27)) + ")"

EVENT_COLUMNS = (
    "id, app, key, event_type, for_user_id, delivery_id, idx, received_at, status, attempts, duplicates,"
    " last_seen_at, last_error, first_path, webhook_at, stream_at, pruned_at"
)

# Due events, oldest first: an event is never due while an older unfinished event of its app and user exists.
# SKIP LOCKED lets workers claim side by side; a row another worker is claiming is skipped, and its user's
# later events stay blocked behind it (they are not due while it is unfinished), so a user's order holds.
CLAIM = f"""
    WITH due AS (
        SELECT e.id FROM events e
        WHERE e.status IN ('pending', 'claimed', 'retry')
          AND (e.status = 'pending'
               OR (e.status = 'retry' AND e.next_attempt_at <= $1)
               OR (e.status = 'claimed' AND e.lease_until <= $1))
          AND (e.for_user_id IS NULL OR NOT EXISTS (
               SELECT 1 FROM events o
               WHERE o.app = e.app AND o.for_user_id = e.for_user_id AND o.id < e.id
                 AND o.status IN ('pending', 'claimed', 'retry')))
        ORDER BY e.id
        LIMIT $2
        FOR UPDATE OF e SKIP LOCKED
    )
    UPDATE events AS c SET status = 'claimed', lease_owner = $3, lease_until = $1 + $4, claimed_at = $1,
        attempts = c.attempts + 1
    FROM due WHERE c.id = due.id
    RETURNING {", ".join(f"c.{name.strip()}" for name in EVENT_COLUMNS.split(","))},
        (SELECT d.body FROM deliveries d WHERE d.id = c.delivery_id) AS body
"""
COMPLETE = """
    UPDATE events SET status = $4, handled_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL
    WHERE id = $2 AND status = 'claimed' AND lease_owner = $3
"""
FAIL = """
    UPDATE events SET status = $1, next_attempt_at = $2, last_error = $3, lease_owner = NULL, lease_until = NULL
    WHERE id = $4 AND status = 'claimed' AND lease_owner = $5
"""
RENEW = "UPDATE events SET lease_until = $1 WHERE status = 'claimed' AND lease_owner = $2 AND id = ANY ($3::bigint[])"
"""A running handler's lease, extended (`Store.renew`)."""
RELEASE = f"""
    WITH released AS (
        UPDATE events SET status = 'pending', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
        WHERE status = 'claimed' AND lease_owner = $1 AND id = ANY ($2::bigint[])
        RETURNING id
    )
    SELECT pg_notify('{CHANNEL}', '') FROM (SELECT count(*) AS n FROM released) AS r WHERE r.n > 0
"""
REDISPATCH = """
    UPDATE events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
    WHERE status IN ('retry', 'handled', 'ignored', 'dead') AND pruned_at IS NULL
"""
"""A tombstone (its body pruned or erased) is never made due again: its handlers would get no body."""
NOTIFY = f"SELECT pg_notify('{CHANNEL}', '')"

# Spans: one writer per kind at a time (an advisory lock on the kind), then grow the newest or start a new one.
LOCK_SPAN_KIND = "SELECT pg_advisory_xact_lock(hashtextextended('span ' || $1, 0))"
NEWEST_SPAN = 'SELECT id, start, "end" FROM spans WHERE kind = $1 ORDER BY start DESC, id DESC LIMIT 1'
GROW_SPAN = 'UPDATE spans SET start = least(start, $1), "end" = greatest("end", $2) WHERE id = $3'
INSERT_SPAN = 'INSERT INTO spans (kind, start, "end") VALUES ($1, $2, $3)'

# Migration 4: each relay sink's own status per event (`xhooks.relay`).
#
# Taking in new events. Event ids come from a sequence, drawn before commit, so concurrent intakes commit them out of
# order: "every id above the cursor" would pass over an id still uncommitted below a committed one. A sink therefore
# advances its cursor only to a horizon that is final. An intake draws an event id while its transaction holds a
# ROW EXCLUSIVE lock on `events`, and keeps that lock until it ends. So at each claim the sink reads the sequence's
# last value, then (in a later statement) which transactions hold that lock (`pg_locks`): once all of them have ended,
# every id up to the value read is committed or never will be. If none holds it, the value is final at once;
# otherwise the sink notes value and writers and takes the events in at a later claim, when the writers are gone.
# See https://www.postgresql.org/docs/current/view-pg-locks.html and
# https://www.postgresql.org/docs/current/explicit-locking.html (ROW EXCLUSIVE is what INSERT and UPDATE take).
V4 = (
    """CREATE TABLE relay_sinks (
        sink text PRIMARY KEY, cursor bigint NOT NULL DEFAULT 0, horizon bigint, writers text[]
    )""",
    """CREATE TABLE relay_events (
        sink text NOT NULL,
        event_id bigint NOT NULL,
        app text NOT NULL,
        for_user_id text,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at double precision,
        lease_owner text,
        lease_until double precision,
        last_error text,
        handled_at double precision,
        PRIMARY KEY (sink, event_id)
    )""",
    "CREATE INDEX relay_events_due ON relay_events (sink, event_id) WHERE status IN ('pending', 'claimed', 'retry')",
    "CREATE INDEX relay_events_waiting_user ON relay_events (sink, app, for_user_id, event_id)"
    " WHERE status IN ('claimed', 'retry')",
)
ENSURE_SINK = "INSERT INTO relay_sinks (sink) VALUES ($1) ON CONFLICT (sink) DO NOTHING"
_EVENT_WRITERS = """SELECT l.virtualtransaction FROM pg_locks l
    WHERE l.locktype = 'relation' AND l.relation = 'events'::regclass AND l.mode = 'RowExclusiveLock'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
# The sink's row, locked for this claim (one claim of a sink at a time, across relays); whether the writers it noted
# have all ended; and the sequence's last value now, read before `EVENT_WRITERS` runs in the next statement.
LOCK_SINK = f"""
    SELECT cursor, horizon, writers, writers IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM ({_EVENT_WRITERS}) AS w WHERE w.virtualtransaction = ANY (writers)) AS settled,
        coalesce(pg_sequence_last_value('events_id_seq'::regclass), 0) AS last_id
    FROM relay_sinks WHERE sink = $1 FOR UPDATE
"""
EVENT_WRITERS = f"SELECT coalesce(array_agg(w.virtualtransaction), '{{}}') FROM ({_EVENT_WRITERS}) AS w"
NEW_EVENTS = """
    SELECT id, app, for_user_id, event_type, status FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3
"""
TAKE_IN = """
    INSERT INTO relay_events (sink, event_id, app, for_user_id)
    SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING
"""
SET_SINK = "UPDATE relay_sinks SET cursor = $2, horizon = $3, writers = $4 WHERE sink = $1"
RELAY_CLAIM = """
    WITH due AS (
        SELECT r.event_id FROM relay_events r
        WHERE r.sink = $1 AND r.status IN ('pending', 'claimed', 'retry')
          AND (r.status = 'pending'
               OR (r.status = 'retry' AND r.next_attempt_at <= $2)
               OR (r.status = 'claimed' AND r.lease_until <= $2))
          AND (r.for_user_id IS NULL OR NOT EXISTS (
               SELECT 1 FROM relay_events o
               WHERE o.sink = r.sink AND o.app = r.app AND o.for_user_id = r.for_user_id AND o.event_id < r.event_id
                 AND o.status IN ('claimed', 'retry')
                 AND ((o.status = 'claimed' AND o.lease_until > $2)
                      OR (o.status = 'retry' AND o.next_attempt_at > $2))))
        ORDER BY r.event_id LIMIT $3
    ), claimed AS (
        UPDATE relay_events r SET status = 'claimed', lease_owner = $4, lease_until = $2 + $5, attempts = r.attempts + 1
        FROM due WHERE r.sink = $1 AND r.event_id = due.event_id
        RETURNING r.*
    )
    SELECT {columns}, d.body, d.headers
    FROM claimed r JOIN events e ON e.id = r.event_id JOIN deliveries d ON d.id = e.delivery_id
    ORDER BY e.id
"""
RELAY_COMPLETE = """
    UPDATE relay_events SET status = 'handled', handled_at = $1, lease_owner = NULL, lease_until = NULL,
        last_error = NULL
    WHERE sink = $2 AND status = 'claimed' AND lease_owner = $3 AND event_id = ANY ($4::bigint[])
"""
RELAY_FAIL = """
    UPDATE relay_events SET status = $1, next_attempt_at = $2, last_error = $3, lease_owner = NULL, lease_until = NULL
    WHERE sink = $4 AND event_id = $5 AND status = 'claimed' AND lease_owner = $6
"""
RELAY_RELEASE = f"""
    WITH released AS (
        UPDATE relay_events SET status = 'pending', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL
        WHERE sink = $1 AND status = 'claimed' AND lease_owner = $2 AND event_id = ANY ($3::bigint[])
        RETURNING event_id
    )
    SELECT pg_notify('{CHANNEL}', '') FROM (SELECT count(*) AS n FROM released) AS r WHERE r.n > 0
"""
RELAY_REDISPATCH = """
    UPDATE relay_events SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_owner = NULL,
        lease_until = NULL
    WHERE sink = ? AND status IN ('retry', 'handled', 'ignored', 'dead')
"""

# The attempt a claimed event's worker finishes (`complete`, `fail`), recorded before its status changes.
RECORD_ATTEMPT = """
    INSERT INTO attempts (event_id, attempt, worker, started_at, finished_at, outcome, error)
    SELECT id, attempts, lease_owner, claimed_at, $1, $2, $3 FROM events
    WHERE id = $4 AND status = 'claimed' AND lease_owner = $5
"""
ATTEMPTS = (
    "SELECT attempt, worker, started_at, finished_at, outcome, error FROM attempts WHERE event_id = $1"
    " ORDER BY finished_at, attempt"
)
