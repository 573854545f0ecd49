-- Lane heads for the delivery queue (internal/delivery).
--
-- A queue claims only the first pending row of each lane (a share, a ticket's mail, a
-- webhook's ticket). Until now every claim found those rows by walking all pending rows
-- in id order and probing each for an earlier pending row of its lane: with a backlog
-- behind few lanes, each claim read the whole backlog (38% of the CPU of the webhook
-- benchmark at 1,000 events/s). Now every outbox table marks its lane heads in a column,
-- kept by triggers in the transaction that writes the rows, whichever code writes them
-- (enqueues, the queue's outcomes, a client's cancellations, retention): a claim reads
-- the due heads from a partial index and nothing else.
--
-- head is meaningful on pending rows only: a pending row is a head when no pending row of
-- its lane has a lower id. A row entering pending (inserted, or put back) is marked if it
-- is first; a row leaving pending (delivered, dead, cancelled, kept, deleted) marks the
-- next pending row of its lane.
--
-- On PostgreSQL two transactions may write one lane at once. A row entering pending is
-- marked at once if no earlier pending row is visible. If one is, it is looked at again
-- when the transaction commits (a deferred constraint trigger): the earlier pending row
-- found then is share-locked until the commit, so a transaction that is finishing that
-- row is waited for and the row looked at again (if it left pending, the next one is
-- taken, or none and the new row is marked); and a row leaving pending locks the next
-- pending row it marks. So a row entering pending is never left unmarked behind a head
-- that left pending in a transaction it could not see. The share lock is held only
-- while the writing transaction commits, so claims (which skip locked rows) and
-- outcomes are not held up for the whole of a long enqueuing transaction. Two rows
-- inserted into an empty lane by two transactions at once may both be marked: the claim
-- still checks that no earlier row of the lane is pending, so they go out in order.

-- sharing_outbox: lane (agreement_id, share_id)
ALTER TABLE sharing_outbox ADD COLUMN head BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE sharing_outbox SET head = TRUE WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = sharing_outbox.agreement_id AND p.share_id = sharing_outbox.share_id AND p.id < sharing_outbox.id);
CREATE INDEX sharing_outbox_heads ON sharing_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;

CREATE FUNCTION sharing_outbox_head_enter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.head := NOT EXISTS (SELECT 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = NEW.agreement_id AND p.share_id = NEW.share_id AND p.id < NEW.id);
    RETURN NEW;
END $$;
CREATE FUNCTION sharing_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = NEW.agreement_id AND p.share_id = NEW.share_id AND p.id < NEW.id
        ORDER BY p.id LIMIT 1 FOR SHARE;
    IF NOT FOUND THEN
        UPDATE sharing_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION sharing_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    SELECT p.id INTO next_id FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = OLD.agreement_id AND p.share_id = OLD.share_id
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE sharing_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sharing_outbox_head_insert BEFORE INSERT ON sharing_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION sharing_outbox_head_enter();
CREATE TRIGGER sharing_outbox_head_repend BEFORE UPDATE OF status ON sharing_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION sharing_outbox_head_enter();
CREATE CONSTRAINT TRIGGER sharing_outbox_head_settle_insert AFTER INSERT ON sharing_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.head) EXECUTE FUNCTION sharing_outbox_head_settle();
CREATE CONSTRAINT TRIGGER sharing_outbox_head_settle_repend AFTER UPDATE OF status ON sharing_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending' AND NOT NEW.head) EXECUTE FUNCTION sharing_outbox_head_settle();
CREATE TRIGGER sharing_outbox_head_done AFTER UPDATE OF status ON sharing_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending') EXECUTE FUNCTION sharing_outbox_head_leave();
CREATE TRIGGER sharing_outbox_head_delete AFTER DELETE ON sharing_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending') EXECUTE FUNCTION sharing_outbox_head_leave();

-- sharing_attachment_fetches: lane (account_id, share_id)
ALTER TABLE sharing_attachment_fetches ADD COLUMN head BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE sharing_attachment_fetches SET head = TRUE WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = sharing_attachment_fetches.account_id AND p.share_id = sharing_attachment_fetches.share_id AND p.id < sharing_attachment_fetches.id);
CREATE INDEX sharing_attachment_fetches_heads ON sharing_attachment_fetches(next_attempt_at, id) WHERE status = 'pending' AND head;

