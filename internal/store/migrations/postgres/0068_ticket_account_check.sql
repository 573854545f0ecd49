-- tickets.account_id: the same integrity as its foreign key, without a lock on the
-- account's row at every insert (issue 16 item 3, PostgreSQL creates).
--
-- A foreign key checks a new row by reading the referenced row FOR KEY SHARE. Every
-- ticket insert of an account locked that one accounts row: with concurrent creates the
-- row's lockers became a new multixact at each insert (WAL, the multixact SLRU, an
-- exclusive lock on the accounts page), and the creates queued on the page
-- (LWLock:BufferContent, MultiXactMemberBuffer waits on INSERT INTO tickets).
--
-- The lock is there so that the referenced row cannot be deleted, or its key changed,
-- before the inserting transaction commits. Accounts are never deleted and their ids
-- never change: nothing in Tandem does either. Both are now refused by the database
-- itself (accounts_kept), so a plain read of the row at insert is as strong as the
-- foreign key was: the account a ticket names exists when the ticket is written and
-- can never go away. tickets_account_exists makes that read, as the foreign key did,
-- and fails the same way (SQLSTATE 23503, the old constraint's name).
--
-- Only tickets changes: the other tables a ticket write inserts into (tags, audits,
-- comments, outboxes, events, report rows) have no foreign key. The other tables that
-- reference accounts keep theirs; they are written rarely. SQLite keeps its foreign
-- key: one writer, no row locks.
ALTER TABLE tickets DROP CONSTRAINT tickets_account_id_fkey;

CREATE FUNCTION tickets_account_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM accounts WHERE id = NEW.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert or update on table "tickets" violates foreign key constraint "tickets_account_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (account_id)=(%s) is not present in table "accounts".', NEW.account_id),
                  TABLE = 'tickets', CONSTRAINT = 'tickets_account_id_fkey';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER tickets_account_exists BEFORE INSERT OR UPDATE OF account_id ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_account_exists();

CREATE FUNCTION accounts_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'accounts are never deleted and keep their id (tickets.account_id relies on it, migration 0068)'
        USING ERRCODE = 'restrict_violation', TABLE = 'accounts';
END $$;

CREATE TRIGGER accounts_kept_delete BEFORE DELETE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_kept();
CREATE TRIGGER accounts_kept_id BEFORE UPDATE OF id ON accounts
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION accounts_kept();
CREATE TRIGGER accounts_kept_truncate BEFORE TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_kept();
