-- Incremental exports (docs/EXPORTS.md): a change log kept in commit order.
--
-- export_clock: per account, the last change number handed out (seq) and the last
-- generated timestamp (ts, unix seconds). ts never goes down, so ordering changes by
-- (ts, seq) is ordering them by seq.
--
-- export_changes: per exported record (kind 1 ticket, 2 user, 3 organization, 4 ticket
-- audit), the number and timestamp of its latest change.
--
-- Numbers must be handed out in commit order, or an export walking upwards could pass
-- a number whose transaction commits later. So the triggers are deferred: they run at
-- COMMIT, and the first one takes the account's export_clock row lock, held until the
-- commit is done. The next writer gets its number only after that, so once a change
-- numbered n is visible every change numbered below n is too. The lock is held only
-- for the commit itself, and nothing is locked after it, so it adds no deadlock.
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

CREATE FUNCTION export_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k INTEGER := TG_ARGV[0]::INTEGER;
    acct BIGINT;
    rid BIGINT;
    s BIGINT;
    t BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        acct := OLD.account_id; rid := OLD.id;
    ELSE
        acct := NEW.account_id; rid := NEW.id;
    END IF;
    INSERT INTO export_clock AS c (account_id, seq, ts)
        VALUES (acct, 1, FLOOR(EXTRACT(EPOCH FROM clock_timestamp()))::BIGINT)
        ON CONFLICT (account_id) DO UPDATE SET seq = c.seq + 1, ts = GREATEST(c.ts, EXCLUDED.ts)
        RETURNING c.seq, c.ts INTO s, t;
    INSERT INTO export_changes AS x (account_id, kind, row_id, seq, ts) VALUES (acct, k, rid, s, t)
        ON CONFLICT (account_id, kind, row_id) DO UPDATE SET seq = EXCLUDED.seq, ts = EXCLUDED.ts;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER tickets_export AFTER INSERT OR UPDATE ON tickets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION export_stamp('1');
CREATE CONSTRAINT TRIGGER users_export AFTER INSERT OR UPDATE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION export_stamp('2');
-- A deleted organization is a change too: the export shows it with deleted_at.
CREATE CONSTRAINT TRIGGER organizations_export AFTER INSERT OR UPDATE OR DELETE ON organizations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION export_stamp('3');
CREATE CONSTRAINT TRIGGER ticket_audits_export AFTER INSERT ON ticket_audits
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION export_stamp('4');

-- What exists already: numbered in the order it last changed.
INSERT INTO export_changes (account_id, kind, row_id, seq, ts)
SELECT account_id, kind, row_id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY ts, kind, row_id), ts FROM (
    SELECT account_id, 1 AS kind, id AS row_id, updated_at / 1000000 AS ts FROM tickets
    UNION ALL SELECT account_id, 2, id, updated_at / 1000000 FROM users
    UNION ALL SELECT account_id, 3, id, updated_at / 1000000 FROM organizations
    UNION ALL SELECT account_id, 4, id, created_at / 1000000 FROM ticket_audits
) AS existing;
INSERT INTO export_clock (account_id, seq, ts)
SELECT account_id, MAX(seq), MAX(ts) FROM export_changes GROUP BY account_id;
