CREATE FUNCTION xhooks_intake(
    d_app text[], d_received_at float8[], d_headers bytea[], d_body bytea[], d_secret_index int[], d_shape text[],
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
    INSERT INTO deliveries (id, app, received_at, headers, body, secret_index, shape)
    SELECT * FROM unnest(ids, d_app, d_received_at, d_headers, d_body, d_secret_index, d_shape);
    -- Round r holds the r-th occurrence of each key in this batch: one upsert may not touch a row twice.
    FOR r IN 1..coalesce((SELECT max(x) FROM unnest(e_round) AS x), 0) LOOP
        WITH up AS (
            INSERT INTO events AS e
                (app, key, event_type, for_user_id, delivery_id, idx, received_at, last_seen_at, last_delivery_id,
                 status)
            SELECT d_app[x.o], x.k, x.t, x.u, ids[x.o], x.i, d_received_at[x.o], d_received_at[x.o], ids[x.o], x.s
            FROM unnest(e_delivery, e_key, e_type, e_user, e_idx, e_round, e_status)
                WITH ORDINALITY AS x(o, k, t, u, i, rd, s, n)
            WHERE x.rd = r ORDER BY x.n
            ON CONFLICT (app, key) DO UPDATE SET duplicates = e.duplicates + 1,
                last_seen_at = excluded.last_seen_at, last_delivery_id = excluded.delivery_id
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
        PERFORM pg_notify('xhooks_events', '');
    END IF;
    RETURN QUERY SELECT d.id, (SELECT count(*)::integer FROM sightings AS s WHERE s.delivery_id = d.id)
    FROM unnest(ids) AS d(id);
END
$$
