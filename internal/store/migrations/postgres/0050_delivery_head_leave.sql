-- Lane heads (migration 0033): only a row that was its lane's head looks for the next
-- one when it leaves pending (PostgreSQL).
--
-- A row leaving pending (delivered, dead, cancelled, kept, deleted) ran a trigger that
-- found its lane's first pending row, locked it and marked it, whether or not the row
-- leaving was the head. A delivery's outcome records every row the delivery stood for
-- (a sharing update coalesces up to its lane's next rows) in one UPDATE: the trigger ran
-- once per row, each time reading, locking and (not) updating the same next row, where
-- only the head's run can find anything to mark. A row that was not its lane's head has
-- an earlier pending row, which is still pending (nothing to mark) or leaves in the same
-- statement (and its own run marks the next row, seeing the whole statement's changes).
-- So the trigger now runs for former heads only: one lookup and one lock per outcome
-- instead of one per row, and a cancellation of a share's rows no longer locks the
-- lane's head from each of them.

DROP TRIGGER sharing_outbox_head_done ON sharing_outbox;
CREATE TRIGGER sharing_outbox_head_done AFTER UPDATE OF status ON sharing_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending' AND OLD.head) EXECUTE FUNCTION sharing_outbox_head_leave();
DROP TRIGGER sharing_outbox_head_delete ON sharing_outbox;
CREATE TRIGGER sharing_outbox_head_delete AFTER DELETE ON sharing_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND OLD.head) EXECUTE FUNCTION sharing_outbox_head_leave();

DROP TRIGGER sharing_attachment_fetches_head_done ON sharing_attachment_fetches;
CREATE TRIGGER sharing_attachment_fetches_head_done AFTER UPDATE OF status ON sharing_attachment_fetches
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending' AND OLD.head) EXECUTE FUNCTION sharing_attachment_fetches_head_leave();
DROP TRIGGER sharing_attachment_fetches_head_delete ON sharing_attachment_fetches;
CREATE TRIGGER sharing_attachment_fetches_head_delete AFTER DELETE ON sharing_attachment_fetches
    FOR EACH ROW WHEN (OLD.status = 'pending' AND OLD.head) EXECUTE FUNCTION sharing_attachment_fetches_head_leave();

DROP TRIGGER mail_outbox_head_done ON mail_outbox;
CREATE TRIGGER mail_outbox_head_done AFTER UPDATE OF status ON mail_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending' AND OLD.head) EXECUTE FUNCTION mail_outbox_head_leave();
DROP TRIGGER mail_outbox_head_delete ON mail_outbox;
CREATE TRIGGER mail_outbox_head_delete AFTER DELETE ON mail_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND OLD.head) EXECUTE FUNCTION mail_outbox_head_leave();

DROP TRIGGER webhook_outbox_head_done ON webhook_outbox;
CREATE TRIGGER webhook_outbox_head_done AFTER UPDATE OF status ON webhook_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending' AND OLD.head) EXECUTE FUNCTION webhook_outbox_head_leave();
DROP TRIGGER webhook_outbox_head_delete ON webhook_outbox;
CREATE TRIGGER webhook_outbox_head_delete AFTER DELETE ON webhook_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND OLD.head) EXECUTE FUNCTION webhook_outbox_head_leave();

DROP TRIGGER ai_outbox_head_done ON ai_outbox;
CREATE TRIGGER ai_outbox_head_done AFTER UPDATE OF status ON ai_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending' AND OLD.head) EXECUTE FUNCTION ai_outbox_head_leave();
DROP TRIGGER ai_outbox_head_delete ON ai_outbox;
CREATE TRIGGER ai_outbox_head_delete AFTER DELETE ON ai_outbox
    FOR EACH ROW WHEN (OLD.status = 'pending' AND OLD.head) EXECUTE FUNCTION ai_outbox_head_leave();
