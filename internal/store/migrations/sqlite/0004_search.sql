-- Full-text search over tickets (subject, description) and their comments (plain_body),
-- with SQLite's FTS5. The indexes are external-content tables: they hold only the
-- tokens, the text stays in tickets and ticket_comments, and triggers keep them in step
-- inside the writing transaction, so a change is searchable as soon as it commits.
--
-- Only live tickets are indexed: the ticket index reads its content through a view of
-- the rows with deleted_at = 0, and the triggers add or remove a ticket when it is soft
-- deleted or restored. Comments of deleted tickets stay indexed; searches join to the
-- live ticket anyway.
--
-- unicode61 splits on anything that is not a letter or digit, folds case and removes
-- diacritics; internal/search tokenizes queries the same way.

CREATE VIEW tickets_fts_docs AS
    SELECT rowid AS doc_id, subject, description FROM tickets WHERE deleted_at = 0;

CREATE VIRTUAL TABLE tickets_fts USING fts5(
    subject, description,
    content = 'tickets_fts_docs', content_rowid = 'doc_id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets WHEN new.deleted_at = 0 BEGIN
    INSERT INTO tickets_fts (rowid, subject, description) VALUES (new.rowid, new.subject, new.description);
END;

-- Most ticket updates change neither text nor deletion; they leave the index alone.
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, description, deleted_at ON tickets
WHEN old.subject IS NOT new.subject OR old.description IS NOT new.description OR (old.deleted_at = 0) <> (new.deleted_at = 0) BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
        SELECT 'delete', old.rowid, old.subject, old.description WHERE old.deleted_at = 0;
    INSERT INTO tickets_fts (rowid, subject, description)
        SELECT new.rowid, new.subject, new.description WHERE new.deleted_at = 0;
END;

CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets WHEN old.deleted_at = 0 BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description) VALUES ('delete', old.rowid, old.subject, old.description);
END;

CREATE VIRTUAL TABLE ticket_comments_fts USING fts5(
    plain_body,
    content = 'ticket_comments', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- A search maps each matching comment to its ticket; this covering index answers that
-- without reading the comment rows, which hold the body three times.
CREATE INDEX ticket_comments_fts_key ON ticket_comments (id, account_id, ticket_id);

CREATE TRIGGER ticket_comments_fts_insert AFTER INSERT ON ticket_comments BEGIN
    INSERT INTO ticket_comments_fts (rowid, plain_body) VALUES (new.id, new.plain_body);
END;

CREATE TRIGGER ticket_comments_fts_update AFTER UPDATE OF plain_body ON ticket_comments
WHEN old.plain_body IS NOT new.plain_body BEGIN
    INSERT INTO ticket_comments_fts (ticket_comments_fts, rowid, plain_body) VALUES ('delete', old.id, old.plain_body);
    INSERT INTO ticket_comments_fts (rowid, plain_body) VALUES (new.id, new.plain_body);
END;

CREATE TRIGGER ticket_comments_fts_delete AFTER DELETE ON ticket_comments BEGIN
    INSERT INTO ticket_comments_fts (ticket_comments_fts, rowid, plain_body) VALUES ('delete', old.id, old.plain_body);
END;

-- Index what is already there.
INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');
INSERT INTO ticket_comments_fts (ticket_comments_fts) VALUES ('rebuild');

-- created>2026-11-01 and order_by:created are the searches people type most after text.
CREATE INDEX tickets_created ON tickets (account_id, created_at, id);
