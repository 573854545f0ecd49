-- A commit adds its report counts to a shard no other commit is adding to (issue 16
-- item 3; docs/BENCHMARKS.md, branch pgc6).
--
-- The settle trigger (migrations 0042, 0057) added a transaction's counts to its
-- backend's shard, pg_backend_pid() % 16. Sixteen connections rarely have sixteen
-- different remainders (about ten on average), so concurrent creates of an account
-- still met on the same rows: the second waited, inside its COMMIT, for the first's
-- whole commit, WAL flush included, since the upsert's row locks last until then. At 16
-- clients that was the third wait of a create on PostgreSQL (Lock:transactionid on
-- commit, 370-730 samples of ~1,100 in bench/cmd/pgcost), and the settle's own time
-- 2.5-4.6 ms a create, mostly waiting.
--
-- Now the settle takes a transaction-scoped advisory lock of the shard it adds to,
-- trying its backend's shard first, then the next ones, with pg_try_advisory_xact_lock
-- (which never waits): two commits that hold different shard locks touch different
-- rows. Only when all 16 are taken does it add to its backend's shard and wait for the
-- rows as before. The lock ends with the transaction, as the row locks do. The counts,
-- the key order of the upsert and the readers (the sum of a key's shards) are unchanged;
-- Rebuild (which holds report_state exclusively, so no write of the account settles
-- meanwhile) still inserts through report_daily's trigger.
CREATE OR REPLACE FUNCTION report_daily_settle() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    own INTEGER := pg_backend_pid() % 16;
    pick INTEGER := own;
BEGIN
    FOR step IN 0..15 LOOP
        IF pg_try_advisory_xact_lock(hashtext('report_daily_shards'), (own + step) % 16) THEN
            pick := (own + step) % 16;
            EXIT;
        END IF;
    END LOOP;
    WITH done AS (
        DELETE FROM report_daily_pending WHERE tx = pg_current_xact_id() RETURNING account_id, counts
    ), sums AS (
        SELECT p.account_id, c.d, c.i, c.k, c.y, c.a, c.b, c.m, SUM(c.n)::BIGINT AS n
        FROM done p, jsonb_to_recordset(p.counts) AS c(d TEXT, i BIGINT, k TEXT, y BIGINT, a BIGINT, b BIGINT, m TEXT, n BIGINT)
        GROUP BY p.account_id, c.d, c.i, c.k, c.y, c.a, c.b, c.m
    )
    INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
    SELECT account_id, d, i, k, y, a, b, m, pick, n FROM sums WHERE n <> 0
    ORDER BY account_id, d COLLATE "C", i, k COLLATE "C", y, a, b, m COLLATE "C"
    ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END $$;
