-- Lane heads (migrations 0033, 0050): a writer's commit no longer waits for claims
-- (PostgreSQL).
--
-- A row written behind its lane's head is looked at again when its transaction commits
-- (the deferred "settle" trigger), to wait for a transaction that is taking the head out
-- of pending and would not see the new row: it locked the lane's first pending row FOR
-- SHARE. That also waited for every claim of the head (FOR UPDATE, held for the claim's
-- whole transaction: up to 64 heads, with the sharing client's coalescing of each lane's
-- queued bodies) and for its lease updates, and it wrote the lock into the row. A ticket
-- write queues its sharing call in the transaction that holds the ticket's row lock, so
-- every write to a shared ticket whose lane was being claimed waited at its commit,
-- holding the ticket, and the next writes of the ticket waited for it in turn (the 60 ms
-- average wait on the ticket's SELECT ... FOR UPDATE under 500 updates/s;
-- docs/BENCHMARKS.md, branch pgsh5).
--
-- Now the two triggers meet on a transaction-scoped advisory lock of the lane instead (a
-- key of its own: the table's name and the lane's values, hashed; two lanes that share
-- a key only wait for each other): the settle trigger takes it shared, then looks for an
-- earlier pending row; the "leave" trigger of a row leaving pending takes it exclusive,
-- then looks for the next pending row. Each statement of a trigger sees what committed
-- before it started, so either the leaving transaction holds the lock first and the
-- writer, after its commit, no longer sees the head pending and marks its row; or the
-- writer holds it first and the leaving transaction, after the writer's commit, finds
-- and marks the new row. Claims, leases, hurries and deferrals, which never take a row
-- out of pending, no longer hold up a writer, and a writer no longer holds up an
-- outcome's update (only its lookup of the next row, while the writer commits).
CREATE OR REPLACE FUNCTION sharing_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('sharing_outbox'), hashtext(NEW.agreement_id || '/' || NEW.share_id));
    PERFORM 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = NEW.agreement_id AND p.share_id = NEW.share_id AND p.id < NEW.id LIMIT 1;
    IF NOT FOUND THEN
        UPDATE sharing_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION sharing_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sharing_outbox'), hashtext(OLD.agreement_id || '/' || OLD.share_id));
    SELECT p.id INTO next_id FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = OLD.agreement_id AND p.share_id = OLD.share_id
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE sharing_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION sharing_attachment_fetches_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('sharing_attachment_fetches'), hashtext(NEW.account_id || '/' || NEW.share_id));
    PERFORM 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.share_id = NEW.share_id AND p.id < NEW.id LIMIT 1;
    IF NOT FOUND THEN
        UPDATE sharing_attachment_fetches SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION sharing_attachment_fetches_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('sharing_attachment_fetches'), hashtext(OLD.account_id || '/' || OLD.share_id));
    SELECT p.id INTO next_id FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = OLD.account_id AND p.share_id = OLD.share_id
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE sharing_attachment_fetches SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION mail_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('mail_outbox'), hashtext(NEW.account_id || '/' || NEW.ticket_id || '/' || NEW.rcpt_to));
    PERFORM 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.ticket_id = NEW.ticket_id AND p.rcpt_to = NEW.rcpt_to AND p.id < NEW.id LIMIT 1;
    IF NOT FOUND THEN
        UPDATE mail_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION mail_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('mail_outbox'), hashtext(OLD.account_id || '/' || OLD.ticket_id || '/' || OLD.rcpt_to));
    SELECT p.id INTO next_id FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = OLD.account_id AND p.ticket_id = OLD.ticket_id AND p.rcpt_to = OLD.rcpt_to
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE mail_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION webhook_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('webhook_outbox'), hashtext(NEW.webhook_id || '/' || NEW.lane));
    PERFORM 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = NEW.webhook_id AND p.lane = NEW.lane AND p.id < NEW.id LIMIT 1;
    IF NOT FOUND THEN
        UPDATE webhook_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION webhook_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('webhook_outbox'), hashtext(OLD.webhook_id || '/' || OLD.lane));
    SELECT p.id INTO next_id FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = OLD.webhook_id AND p.lane = OLD.lane
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE webhook_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION ai_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('ai_outbox'), hashtext(NEW.account_id || '/' || NEW.ticket_id));
    PERFORM 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.ticket_id = NEW.ticket_id AND p.id < NEW.id LIMIT 1;
    IF NOT FOUND THEN
        UPDATE ai_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION ai_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('ai_outbox'), hashtext(OLD.account_id || '/' || OLD.ticket_id));
    SELECT p.id INTO next_id FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = OLD.account_id AND p.ticket_id = OLD.ticket_id
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE ai_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;

-- The claim's lease update changes no indexed column: with room left on its page it is
-- a HOT update, which adds no entry to the table's four indexes (the heads index among
-- them, which every claim and idle poll walks). Rows are written once and updated two
-- or three times; 70 % leaves room for that on new pages.
ALTER TABLE sharing_outbox SET (fillfactor = 70);
