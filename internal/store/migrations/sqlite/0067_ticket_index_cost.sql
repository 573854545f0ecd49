-- Fewer index entries a ticket write on SQLite (issue 16 item 2; docs/BENCHMARKS.md,
-- branch sqlw8), as PostgreSQL's 0066 did there. Every query on tickets but the deleted
-- tickets' list and lookups by primary key reads live tickets only, with the literal
-- deleted_at = 0 that lets SQLite use a partial index; so an index of every ticket that
-- has a partial twin of live tickets over the same leading columns serves no query the
-- twin cannot, and each ticket insert paid for both. The plans of the queries the tests
-- run (EXPLAIN QUERY PLAN, about 2,300 statements naming tickets) were compared before
-- and after: each that changed reads another index of the same or narrower range.
--
-- * tickets_assignee (account_id, assignee_id, status) had the keys of
--   tickets_live_assignee (0003), which holds live tickets only: dropped.
-- * tickets_status (account_id, status, updated_at) and tickets_live_status
--   (account_id, status) WHERE deleted_at = 0 become one partial index of the three
--   keys, under the second's name. PostgreSQL keeps both, as B-tree deduplication makes
--   its two-key index five times smaller than three keys; SQLite's entries deduplicate
--   nothing and carry the rowid anyway, so a count by status reads a few more pages.
--
-- Not merged: tickets_created with tickets_report_created. One partial index of both
-- (the list's keys, then the report's columns) covers so many queries that SQLite's
-- planner, without statistics, scanned it for the whole account instead of looking
-- tickets up by rowid or by an SLA target's ticket.
--
-- The deleted tickets' list (deleted_at > 0) reads the account's tickets by primary key
-- or tickets_updated, as before.

DROP INDEX IF EXISTS tickets_assignee;

DROP INDEX IF EXISTS tickets_status;
DROP INDEX IF EXISTS tickets_live_status;
CREATE INDEX tickets_live_status ON tickets (account_id, status, updated_at) WHERE deleted_at = 0;
