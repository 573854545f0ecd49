-- Fewer index entries and no speculative insertions where a create cannot conflict
-- (issue 16 item 3; docs/BENCHMARKS.md, branch pgc11).
--
-- tickets_external and tickets_problem keep only the tickets that have an external id
-- or a problem. Every reader of either asks for one value (t.external_id = ?, the
-- problem's incidents t.problem_id = ?, the incident count, problem_id: searches), and
-- an equality on a column implies the column is not null, so the planner proves these
-- partial indexes usable for every one of them. problem_id:none (IS NULL) reads most of
-- an account's tickets and never used the index. Most tickets have neither, so a
-- create wrote two index entries (account_id, NULL) that no query reads.
DROP INDEX tickets_external;
CREATE INDEX tickets_external ON tickets(account_id, external_id) WHERE external_id IS NOT NULL;
DROP INDEX tickets_problem;
CREATE INDEX tickets_problem ON tickets(account_id, problem_id, id) WHERE problem_id IS NOT NULL;

-- An audit's change is stamped with a plain INSERT. ticket_audits_export fires only
-- when an audit is inserted, and an audit's id is new then (an identity, never reused),
-- so no change of it can be stamped already: INSERT ... ON CONFLICT found nothing to
-- update, and paid for it with a speculative insertion (a probe of the key first, a
-- lock on a speculative token, and a WAL record confirming the row). Tickets, users and
-- organizations change after their insert and keep the upsert.
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
    IF k = 4 AND TG_OP = 'INSERT' THEN
        INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
            VALUES (acct, k, rid, nextval('export_seq'), FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))::BIGINT);
    ELSE
        INSERT INTO export_changes AS x (account_id, kind, row_id, seq, ts)
            VALUES (acct, k, rid, nextval('export_seq'), FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))::BIGINT)
            ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = EXCLUDED.seq, ts = EXCLUDED.ts;
    END IF;
    RETURN NULL;
END $$;
