-- Daily report aggregates (issue 18, docs/SERVICE_LEVELS.md "Reports") and the record of
-- the default rules each account has been given.

-- report_daily: per account, per dimension (dim 'a' every ticket, 'g' a group, 'o' an
-- organization, 'p' a sharing agreement: dim_id), per kind of count, per day (days since
-- 1970-01-01 of the local date in the account's report time zone), the count n. kind:
-- 'c' created, 's' solved, 'w'/'W' backlog corrections, 'f'/'r'/'P' first reply,
-- resolution and partner response histograms (k1 or k2 the bucket), 'S' SLA targets
-- (k1 policy, k2 group, name met/missed/running), 'g' ratings (name the score), 't' tags
-- (name), 'p' shares (k1 agreement, name out/in). Kept by the ticket write path's
-- after-hook (internal/report/daily.go) in the write's transaction.
CREATE TABLE report_daily (
    account_id BIGINT NOT NULL,
    dim        TEXT NOT NULL,
    dim_id     BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    day        BIGINT NOT NULL,
    k1         BIGINT NOT NULL,
    k2         BIGINT NOT NULL,
    name       TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (account_id, dim, dim_id, kind, day, k1, k2, name)
) WITHOUT ROWID;

-- What each ticket adds to report_daily now (its facts, JSON), so a write adds the
-- difference between its new facts and these.
CREATE TABLE report_ticket_facts (
    account_id BIGINT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    facts      TEXT NOT NULL,
    PRIMARY KEY (account_id, ticket_id)
);

-- An account whose aggregates are built: the time zone their days are in and the
-- version of the aggregates' definition. No row: not built yet (the reports read rows).
CREATE TABLE report_state (
    account_id BIGINT PRIMARY KEY,
    version    BIGINT NOT NULL,
    time_zone  TEXT NOT NULL,
    built_at   BIGINT NOT NULL
);

-- SLA targets whose class (met, missed, running) changes with time alone: active, with
-- a breach time, not yet breached. The reports count them when read.
CREATE INDEX sla_targets_running ON sla_targets(account_id, ticket_id) WHERE stage = 'active' AND breached_at = 0 AND breach_at > 0;

-- The version of the default rules (views, triggers, automations) an account has been
-- given (internal/rules/defaults.go ApplyDefaults): a default added later is given once
-- to accounts below its version, never again.
CREATE TABLE account_defaults (
    account_id BIGINT PRIMARY KEY,
    version    BIGINT NOT NULL,
    applied_at BIGINT NOT NULL
);
