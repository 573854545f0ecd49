-- Search walks with a filter on PostgreSQL (issue 16 item 4): the walk indexes of 0049
-- hold each live ticket's vector and times, so that a common word's walk is an
-- index-only scan; a walk that also checks a column they lack (refund status:open, a
-- word with assignee:, group:, priority:, or a restricted agent's groups) fell back to
-- reading every walked ticket's heap row (2 kB, forty columns) through tickets_pkey, and
-- the comment walk read each of its candidates' ticket rows the same way. These indexes
-- add the columns such filters and the caller's access read, a few bytes next to the
-- vector: "refund status:open" cost 39-45 ms of PostgreSQL CPU at 100,000 tickets, 17-18
-- ms with them (docs/BENCHMARKS.md, branch pgr5). Same names, same keys; PostgreSQL
-- writes index entries in the writing transaction, so search stays consistent at commit.
CREATE INDEX tickets_search_walk_0059 ON tickets (account_id, id)
    INCLUDE (search_tsv, updated_at, created_at, status, priority, type, requester_id, assignee_id, organization_id, group_id)
    WHERE deleted_at = 0;
DROP INDEX tickets_search_walk;
ALTER INDEX tickets_search_walk_0059 RENAME TO tickets_search_walk;
CREATE INDEX tickets_subject_walk_0059 ON tickets (account_id, id)
    INCLUDE (subject_tsv, updated_at, created_at, status, priority, type, requester_id, assignee_id, organization_id, group_id)
    WHERE deleted_at = 0;
DROP INDEX tickets_subject_walk;
ALTER INDEX tickets_subject_walk_0059 RENAME TO tickets_subject_walk;
