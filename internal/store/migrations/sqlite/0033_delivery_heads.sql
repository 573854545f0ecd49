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

-- sharing_outbox: lane (agreement_id, share_id)
ALTER TABLE sharing_outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE sharing_outbox SET head = 1 WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = sharing_outbox.agreement_id AND p.share_id = sharing_outbox.share_id AND p.id < sharing_outbox.id);
CREATE INDEX sharing_outbox_heads ON sharing_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;
CREATE TRIGGER sharing_outbox_head_insert AFTER INSERT ON sharing_outbox WHEN new.status = 'pending' BEGIN
    UPDATE sharing_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = new.agreement_id AND p.share_id = new.share_id AND p.id < new.id);
END;
CREATE TRIGGER sharing_outbox_head_repend AFTER UPDATE OF status ON sharing_outbox WHEN new.status = 'pending' AND old.status <> 'pending' BEGIN
    UPDATE sharing_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = new.agreement_id AND p.share_id = new.share_id AND p.id < new.id);
END;
CREATE TRIGGER sharing_outbox_head_done AFTER UPDATE OF status ON sharing_outbox WHEN old.status = 'pending' AND new.status <> 'pending' BEGIN
    UPDATE sharing_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = old.agreement_id AND p.share_id = old.share_id);
END;
CREATE TRIGGER sharing_outbox_head_delete AFTER DELETE ON sharing_outbox WHEN old.status = 'pending' BEGIN
    UPDATE sharing_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM sharing_outbox p WHERE p.status = 'pending' AND p.agreement_id = old.agreement_id AND p.share_id = old.share_id);
END;

-- sharing_attachment_fetches: lane (account_id, share_id)
ALTER TABLE sharing_attachment_fetches ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE sharing_attachment_fetches SET head = 1 WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = sharing_attachment_fetches.account_id AND p.share_id = sharing_attachment_fetches.share_id AND p.id < sharing_attachment_fetches.id);
CREATE INDEX sharing_attachment_fetches_heads ON sharing_attachment_fetches(next_attempt_at, id) WHERE status = 'pending' AND head;
CREATE TRIGGER sharing_attachment_fetches_head_insert AFTER INSERT ON sharing_attachment_fetches WHEN new.status = 'pending' BEGIN
    UPDATE sharing_attachment_fetches SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = new.account_id AND p.share_id = new.share_id AND p.id < new.id);
END;
CREATE TRIGGER sharing_attachment_fetches_head_repend AFTER UPDATE OF status ON sharing_attachment_fetches WHEN new.status = 'pending' AND old.status <> 'pending' BEGIN
    UPDATE sharing_attachment_fetches SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = new.account_id AND p.share_id = new.share_id AND p.id < new.id);
END;
CREATE TRIGGER sharing_attachment_fetches_head_done AFTER UPDATE OF status ON sharing_attachment_fetches WHEN old.status = 'pending' AND new.status <> 'pending' BEGIN
    UPDATE sharing_attachment_fetches SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = old.account_id AND p.share_id = old.share_id);
END;
CREATE TRIGGER sharing_attachment_fetches_head_delete AFTER DELETE ON sharing_attachment_fetches WHEN old.status = 'pending' BEGIN
    UPDATE sharing_attachment_fetches SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM sharing_attachment_fetches p WHERE p.status = 'pending' AND p.account_id = old.account_id AND p.share_id = old.share_id);
END;

-- mail_outbox: lane (account_id, ticket_id, rcpt_to)
ALTER TABLE mail_outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE mail_outbox SET head = 1 WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = mail_outbox.account_id AND p.ticket_id = mail_outbox.ticket_id AND p.rcpt_to = mail_outbox.rcpt_to AND p.id < mail_outbox.id);
CREATE INDEX mail_outbox_heads ON mail_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;
CREATE TRIGGER mail_outbox_head_insert AFTER INSERT ON mail_outbox WHEN new.status = 'pending' BEGIN
    UPDATE mail_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = new.account_id AND p.ticket_id = new.ticket_id AND p.rcpt_to = new.rcpt_to AND p.id < new.id);
