-- Service levels: business-hours schedules, SLA policies and the SLA targets of each
-- ticket, which the ticket write path keeps current (internal/sla).

-- schedules: weekly intervals (minutes from Sunday 00:00 local time, JSON) in a time
-- zone, and holidays (JSON list of {id, name, start_date, end_date}). The account's
-- first schedule is the one its SLA policies count business hours in.
CREATE TABLE schedules (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    intervals  TEXT NOT NULL DEFAULT '[]',
    holidays   TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX schedules_account ON schedules(account_id, id);

-- sla_policies: ordered; the first whose filter matches a ticket applies to it.
-- policy_metrics is the JSON list of {priority, metric, target (minutes), business_hours}.
CREATE TABLE sla_policies (
    id             INTEGER PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    position       BIGINT NOT NULL DEFAULT 0,
    filter         TEXT NOT NULL DEFAULT '{"all":[],"any":[]}',
    policy_metrics TEXT NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX sla_policies_position ON sla_policies(account_id, position, id);

-- sla_targets: one row per ticket and metric of the policy that applies to it. The
-- clock ran spent_us before the current run, which started at since_us (0: paused);
-- breach_at is when the running clock runs out; stage is active, paused or achieved.
CREATE TABLE sla_targets (
    account_id  BIGINT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    metric      TEXT NOT NULL,
    policy_id   BIGINT NOT NULL,
    target_min  BIGINT NOT NULL,
    business    BOOLEAN NOT NULL,
    stage       TEXT NOT NULL,
    spent_us    BIGINT NOT NULL DEFAULT 0,
    since_us    BIGINT NOT NULL DEFAULT 0,
    breach_at   BIGINT NOT NULL DEFAULT 0,
    breached_at BIGINT NOT NULL DEFAULT 0,
    achieved_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, ticket_id, metric)
);

-- The next breach of a ticket's running SLA targets (0: none), for views and lists to
-- select and sort by (the field registry's sla_next_breach_at).
ALTER TABLE tickets ADD COLUMN sla_breach_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tickets_live_sla_breach ON tickets(account_id, sla_breach_at) WHERE deleted_at = 0;
