-- Search at a million tickets (issue 16): the subject and the description get their own
-- tsvectors, stored and GIN-indexed like tickets.search_tsv (0004_search), so that
-- subject: and description: read an index of that field alone and the planner's
-- statistics see how common a word is in that field (a weight-labelled query on the
-- shared vector was estimated at 16% of the account and sorted every ticket: 4 s for
-- subject:printer at a million tickets). Each is split into words as comments are
-- (tandem_comment_tsv, 0004_search).
--
-- Searches walk their matches newest first and stop at the 1,000th (internal/search,
-- docs/SEARCH.md): ticket_comments_account walks an account's comments in id order.

ALTER TABLE tickets
    ADD COLUMN subject_tsv tsvector GENERATED ALWAYS AS (tandem_comment_tsv(subject)) STORED,
    ADD COLUMN description_tsv tsvector GENERATED ALWAYS AS (tandem_comment_tsv(description)) STORED;

CREATE INDEX tickets_search_subject ON tickets USING GIN (subject_tsv) WHERE deleted_at = 0;
CREATE INDEX tickets_search_description ON tickets USING GIN (description_tsv) WHERE deleted_at = 0;
CREATE INDEX ticket_comments_account ON ticket_comments (account_id, id);

ANALYZE tickets;
ANALYZE ticket_comments;
