-- A write's report count deltas in one row (PostgreSQL; issue 16 item 3;
-- docs/BENCHMARKS.md, branch pgc12; docs/SERVICE_LEVELS.md).
--
-- Since 0064 a write inserted each of its count differences as a row of its own: a
-- ticket create about seven, each a heap insert and an index entry, and each deleted
-- again by the fold a second later, about 21 of a create's ~97 WAL records. Nothing
-- reads one delta alone: readers sum an account's deltas per key with its totals
-- (report.DailyCounts), and the fold sums a batch of them. Now a write inserts its
-- differences as one row, the JSON array it already built (report.insertDeltas):
-- one heap insert, one index entry and one delete a write. Readers and the fold expand
-- the arrays of the rows they read (json_to_recordset).
--
-- The deltas not folded yet go into the totals first, as the fold would add them, so
-- the table can change shape empty.
WITH moved AS (
    DELETE FROM report_daily_deltas
    RETURNING account_id, dim, dim_id, kind, day, k1, k2, name, n
), sums AS (
    SELECT account_id, dim, dim_id, kind, day, k1, k2, name, SUM(n)::BIGINT AS n
    FROM moved GROUP BY account_id, dim, dim_id, kind, day, k1, k2, name
)
INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
SELECT account_id, dim, dim_id, kind, day, k1, k2, name, 0, n FROM sums WHERE n <> 0
ORDER BY account_id, dim COLLATE "C", dim_id, kind COLLATE "C", day, k1, k2, name COLLATE "C"
ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n;

DROP TABLE report_daily_deltas;

-- deltas: [{"d": dim, "i": dim_id, "k": kind, "y": day, "a": k1, "b": k2, "m": name,
-- "n": n}, ...], every field present. JSON, not JSONB: a write only stores it, and
-- the text is checked, not converted; the fold reads each row once.
CREATE TABLE report_daily_deltas (
    account_id BIGINT NOT NULL,
    deltas JSON NOT NULL
);
CREATE INDEX report_daily_deltas_account ON report_daily_deltas(account_id);
