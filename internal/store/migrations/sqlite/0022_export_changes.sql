-- Incremental exports (docs/EXPORTS.md): a change log kept in commit order.
--
-- export_clock: per account, the last change number handed out (seq) and the last
-- generated timestamp (ts, unix seconds). ts never goes down, so ordering changes by
-- (ts, seq) is ordering them by seq.
--
-- export_changes: per exported record (kind 1 ticket, 2 user, 3 organization, 4 ticket
-- audit), the number and timestamp of its latest change. Triggers write both tables in
-- the writing transaction, whichever code wrote the row. SQLite has one writer, so the
-- numbers are handed out in commit order: once a change numbered n is visible, every
-- change numbered below n is too, and an export that walks (ts, seq) upwards never
-- skips a change committed while it walks.
CREATE TABLE export_clock (
    account_id BIGINT PRIMARY KEY,
    seq        BIGINT NOT NULL,
    ts         BIGINT NOT NULL
);

CREATE TABLE export_changes (
    account_id BIGINT NOT NULL,
    kind       INTEGER NOT NULL,
    row_id     BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    ts         BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, row_id)
);
-- A page of an export is a range scan of this index (it covers the columns read).
CREATE INDEX export_changes_walk ON export_changes(account_id, kind, ts, seq, row_id);

-- export_keys: per account, the key export cursors are signed with.
CREATE TABLE export_keys (
    account_id BIGINT PRIMARY KEY,
    secret     TEXT NOT NULL
);

CREATE TRIGGER tickets_export_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 1, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
CREATE TRIGGER tickets_export_update AFTER UPDATE ON tickets BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 1, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
CREATE TRIGGER users_export_insert AFTER INSERT ON users BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 2, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
CREATE TRIGGER users_export_update AFTER UPDATE ON users BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 2, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
CREATE TRIGGER organizations_export_insert AFTER INSERT ON organizations BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 3, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
CREATE TRIGGER organizations_export_update AFTER UPDATE ON organizations BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 3, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
-- A deleted organization is a change too: the export shows it with deleted_at.
CREATE TRIGGER organizations_export_delete AFTER DELETE ON organizations BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (OLD.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT OLD.account_id, 3, OLD.id, seq, ts FROM export_clock WHERE account_id = OLD.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;
CREATE TRIGGER ticket_audits_export_insert AFTER INSERT ON ticket_audits BEGIN
    INSERT INTO export_clock (account_id, seq, ts) VALUES (NEW.account_id, 1, unixepoch())
        ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1, ts = MAX(ts, unixepoch());
    INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
        SELECT NEW.account_id, 4, NEW.id, seq, ts FROM export_clock WHERE account_id = NEW.account_id
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts;
END;

-- What exists already: numbered in the order it last changed.
INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
SELECT account_id, kind, row_id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY ts, kind, row_id), ts FROM (
    SELECT account_id, 1 AS kind, id AS row_id, updated_at / 1000000 AS ts FROM tickets
    UNION ALL SELECT account_id, 2, id, updated_at / 1000000 FROM users
    UNION ALL SELECT account_id, 3, id, updated_at / 1000000 FROM organizations
    UNION ALL SELECT account_id, 4, id, created_at / 1000000 FROM ticket_audits
) AS existing WHERE true;
INSERT INTO export_clock (account_id, seq, ts)
SELECT account_id, MAX(seq), MAX(ts) FROM export_changes GROUP BY account_id;
