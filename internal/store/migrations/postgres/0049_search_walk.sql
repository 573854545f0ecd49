-- Search walks on PostgreSQL (issue 16 item 4): a word in a large share of the tickets
-- is walked newest first (internal/search/walk.go), checking each ticket's vector until
-- 1,001 tickets have it. Reading each ticket's heap row for it (1.5 kB, forty columns to
-- step over to reach the vector) cost ten times the match itself: subject:printer (4 %
-- of the tickets) read 25,800 rows in 277 ms at a million tickets under load. These
-- indexes hold the account's live tickets in id order with the vectors and the times a
-- walk returns, so that the walk is an index-only scan (15 ms for the same 24,000 rows
-- at 100,000 tickets; "refund" 7 ms instead of 40). The vectors are those of 0004 and
-- 0034, not copies to maintain: PostgreSQL writes index entries in the writing
-- transaction, so search stays consistent at commit.
CREATE INDEX tickets_search_walk ON tickets (account_id, id) INCLUDE (search_tsv, updated_at, created_at) WHERE deleted_at = 0;
CREATE INDEX tickets_subject_walk ON tickets (account_id, id) INCLUDE (subject_tsv, updated_at, created_at) WHERE deleted_at = 0;
