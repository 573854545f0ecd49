-- Full-text search over tickets (subject, description) and their comments (plain_body),
-- with PostgreSQL's own text search. Each row stores its tsvector in a generated column
-- with a GIN index; PostgreSQL computes both inside the writing transaction, so a change
-- is searchable as soon as it commits, and this migration indexes the rows already
-- there. (Stored rather than recomputed: phrase and subject:/description: searches
-- re-check candidate rows, and parsing the text again for each one cost ten times more.)
--
-- Text is split on anything that is not a letter or digit before to_tsvector sees it, so
-- that PostgreSQL's parser finds the same words as SQLite's unicode61 tokenizer (it would
-- otherwise keep "bob@example.com" or "v1.2" whole). The 'simple' configuration folds
-- case and neither stems nor drops stop words. The subject carries weight A and the
-- description weight B, so subject: and description: queries use the same index.

CREATE FUNCTION tandem_ticket_tsv(subject TEXT, description TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector('simple'::regconfig, regexp_replace(subject, '[^[:alnum:]]+', ' ', 'g')), 'A')
              || setweight(to_tsvector('simple'::regconfig, regexp_replace(description, '[^[:alnum:]]+', ' ', 'g')), 'B') $$;

CREATE FUNCTION tandem_comment_tsv(body TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT to_tsvector('simple'::regconfig, regexp_replace(body, '[^[:alnum:]]+', ' ', 'g')) $$;

ALTER TABLE tickets ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (tandem_ticket_tsv(subject, description)) STORED;
ALTER TABLE ticket_comments ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (tandem_comment_tsv(plain_body)) STORED;

-- Soft-deleted tickets are left out of the index (searches only ask for live ones).
CREATE INDEX tickets_search ON tickets USING GIN (search_tsv) WHERE deleted_at = 0;
CREATE INDEX ticket_comments_search ON ticket_comments USING GIN (search_tsv);

-- created>2026-11-01 and order_by:created are the searches people type most after text.
CREATE INDEX tickets_created ON tickets (account_id, created_at, id);
