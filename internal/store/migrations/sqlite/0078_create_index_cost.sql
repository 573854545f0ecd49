-- Fewer index entries a ticket create writes on SQLite (issue 16 item 2; docs/BENCHMARKS.md,
-- branch sqlidx11). Every query that reads these indexes names a value of the column
-- (=, IN, or a join on it), which SQLite's planner takes as implying `column IS NOT NULL`;
-- so a partial index of the rows where the column is set serves each of them, and the
-- tickets that leave it unset (nearly every new ticket) add no entry. A query asking for
-- the unset ones (search's problem_id:none, `IS NULL`) reads the account's tickets
-- through another index, as its plans did before.
--
-- * tickets_external (account_id, external_id): lookups by external_id=.
-- * tickets_problem (account_id, problem_id, id): a problem's incidents and their counts.
--
-- The plans of the statements reading them were compared before and after, on a fresh
-- database (no planner statistics) and on the seeded million-ticket one (with them).
-- With statistics the old full indexes, NULL for nearly every ticket, looked useless to
-- the planner: it walked the account's tickets for the list by external_id and scanned
-- the whole table for each problem's incident count. The partial indexes, once analyzed,
-- hold only the set values and are searched instead.

DROP INDEX IF EXISTS tickets_external;
CREATE INDEX tickets_external ON tickets (account_id, external_id) WHERE external_id IS NOT NULL;

DROP INDEX IF EXISTS tickets_problem;
CREATE INDEX tickets_problem ON tickets (account_id, problem_id, id) WHERE problem_id IS NOT NULL;