CREATE FUNCTION sharing_attachment_fetches_head_enter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.head := NOT EXISTS (SELECT 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.share_id = NEW.share_id AND p.id < NEW.id);
    RETURN NEW;
END $$;
CREATE FUNCTION sharing_attachment_fetches_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.share_id = NEW.share_id AND p.id < NEW.id
        ORDER BY p.id LIMIT 1 FOR SHARE;
    IF NOT FOUND THEN
        UPDATE sharing_attachment_fetches SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION sharing_attachment_fetches_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    SELECT p.id INTO next_id FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = OLD.account_id AND p.share_id = OLD.share_id
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE sharing_attachment_fetches SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sharing_attachment_fetches_head_insert BEFORE INSERT ON sharing_attachment_fetches
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION sharing_attachment_fetches_head_enter();
CREATE TRIGGER sharing_attachment_fetches_head_repend BEFORE UPDATE OF status ON sharing_attachment_fetches
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION sharing_attachment_fetches_head_enter();
CREATE CONSTRAINT TRIGGER sharing_attachment_fetches_head_settle_insert AFTER INSERT ON sharing_attachment_fetches DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.head) EXECUTE FUNCTION sharing_attachment_fetches_head_settle();
CREATE CONSTRAINT TRIGGER sharing_attachment_fetches_head_settle_repend AFTER UPDATE OF status ON sharing_attachment_fetches DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending' AND NOT NEW.head) EXECUTE FUNCTION sharing_attachment_fetches_head_settle();
CREATE TRIGGER sharing_attachment_fetches_head_done AFTER UPDATE OF status ON sharing_attachment_fetches
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending') EXECUTE FUNCTION sharing_attachment_fetches_head_leave();
CREATE TRIGGER sharing_attachment_fetches_head_delete AFTER DELETE ON sharing_attachment_fetches
    FOR EACH ROW WHEN (OLD.status = 'pending') EXECUTE FUNCTION sharing_attachment_fetches_head_leave();

-- mail_outbox: lane (account_id, ticket_id, rcpt_to)
ALTER TABLE mail_outbox ADD COLUMN head BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE mail_outbox SET head = TRUE WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = mail_outbox.account_id AND p.ticket_id = mail_outbox.ticket_id AND p.rcpt_to = mail_outbox.rcpt_to AND p.id < mail_outbox.id);
CREATE INDEX mail_outbox_heads ON mail_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;

CREATE FUNCTION mail_outbox_head_enter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.head := NOT EXISTS (SELECT 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.ticket_id = NEW.ticket_id AND p.rcpt_to = NEW.rcpt_to AND p.id < NEW.id);
    RETURN NEW;
END $$;
CREATE FUNCTION mail_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.ticket_id = NEW.ticket_id AND p.rcpt_to = NEW.rcpt_to AND p.id < NEW.id
        ORDER BY p.id LIMIT 1 FOR SHARE;
    IF NOT FOUND THEN
        UPDATE mail_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION mail_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    SELECT p.id INTO next_id FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = OLD.account_id AND p.ticket_id = OLD.ticket_id AND p.rcpt_to = OLD.rcpt_to
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE mail_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER mail_outbox_head_insert BEFORE INSERT ON mail_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION mail_outbox_head_enter();
CREATE TRIGGER mail_outbox_head_repend BEFORE UPDATE OF status ON mail_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION mail_outbox_head_enter();
CREATE CONSTRAINT TRIGGER mail_outbox_head_settle_insert AFTER INSERT ON mail_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.head) EXECUTE FUNCTION mail_outbox_head_settle();
CREATE CONSTRAINT TRIGGER mail_outbox_head_settle_repend AFTER UPDATE OF status ON mail_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending' AND NOT NEW.head) EXECUTE FUNCTION mail_outbox_head_settle();
CREATE TRIGGER mail_outbox_head_done AFTER UPDATE OF status ON mail_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending') EXECUTE FUNCTION mail_outbox_head_leave();
CREATE TRIGGER mail_outbox_head_delete AFTER DELETE ON mail_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending') EXECUTE FUNCTION mail_outbox_head_leave();

