-- What a ticket create costs PostgreSQL (issue 16 item 3; docs/BENCHMARKS.md, branch
-- pgwrite): the word pairs' function again, cheaper, computing the same vector.
--
-- tandem_pairs (migrations 0045, 0048) runs for every ticket and comment written, for
-- the pair indexes. It joined the vector's (lexeme, position) rows with themselves on
-- position + 1 and removed duplicate pairs with a sort. Now one pass over the rows in
-- position order pairs each word with the next row's (lead), and array_to_tsvector,
-- which sorts and removes duplicates itself, needs no DISTINCT. That is the same result
-- when no two lexemes share a position. Text split as Tandem splits it gives each word
-- its own position, except that PostgreSQL stores every position past 16,383 as 16,383:
-- when a vector has a shared position (the next row's position equals the row's own)
-- the function answers with the old query, so that the result is the same for every
-- vector and the indexes built with the old body stay valid. 6,000 vectors of the
-- outside suite's tickets and comments (about 32 words each): 1.2-1.3 s of a backend's
-- CPU before, 0.89-0.94 s after, the same vectors.
CREATE OR REPLACE FUNCTION tandem_pairs(v tsvector) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT COST 10000
    AS $$
DECLARE
    pairs tsvector;
    shared boolean;
BEGIN
    SELECT array_to_tsvector(COALESCE(array_agg(b.l || ' ' || b.n) FILTER (WHERE b.np = b.p + 1), '{}')),
           bool_or(b.np = b.p)
        INTO pairs, shared
        FROM (SELECT a.l, a.p, lead(a.l) OVER w AS n, lead(a.p) OVER w AS np
              FROM (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) a
              WINDOW w AS (ORDER BY a.p)) b;
    IF shared THEN
        RETURN (SELECT array_to_tsvector(COALESCE(array_agg(DISTINCT a.l || ' ' || b.l), '{}'))
            FROM (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) a
            JOIN (SELECT u.lexeme AS l, p FROM unnest(v) u, unnest(u.positions) p) b ON b.p = a.p + 1);
    END IF;
    RETURN pairs;
END $$;

-- The report counts a write queued (migration 0042) go straight to the backend's shard
-- (migration 0038) when the transaction commits. The settle function inserted them into
-- report_daily, whose BEFORE INSERT trigger then ran once per row (about seven rows a
-- create) to insert the row into report_daily_shards and skip it: the same rows, in the
-- same key order, now inserted into the shard table by one statement (the keys are
-- unique within it: they are the GROUP BY's). 3,000 settles of seven rows: 0.79-0.86 s of
-- a backend's CPU through the trigger, 0.39-0.49 s straight. Inserts into report_daily
-- (Rebuild) still go through the trigger.
CREATE OR REPLACE FUNCTION report_daily_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH done AS (
        DELETE FROM report_daily_pending WHERE tx = pg_current_xact_id() RETURNING account_id, counts
    ), sums AS (
        SELECT p.account_id, c.d, c.i, c.k, c.y, c.a, c.b, c.m, SUM(c.n)::BIGINT AS n
        FROM done p, jsonb_to_recordset(p.counts) AS c(d TEXT, i BIGINT, k TEXT, y BIGINT, a BIGINT, b BIGINT, m TEXT, n BIGINT)
        GROUP BY p.account_id, c.d, c.i, c.k, c.y, c.a, c.b, c.m
    )
    INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
    SELECT account_id, d, i, k, y, a, b, m, pg_backend_pid() % 16, n FROM sums WHERE n <> 0
    ORDER BY account_id, d COLLATE "C", i, k COLLATE "C", y, a, b, m COLLATE "C"
    ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END $$;
