-- Satisfaction ratings and reports (issue 18).

-- The ticket's satisfaction score (unoffered, offered, good, bad), for conditions,
-- views and reports; the rating itself is in satisfaction_ratings. first_reply_at is
-- the ticket's first public reply by an agent after creation (0: none), kept by the
-- write path so reports need no scan of the comments.
ALTER TABLE tickets ADD COLUMN satisfaction_score TEXT NOT NULL DEFAULT 'unoffered';
ALTER TABLE tickets ADD COLUMN first_reply_at BIGINT NOT NULL DEFAULT 0;
-- The reports read tickets by a range of creation or solving times; these indexes
-- hold every column those reads need, so they are answered from the index alone.
CREATE INDEX tickets_report_created ON tickets(account_id, created_at, first_reply_at, group_id, organization_id) WHERE deleted_at = 0;
CREATE INDEX tickets_report_solved ON tickets(account_id, solved_at, status, created_at, group_id, organization_id) WHERE deleted_at = 0;

-- satisfaction_ratings: one per ticket (a new rating replaces the last, as Zendesk's),
-- written by the ticket write path with its audit event.
CREATE TABLE satisfaction_ratings (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    ticket_id    BIGINT NOT NULL,
    requester_id BIGINT NOT NULL,
    assignee_id  BIGINT NOT NULL DEFAULT 0,
    group_id     BIGINT NOT NULL DEFAULT 0,
    score        TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    reason_code  BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX satisfaction_ratings_ticket ON satisfaction_ratings(account_id, ticket_id);
CREATE INDEX satisfaction_ratings_updated ON satisfaction_ratings(account_id, updated_at, id);

-- The key that signs an account's rating links (created on first use).
CREATE TABLE satisfaction_keys (
    account_id BIGINT PRIMARY KEY,
    secret     TEXT NOT NULL
);

-- A sharing agreement may carry the partner's promised response time (minutes, 0: none).
ALTER TABLE sharing_agreements ADD COLUMN promised_minutes BIGINT NOT NULL DEFAULT 0;

-- Per outbound share: since when the partner owes an answer (0: it owes none: it
-- answered, or nothing was asked of it) and when it first answered after the share (0:
-- not yet), kept by the sharing after-hook (internal/sharing/owed.go).
ALTER TABLE ticket_shares ADD COLUMN owed_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_shares ADD COLUMN first_answer_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX ticket_shares_owed ON ticket_shares(account_id, owed_since) WHERE owed_since > 0;

-- The business-hours schedule a ticket's SLA targets count in (0: its organization's
-- default, else the account's first schedule); set by the trigger action set_schedule.
ALTER TABLE tickets ADD COLUMN schedule_id BIGINT NOT NULL DEFAULT 0;

-- An organization's default schedule for its tickets.
CREATE TABLE organization_schedules (
    account_id      BIGINT NOT NULL,
    organization_id BIGINT NOT NULL,
    schedule_id     BIGINT NOT NULL,
    PRIMARY KEY (account_id, organization_id)
);
