-- The automation indexes of 0023 over a time that may be unset (0 = never: opened,
-- pending, on hold, solved, assigned, updated by the requester or the assignee, due)
-- held an entry for every live ticket, set or not, so each create wrote six to eight
-- entries no pass ever reads: an hours condition compiles to "column > 0 AND ..."
-- (internal/rules, timeCond), which is this predicate, so the planner still picks
-- the index. Now only tickets with the time set are in them. The SLA breach index
-- likewise keeps only tickets with a running target.
DROP INDEX tickets_auto_opened;
CREATE INDEX tickets_auto_opened ON tickets(account_id, opened_at) WHERE deleted_at = 0 AND status <> 'closed' AND opened_at > 0;
DROP INDEX tickets_auto_pending;
CREATE INDEX tickets_auto_pending ON tickets(account_id, pending_at) WHERE deleted_at = 0 AND status <> 'closed' AND pending_at > 0;
DROP INDEX tickets_auto_hold;
CREATE INDEX tickets_auto_hold ON tickets(account_id, hold_at) WHERE deleted_at = 0 AND status <> 'closed' AND hold_at > 0;
DROP INDEX tickets_auto_solved;
CREATE INDEX tickets_auto_solved ON tickets(account_id, solved_at) WHERE deleted_at = 0 AND status <> 'closed' AND solved_at > 0;
DROP INDEX tickets_auto_assigned;
CREATE INDEX tickets_auto_assigned ON tickets(account_id, assigned_at) WHERE deleted_at = 0 AND status <> 'closed' AND assigned_at > 0;
DROP INDEX tickets_auto_requester_updated;
CREATE INDEX tickets_auto_requester_updated ON tickets(account_id, requester_updated_at) WHERE deleted_at = 0 AND status <> 'closed' AND requester_updated_at > 0;
DROP INDEX tickets_auto_assignee_updated;
CREATE INDEX tickets_auto_assignee_updated ON tickets(account_id, assignee_updated_at) WHERE deleted_at = 0 AND status <> 'closed' AND assignee_updated_at > 0;
DROP INDEX tickets_auto_due;
CREATE INDEX tickets_auto_due ON tickets(account_id, due_at) WHERE deleted_at = 0 AND status <> 'closed' AND due_at > 0;
DROP INDEX tickets_live_sla_breach;
CREATE INDEX tickets_live_sla_breach ON tickets(account_id, sla_breach_at) WHERE deleted_at = 0 AND sla_breach_at > 0;