END;
CREATE TRIGGER mail_outbox_head_repend AFTER UPDATE OF status ON mail_outbox WHEN new.status = 'pending' AND old.status <> 'pending' BEGIN
    UPDATE mail_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = new.account_id AND p.ticket_id = new.ticket_id AND p.rcpt_to = new.rcpt_to AND p.id < new.id);
END;
CREATE TRIGGER mail_outbox_head_done AFTER UPDATE OF status ON mail_outbox WHEN old.status = 'pending' AND new.status <> 'pending' BEGIN
    UPDATE mail_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = old.account_id AND p.ticket_id = old.ticket_id AND p.rcpt_to = old.rcpt_to);
END;
CREATE TRIGGER mail_outbox_head_delete AFTER DELETE ON mail_outbox WHEN old.status = 'pending' BEGIN
    UPDATE mail_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM mail_outbox p WHERE p.status = 'pending' AND p.account_id = old.account_id AND p.ticket_id = old.ticket_id AND p.rcpt_to = old.rcpt_to);
END;

-- webhook_outbox: lane (webhook_id, lane)
ALTER TABLE webhook_outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE webhook_outbox SET head = 1 WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = webhook_outbox.webhook_id AND p.lane = webhook_outbox.lane AND p.id < webhook_outbox.id);
CREATE INDEX webhook_outbox_heads ON webhook_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;
CREATE TRIGGER webhook_outbox_head_insert AFTER INSERT ON webhook_outbox WHEN new.status = 'pending' BEGIN
    UPDATE webhook_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = new.webhook_id AND p.lane = new.lane AND p.id < new.id);
END;
CREATE TRIGGER webhook_outbox_head_repend AFTER UPDATE OF status ON webhook_outbox WHEN new.status = 'pending' AND old.status <> 'pending' BEGIN
    UPDATE webhook_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = new.webhook_id AND p.lane = new.lane AND p.id < new.id);
END;
CREATE TRIGGER webhook_outbox_head_done AFTER UPDATE OF status ON webhook_outbox WHEN old.status = 'pending' AND new.status <> 'pending' BEGIN
    UPDATE webhook_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = old.webhook_id AND p.lane = old.lane);
END;
CREATE TRIGGER webhook_outbox_head_delete AFTER DELETE ON webhook_outbox WHEN old.status = 'pending' BEGIN
    UPDATE webhook_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM webhook_outbox p WHERE p.status = 'pending' AND p.webhook_id = old.webhook_id AND p.lane = old.lane);
END;

-- ai_outbox: lane (account_id, ticket_id)
ALTER TABLE ai_outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE ai_outbox SET head = 1 WHERE status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = ai_outbox.account_id AND p.ticket_id = ai_outbox.ticket_id AND p.id < ai_outbox.id);
CREATE INDEX ai_outbox_heads ON ai_outbox(next_attempt_at, id) WHERE status = 'pending' AND head;
CREATE TRIGGER ai_outbox_head_insert AFTER INSERT ON ai_outbox WHEN new.status = 'pending' BEGIN
    UPDATE ai_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = new.account_id AND p.ticket_id = new.ticket_id AND p.id < new.id);
END;
CREATE TRIGGER ai_outbox_head_repend AFTER UPDATE OF status ON ai_outbox WHEN new.status = 'pending' AND old.status <> 'pending' BEGIN
    UPDATE ai_outbox SET head = 1 WHERE id = new.id
        AND NOT EXISTS (SELECT 1 FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = new.account_id AND p.ticket_id = new.ticket_id AND p.id < new.id);
END;
CREATE TRIGGER ai_outbox_head_done AFTER UPDATE OF status ON ai_outbox WHEN old.status = 'pending' AND new.status <> 'pending' BEGIN
    UPDATE ai_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = old.account_id AND p.ticket_id = old.ticket_id);
END;
CREATE TRIGGER ai_outbox_head_delete AFTER DELETE ON ai_outbox WHEN old.status = 'pending' BEGIN
    UPDATE ai_outbox SET head = 1 WHERE NOT head AND id = (SELECT MIN(p.id) FROM ai_outbox p WHERE p.status = 'pending' AND p.account_id = old.account_id AND p.ticket_id = old.ticket_id);
END;