-- webhook_outbox: lane (webhook_id, lane)
ALTER TABLE webhook_outbox ADD COLUMN head BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE webhook_outbox SET head = TRUE WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = webhook_outbox.webhook_id AND p.lane = webhook_outbox.lane AND p.id < webhook_outbox.id);
CREATE INDEX webhook_outbox_heads ON webhook_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;

CREATE FUNCTION webhook_outbox_head_enter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.head := NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = NEW.webhook_id AND p.lane = NEW.lane AND p.id < NEW.id);
    RETURN NEW;
END $$;
CREATE FUNCTION webhook_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = NEW.webhook_id AND p.lane = NEW.lane AND p.id < NEW.id
        ORDER BY p.id LIMIT 1 FOR SHARE;
    IF NOT FOUND THEN
        UPDATE webhook_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION webhook_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    SELECT p.id INTO next_id FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = OLD.webhook_id AND p.lane = OLD.lane
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE webhook_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER webhook_outbox_head_insert BEFORE INSERT ON webhook_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION webhook_outbox_head_enter();
CREATE TRIGGER webhook_outbox_head_repend BEFORE UPDATE OF status ON webhook_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION webhook_outbox_head_enter();
CREATE CONSTRAINT TRIGGER webhook_outbox_head_settle_insert AFTER INSERT ON webhook_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.head) EXECUTE FUNCTION webhook_outbox_head_settle();
CREATE CONSTRAINT TRIGGER webhook_outbox_head_settle_repend AFTER UPDATE OF status ON webhook_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending' AND NOT NEW.head) EXECUTE FUNCTION webhook_outbox_head_settle();
CREATE TRIGGER webhook_outbox_head_done AFTER UPDATE OF status ON webhook_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending') EXECUTE FUNCTION webhook_outbox_head_leave();
CREATE TRIGGER webhook_outbox_head_delete AFTER DELETE ON webhook_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending') EXECUTE FUNCTION webhook_outbox_head_leave();

-- ai_outbox: lane (account_id, ticket_id)
ALTER TABLE ai_outbox ADD COLUMN head BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE ai_outbox SET head = TRUE WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = ai_outbox.account_id AND p.ticket_id = ai_outbox.ticket_id AND p.id < ai_outbox.id);
CREATE INDEX ai_outbox_heads ON ai_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;

CREATE FUNCTION ai_outbox_head_enter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.head := NOT EXISTS (SELECT 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.ticket_id = NEW.ticket_id AND p.id < NEW.id);
    RETURN NEW;
END $$;
CREATE FUNCTION ai_outbox_head_settle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = NEW.account_id AND p.ticket_id = NEW.ticket_id AND p.id < NEW.id
        ORDER BY p.id LIMIT 1 FOR SHARE;
    IF NOT FOUND THEN
        UPDATE ai_outbox SET head = TRUE WHERE id = NEW.id AND status = 'pending' AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION ai_outbox_head_leave() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    SELECT p.id INTO next_id FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = OLD.account_id AND p.ticket_id = OLD.ticket_id
        ORDER BY p.id LIMIT 1 FOR NO KEY UPDATE;
    IF FOUND THEN
        UPDATE ai_outbox SET head = TRUE WHERE id = next_id AND NOT head;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ai_outbox_head_insert BEFORE INSERT ON ai_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION ai_outbox_head_enter();
CREATE TRIGGER ai_outbox_head_repend BEFORE UPDATE OF status ON ai_outbox
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION ai_outbox_head_enter();
CREATE CONSTRAINT TRIGGER ai_outbox_head_settle_insert AFTER INSERT ON ai_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NOT NEW.head) EXECUTE FUNCTION ai_outbox_head_settle();
CREATE CONSTRAINT TRIGGER ai_outbox_head_settle_repend AFTER UPDATE OF status ON ai_outbox DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending' AND NOT NEW.head) EXECUTE FUNCTION ai_outbox_head_settle();
CREATE TRIGGER ai_outbox_head_done AFTER UPDATE OF status ON ai_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending') EXECUTE FUNCTION ai_outbox_head_leave();
CREATE TRIGGER ai_outbox_head_delete AFTER DELETE ON ai_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending') EXECUTE FUNCTION ai_outbox_head_leave();
