-- Phrases on SQLite (issue 16 item 4): indexes of neighbouring word pairs, as
-- PostgreSQL's migration 0045.
--
-- A phrase of common words ("blender warranty invoice": each word in over 40 % of a
-- million tickets, the phrase in about 100) was answered by FTS5 walking every word's
-- whole doclist and comparing positions: 92 % of the search's CPU. These contentless
-- FTS5 tables hold each text's pairs of neighbouring words as single tokens
-- ("blender_warranty warranty_invoice ..."), in the order of the text, so that the
-- phrase "a b c" is exactly the phrase "a_b b_c" of pair tokens there (positions
-- included: detail=full), read from two short doclists. The text of a column is turned
-- into its pairs by tandem_pairs(text), a function the store registers on every
-- connection (internal/store/pairs.go), which splits words as unicode61 does; the
-- tokenizer below folds case and diacritics as the word indexes do, and keeps '_' (never
-- inside a word: unicode61 splits on it) inside a token. A pair never spans the seam of
-- subject and description: they are separate columns, as in tickets_fts. Nothing ranks
-- by them, so they keep no sizes of rows (columnsize=0: no %_docsize row a write).
--
-- Kept in step with tickets_fts and ticket_comments_fts (migration 0029): rows are
-- added at commit from fts_pending (internal/store/ftsqueue.go), and the update and
-- delete triggers, recreated here, remove a row's old pairs when they remove its old
-- words (same invariant: a row noted in fts_pending is in neither index).

CREATE VIRTUAL TABLE tickets_pairs USING fts5(
    subject, description,
    content = '', columnsize = 0,
    tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
);

CREATE VIRTUAL TABLE ticket_comments_pairs USING fts5(
    plain_body,
    content = '', columnsize = 0,
    tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
);

DROP TRIGGER IF EXISTS tickets_fts_update;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, description, deleted_at ON tickets
WHEN old.subject IS NOT new.subject OR old.description IS NOT new.description OR (old.deleted_at = 0) <> (new.deleted_at = 0) BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
        SELECT 'delete', old.rowid, old.subject, old.description
        WHERE old.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = old.rowid);
    INSERT INTO tickets_pairs (tickets_pairs, rowid, subject, description)
        SELECT 'delete', old.rowid, tandem_pairs(old.subject), tandem_pairs(old.description)
        WHERE old.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = old.rowid);
    INSERT INTO fts_pending (tbl, rid) SELECT 1, new.rowid WHERE new.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = new.rowid);
END;

DROP TRIGGER IF EXISTS tickets_fts_delete;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
        SELECT 'delete', old.rowid, old.subject, old.description
        WHERE old.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = old.rowid);
    INSERT INTO tickets_pairs (tickets_pairs, rowid, subject, description)
        SELECT 'delete', old.rowid, tandem_pairs(old.subject), tandem_pairs(old.description)
        WHERE old.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = old.rowid);
    DELETE FROM fts_pending WHERE tbl = 1 AND rid = old.rowid;
END;

DROP TRIGGER IF EXISTS ticket_comments_fts_update;
CREATE TRIGGER ticket_comments_fts_update AFTER UPDATE OF plain_body ON ticket_comments
WHEN old.plain_body IS NOT new.plain_body BEGIN
    INSERT INTO ticket_comments_fts (ticket_comments_fts, rowid, plain_body)
        SELECT 'delete', old.id, old.plain_body
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = old.id);
    INSERT INTO ticket_comments_pairs (ticket_comments_pairs, rowid, plain_body)
        SELECT 'delete', old.id, tandem_pairs(old.plain_body)
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = old.id);
    INSERT INTO fts_pending (tbl, rid) SELECT 2, new.id WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = new.id);
END;

DROP TRIGGER IF EXISTS ticket_comments_fts_delete;
CREATE TRIGGER ticket_comments_fts_delete AFTER DELETE ON ticket_comments BEGIN
    INSERT INTO ticket_comments_fts (ticket_comments_fts, rowid, plain_body)
        SELECT 'delete', old.id, old.plain_body
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = old.id);
    INSERT INTO ticket_comments_pairs (ticket_comments_pairs, rowid, plain_body)
        SELECT 'delete', old.id, tandem_pairs(old.plain_body)
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = old.id);
    DELETE FROM fts_pending WHERE tbl = 2 AND rid = old.id;
END;

-- Index what is already there (the rows in the word indexes: not those noted in
-- fts_pending, which is empty between transactions anyway), each index in one statement
-- and then merged into one segment.
INSERT INTO tickets_pairs (rowid, subject, description)
    SELECT rowid, tandem_pairs(subject), tandem_pairs(description) FROM tickets
    WHERE deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = tickets.rowid);
INSERT INTO ticket_comments_pairs (rowid, plain_body)
    SELECT id, tandem_pairs(plain_body) FROM ticket_comments
    WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = ticket_comments.id);
INSERT INTO tickets_pairs (tickets_pairs) VALUES ('optimize');
INSERT INTO ticket_comments_pairs (ticket_comments_pairs) VALUES ('optimize');
