-- Daily report counts spread over shards on PostgreSQL (issue 16, internal/report/daily.go).
--
-- Migration 0042 adds a transaction's report counts to report_daily when it commits, so
-- the rows are locked only while the commit runs. But every create of an account adds 1
-- to the same rows (the day's "created" count of the account, of its group, its tags...):
-- concurrent creates of one account still settled one at a time, each waiting for the
-- previous one's COMMIT, WAL flush included (Lock:transactionid, ~30 ms a create at 16
-- clients).
--
-- Now the counts live in report_daily_shards: each key has up to 16 rows, one per shard,
-- and a transaction adds its counts to its backend's shard (pg_backend_pid() % 16), so
-- concurrent commits from different connections mostly touch different rows. A count is
-- the sum of its shards (the readers in internal/report sum or add the rows up).
--
-- Writers still insert into report_daily (the settle trigger of migration 0042, Rebuild):
-- a BEFORE INSERT trigger adds each row to its shard instead and skips it, so
-- report_daily stays empty on PostgreSQL. (This migration may run before 0042, on a new
-- database, or after it, on an existing one: it leaves 0042's function alone.) One
-- transaction adds all its rows to one shard, in the order they come (0042 and Rebuild
-- insert them in key order), so two commits that share a shard lock the rows they share
-- in the same order. SQLite has one writer and no shards.
-- report_daily's columns (NOT NULL), and the shard.
CREATE TABLE report_daily_shards (LIKE report_daily);
ALTER TABLE report_daily_shards ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0,
    ADD PRIMARY KEY (account_id, dim, dim_id, kind, day, k1, k2, name, shard);

INSERT INTO report_daily_shards (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
    SELECT account_id, dim, dim_id, kind, day, k1, k2, name, 0, n FROM report_daily;
DELETE FROM report_daily;

CREATE FUNCTION report_daily_to_shard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
    VALUES (NEW.account_id, NEW.dim, NEW.dim_id, NEW.kind, NEW.day, NEW.k1, NEW.k2, NEW.name, pg_backend_pid() % 16, NEW.n)
    ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER report_daily_to_shard BEFORE INSERT ON report_daily
    FOR EACH ROW EXECUTE FUNCTION report_daily_to_shard();
