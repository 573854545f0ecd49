-- Fewer index entries a ticket write (issue 16 item 3; docs/BENCHMARKS.md, branch
-- pgidx7). Every query on tickets but the deleted tickets' list and lookups by primary
-- key reads live tickets only (deleted_at = 0), so an index of every ticket that has a
-- partial twin of live tickets over the same leading columns serves no query the twin
-- cannot, and each ticket insert paid for both.
--
-- * tickets_assignee (account_id, assignee_id, status) had the same keys as
--   tickets_live_assignee (0003), which holds live tickets only: dropped.
-- * tickets_status (account_id, status, updated_at) and tickets_live_status
--   (account_id, status) WHERE deleted_at = 0 stay both: merged into one partial index
--   of the three keys, a view's count by status read 5 times the pages (1,015 against
--   195 at 300,000 tickets), since B-tree deduplication keeps the two-key index small.
-- * tickets_created (account_id, created_at, id) and tickets_report_created
--   (account_id, created_at, first_reply_at, group_id, organization_id) WHERE
--   deleted_at = 0 become one partial index: the list's keys (created_at, id), with the
--   report's other columns carried along (INCLUDE), since the report reads a range of
--   created_at and only filters on the others.
-- * description: searches read the weighted vector of subject and description
--   (search_tsv, weight B: the description's words), like free-text phrases already do
--   for each field, so the GIN index of the description's own vector (0034, about 40
--   entries a ticket) is dropped. The walk of a description: term is now the
--   index-only walk of tickets_search_walk (0059), where it read each walked ticket's
--   row before. The vector itself, description_tsv, stays for now, unread: dropping the
--   column made the planner walk small test tables through tickets_pkey instead of
--   tickets_search_walk in about half the runs of TestWalksReadOnlyTheirIndex (not
--   understood yet; docs/BENCHMARKS.md, the session's quiet window of 2026-12-07 11:06).
--
-- The deleted tickets' list (deleted_at > 0) had no index of its own before either.
-- PostgreSQL writes index entries in the writing transaction: search stays consistent
-- at commit.

DROP INDEX tickets_assignee;

CREATE INDEX tickets_created_0066 ON tickets (account_id, created_at, id)
    INCLUDE (first_reply_at, group_id, organization_id) WHERE deleted_at = 0;
DROP INDEX tickets_created;
DROP INDEX tickets_report_created;
ALTER INDEX tickets_created_0066 RENAME TO tickets_created;

DROP INDEX tickets_search_description;

ANALYZE tickets;
