-- Daily report counts added at commit on PostgreSQL (issue 16, internal/report/daily.go).
--
-- Every ticket write adds its difference to the account's report_daily rows (the day's
-- "created" count, its tags, its histograms): rows every write of the account shares. An
-- upsert locks them until the transaction ends, so when the write path's after-hook
-- upserted them, every concurrent write of the account waited there for the whole rest
-- of the previous write (the mail, webhook and live hooks, then COMMIT): creates at 16
-- clients spent most of their time in Lock:transactionid on report_daily.
--
-- Now the hook inserts its counts into report_daily_pending (one row per refresh, no
-- conflicts, no locks shared with other writes), and a deferred constraint trigger adds
-- them to report_daily when the transaction commits: the rows are locked only while the
-- commit runs, as the export clock already is (migration 0022). The first firing in a
-- transaction adds all of that transaction's pending counts, summed, in key order (two
-- writes lock the rows they share in the same order), and deletes them; later firings
-- find none. Pending rows never outlive their transaction, so the table is unlogged.
CREATE UNLOGGED TABLE report_daily_pending (
    tx         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    account_id BIGINT NOT NULL,
    counts     JSONB NOT NULL
);
CREATE INDEX report_daily_pending_tx ON report_daily_pending(tx);

CREATE FUNCTION report_daily_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH done AS (
        DELETE FROM report_daily_pending WHERE tx = pg_current_xact_id() RETURNING account_id, counts
    ), sums AS (
        SELECT p.account_id, c.d, c.i, c.k, c.y, c.a, c.b, c.m, SUM(c.n)::BIGINT AS n
        FROM done p, jsonb_to_recordset(p.counts) AS c(d TEXT, i BIGINT, k TEXT, y BIGINT, a BIGINT, b BIGINT, m TEXT, n BIGINT)
        GROUP BY p.account_id, c.d, c.i, c.k, c.y, c.a, c.b, c.m
    )
    INSERT INTO report_daily AS r (account_id, dim, dim_id, kind, day, k1, k2, name, n)
    SELECT account_id, d, i, k, y, a, b, m, n FROM sums WHERE n <> 0
    ORDER BY account_id, d COLLATE "C", i, k COLLATE "C", y, a, b, m COLLATE "C"
    ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER report_daily_pending_settle AFTER INSERT ON report_daily_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_daily_settle();
