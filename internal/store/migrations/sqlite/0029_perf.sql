-- Performance (issue 16).
--
-- 1. Full-text indexing at commit, not per write. Migration 0004's triggers fed the FTS5
-- tables row by row inside each write; under group commit every write runs in its own
-- SAVEPOINT (and INSERT ... RETURNING in a statement savepoint), and FTS5 flushes its
-- pending terms to a new segment at every savepoint, so a batch of 64 creates wrote 128
-- tiny segments and the merges they trigger. Now the insert triggers only note the new
-- row in fts_pending, and the store (internal/store/ftsqueue.go) indexes every noted row
-- in one statement per index just before the transaction commits: search stays
-- consistent at commit (the rows are in the index in the same transaction), a write
-- whose savepoint is rolled back takes its notes with it, and FTS5 sees one insert of
-- the whole batch.
--
-- Invariant: a row noted in fts_pending is not in its index. The update and delete
-- triggers therefore remove old terms only for rows not noted (a row inserted and
-- changed in the same transaction was never indexed), and note the new version. Notes
-- are added with NOT EXISTS rather than OR IGNORE: a trigger's conflict clause gives way
-- to the outer statement's.

CREATE TABLE fts_pending (
    tbl INTEGER NOT NULL, -- 1: tickets (tickets_fts), 2: ticket_comments (ticket_comments_fts)
    rid INTEGER NOT NULL, -- the row's rowid
    PRIMARY KEY (tbl, rid)
) WITHOUT ROWID;

DROP TRIGGER IF EXISTS tickets_fts_insert;
CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets WHEN new.deleted_at = 0 BEGIN
    INSERT INTO fts_pending (tbl, rid) SELECT 1, new.rowid WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = new.rowid);
END;

DROP TRIGGER IF EXISTS tickets_fts_update;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, description, deleted_at ON tickets
WHEN old.subject IS NOT new.subject OR old.description IS NOT new.description OR (old.deleted_at = 0) <> (new.deleted_at = 0) BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
        SELECT 'delete', old.rowid, old.subject, old.description
        WHERE old.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = old.rowid);
    INSERT INTO fts_pending (tbl, rid) SELECT 1, new.rowid WHERE new.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = new.rowid);
END;

DROP TRIGGER IF EXISTS tickets_fts_delete;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject, description)
        SELECT 'delete', old.rowid, old.subject, old.description
        WHERE old.deleted_at = 0 AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 1 AND rid = old.rowid);
    DELETE FROM fts_pending WHERE tbl = 1 AND rid = old.rowid;
END;

DROP TRIGGER IF EXISTS ticket_comments_fts_insert;
CREATE TRIGGER ticket_comments_fts_insert AFTER INSERT ON ticket_comments BEGIN
    INSERT INTO fts_pending (tbl, rid) SELECT 2, new.id WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = new.id);
END;

DROP TRIGGER IF EXISTS ticket_comments_fts_update;
CREATE TRIGGER ticket_comments_fts_update AFTER UPDATE OF plain_body ON ticket_comments
WHEN old.plain_body IS NOT new.plain_body BEGIN
    INSERT INTO ticket_comments_fts (ticket_comments_fts, rowid, plain_body)
        SELECT 'delete', old.id, old.plain_body
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = old.id);
    INSERT INTO fts_pending (tbl, rid) SELECT 2, new.id WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = new.id);
END;

DROP TRIGGER IF EXISTS ticket_comments_fts_delete;
CREATE TRIGGER ticket_comments_fts_delete AFTER DELETE ON ticket_comments BEGIN
    INSERT INTO ticket_comments_fts (ticket_comments_fts, rowid, plain_body)
        SELECT 'delete', old.id, old.plain_body
        WHERE NOT EXISTS (SELECT 1 FROM fts_pending WHERE tbl = 2 AND rid = old.id);
    DELETE FROM fts_pending WHERE tbl = 2 AND rid = old.id;
END;

-- 2. A ticket's earlier mail (internal/mail/send references: the newest nine Message-IDs
-- of the ticket). Without this index SQLite answered ORDER BY id DESC LIMIT 9 by walking
-- the account's whole outbox backwards (mail_outbox_account), reading every row: for a
-- new ticket, which has none, the whole outbox, on every create.
CREATE INDEX mail_outbox_ticket ON mail_outbox(account_id, ticket_id, id);
