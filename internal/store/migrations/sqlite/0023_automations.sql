-- Automations: time-based business rules, run by one process per period over the
-- tickets whose times fall in each automation's window.

-- When the ticket last entered each status (solved_at exists), was last assigned, and
-- was last updated by its requester and by its assignee (0 = never). The automation
-- pass selects by them: each index starts with the account and covers only the live
-- tickets automations run on (not closed), so closed tickets, which keep their times,
-- never weigh on a pass.
ALTER TABLE tickets ADD COLUMN opened_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN pending_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN hold_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN assigned_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN requester_updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN assignee_updated_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tickets_auto_created ON tickets(account_id, created_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_updated ON tickets(account_id, updated_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_opened ON tickets(account_id, opened_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_pending ON tickets(account_id, pending_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_hold ON tickets(account_id, hold_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_solved ON tickets(account_id, solved_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_assigned ON tickets(account_id, assigned_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_requester_updated ON tickets(account_id, requester_updated_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_assignee_updated ON tickets(account_id, assignee_updated_at) WHERE deleted_at = 0 AND status <> 'closed';
CREATE INDEX tickets_auto_due ON tickets(account_id, due_at) WHERE deleted_at = 0 AND status <> 'closed';

CREATE TABLE automations (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    position    BIGINT NOT NULL DEFAULT 0,
    conditions  TEXT NOT NULL DEFAULT '{"all":[],"any":[]}',
    actions     TEXT NOT NULL DEFAULT '[]',
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX automations_position ON automations(account_id, position, id);
CREATE INDEX automations_active ON automations(active, account_id);

-- automation_fires: the ticket version an automation's update left. While the ticket
-- is still at that version nothing but time has changed, so the automation does not
-- fire on it again; it is written in the transaction of the ticket's update, so a pass
-- that dies halfway and is run again never fires twice.
CREATE TABLE automation_fires (
    account_id     BIGINT NOT NULL,
    automation_id  BIGINT NOT NULL,
    ticket_id      BIGINT NOT NULL,
    ticket_version BIGINT NOT NULL,
    fired_at       BIGINT NOT NULL,
    PRIMARY KEY (account_id, automation_id, ticket_id)
);

-- automation_passes: one row per period (now / interval). The process that inserts it
-- runs the pass; one that finds it unfinished past its lease takes it over.
CREATE TABLE automation_passes (
    period      BIGINT PRIMARY KEY,
    holder      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0,
    fired       BIGINT NOT NULL DEFAULT 0
);
