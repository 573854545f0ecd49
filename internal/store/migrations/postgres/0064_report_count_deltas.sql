-- Report counts as append-only deltas, folded into the totals in the background
-- (PostgreSQL; issue 16 item 3; docs/BENCHMARKS.md, branch pgcnt7; docs/REPORTS.md).
--
-- Migrations 0042, 0057 and 0062 added a commit's report counts to the account's shared
-- counter rows (report_daily_shards) with an upsert in a deferred trigger. That upsert
-- was the largest single PostgreSQL cost of a create, and a growing one: every commit
-- left a new version of each of ~9 hot rows, and while any long transaction was open
-- on the server none could be pruned, so each ON CONFLICT lookup walked them all
-- (90-135 us a commit with a free xmin horizon; 1.0 ms, then 3.0 ms, with one open).
--
-- Now a write inserts its differences into report_daily_deltas, in its own statement
-- (internal/report/daily.go): plain inserts, no row shared with another write, nothing
-- left for the commit to do. In the background one `serve` process at a time (a
-- try-lock) folds them: one statement deletes a batch of deltas and adds their sums to
-- the totals in report_daily_shards (shard 0), so a reader's snapshot sees every
-- committed write counted exactly once, either as a delta or in the totals. Readers sum
-- both tables (report.DailyCounts). report_daily_pending, its settle trigger and the
-- shards' try-locks go: nothing settles at commit any more.
CREATE TABLE report_daily_deltas (LIKE report_daily);
CREATE INDEX report_daily_deltas_key ON report_daily_deltas(account_id, dim, dim_id, kind, day);

-- A transaction's pending counts never outlive it, so the table is empty here.
DROP TABLE report_daily_pending;
DROP FUNCTION report_daily_settle();

-- The totals keep only shard 0: the fold is their one writer besides Rebuild, and a key
-- in one row is one row to read. Rebuild's inserts into report_daily go there too.
WITH moved AS (
    DELETE FROM report_daily_shards WHERE shard <> 0
    RETURNING account_id, dim, dim_id, kind, day, k1, k2, name, n
), sums AS (
    SELECT account_id, dim, dim_id, kind, day, k1, k2, name, SUM(n)::BIGINT AS n
    FROM moved GROUP BY account_id, dim, dim_id, kind, day, k1, k2, name
)
INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
SELECT account_id, dim, dim_id, kind, day, k1, k2, name, 0, n FROM sums
ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n;

CREATE OR REPLACE FUNCTION report_daily_to_shard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
    VALUES (NEW.account_id, NEW.dim, NEW.dim_id, NEW.kind, NEW.day, NEW.k1, NEW.k2, NEW.name, 0, NEW.n)
    ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END $$;

-- A ticket write's look at its account's report state (internal/report/daily.go), with
-- no row lock: a shared advisory lock of the account, which Rebuild takes exclusively,
-- keeps the two apart as report_state ... FOR SHARE did, without a multixact on the
-- account's one state row for every concurrent write. The function is VOLATILE, so its
-- SELECT takes a snapshot after the lock is granted: a write that waited for a Rebuild
-- reads the state that Rebuild committed.
CREATE FUNCTION report_state_for_write(acct BIGINT) RETURNS TABLE (version BIGINT, time_zone TEXT)
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('report_state'), hashint8(acct));
    RETURN QUERY SELECT s.version, s.time_zone FROM report_state s WHERE s.account_id = acct;
END $$;
