-- The export's change order on PostgreSQL without a per-account lock shared by writers
-- (issue 16 item 3; docs/EXPORTS.md, "Nothing is skipped under concurrent writes").
--
-- Migration 0022 numbered changes in commit order by taking the account's export_clock
-- row at COMMIT, so every commit of an account waited for the previous one's WAL flush
-- (Lock:transactionid): one account committed one write at a time.
--
-- Now a change's number comes from one sequence (nextval takes no lock) and its time
-- from the clock, both taken at COMMIT as before. Numbers are no longer in commit order,
-- so it is the export that makes sure it never passes a number whose transaction may
-- still commit: before a page, it asks for the account's horizon (export_horizon), the
-- last number handed out and the current second, and the page holds only changes
-- numbered at or below that number. Every one of those has committed (or rolled back)
-- by then, and every change not yet visible will get a higher number and a time at or
-- after that second:
--
--   - a writer takes a SHARED advisory lock on the account, then its number;
--   - the horizon takes the same lock EXCLUSIVE, which waits for the writers that hold
--     it (those between their number and the end of their commit), reads the sequence
--     and the clock, and lets go at once (its statement is its transaction).
--
-- Shared locks do not conflict, so writers never wait for one another here: they wait
-- only while an export reads its horizon (a few rows' time, at most 10 exports a minute
-- an account). The lock is taken last in a write (at COMMIT, with nothing locked after
-- it but report_daily's rows, which only other commits lock), so it adds no deadlock.
-- The key is (41, account modulo 2^31-1): two accounts sharing a key only wait for each
-- other's exports; nothing is ordered wrongly by it.
--
-- The view counts' freshness version (internal/rules) uses export_version: the newest
-- ticket change's position, and whether it was read when no writer of the account was
-- committing (a try-lock: it never waits and never holds writers up).
--
-- export_clock stays for SQLite's sake and for old tools; PostgreSQL no longer writes it.
CREATE SEQUENCE export_seq;
SELECT setval('export_seq', GREATEST((SELECT COALESCE(MAX(seq), 0) FROM export_changes), (SELECT COALESCE(MAX(seq), 0) FROM export_clock), 1));

CREATE OR REPLACE FUNCTION export_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k INTEGER := TG_ARGV[0]::INTEGER;
    acct BIGINT;
    rid BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        acct := OLD.account_id; rid := OLD.id;
    ELSE
        acct := NEW.account_id; rid := NEW.id;
    END IF;
    -- The lock before the number: a number handed out is always covered by a lock.
    PERFORM pg_advisory_xact_lock_shared(41, (acct % 2147483647)::INTEGER);
    INSERT INTO export_changes AS x (account_id, kind, row_id, seq, ts)
        VALUES (acct, k, rid, nextval('export_seq'), FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))::BIGINT)
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = EXCLUDED.seq, ts = EXCLUDED.ts;
    RETURN NULL;
END $$;

-- export_horizon: every change of the account numbered at or below seq has committed or
-- rolled back, and every change not yet visible will be numbered above seq and stamped
-- at or after ts. Call it in a statement of its own (outside a transaction), so that the
-- lock goes at once and the page's reads, made after it, see those commits.
CREATE FUNCTION export_horizon(acct BIGINT, OUT ts BIGINT, OUT seq BIGINT) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(41, (acct % 2147483647)::INTEGER);
    SELECT last_value INTO seq FROM export_seq;
    ts := FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))::BIGINT;
END $$;

-- export_version: the position of the account's newest ticket change (zeros for none),
-- and settled: no writer of the account was between its number and its commit, so any
-- ticket change not seen here will come out above this position.
CREATE FUNCTION export_version(acct BIGINT, OUT ts BIGINT, OUT seq BIGINT, OUT settled BOOLEAN) LANGUAGE plpgsql AS $$
BEGIN
    settled := pg_try_advisory_xact_lock(41, (acct % 2147483647)::INTEGER);
    SELECT x.ts, x.seq INTO ts, seq FROM export_changes x WHERE x.account_id = acct AND x.kind = 1
        ORDER BY x.ts DESC, x.seq DESC LIMIT 1;
    ts := COALESCE(ts, 0);
    seq := COALESCE(seq, 0);
END $$;
