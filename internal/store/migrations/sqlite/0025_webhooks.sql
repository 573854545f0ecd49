-- Webhooks (internal/webhook, docs/WEBHOOKS.md): Zendesk's webhook objects, and their
-- calls queued on the shared delivery queue (internal/delivery) in the same transaction
-- as the change that causes them.
--
-- webhooks: the id is a ULID string, as Zendesk's. subscriptions is a JSON list of
-- strings; auth_data the JSON credentials of auth_type (basic_auth, bearer_token,
-- api_key); failing_since is set when a call was given up on and cleared by the next
-- delivered one (the admin page's health).
CREATE TABLE webhooks (
    id             TEXT PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts(id),
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    endpoint       TEXT NOT NULL,
    http_method    TEXT NOT NULL,
    request_format TEXT NOT NULL,
    status         TEXT NOT NULL,
    subscriptions  TEXT NOT NULL DEFAULT '[]',
    auth_type      TEXT NOT NULL DEFAULT '',
    auth_data      TEXT NOT NULL DEFAULT '{}',
    custom_headers TEXT NOT NULL DEFAULT '{}',
    signing_secret TEXT NOT NULL,
    failing_since  BIGINT NOT NULL DEFAULT 0,
    last_failure   TEXT NOT NULL DEFAULT '',
    created_by     BIGINT NOT NULL DEFAULT 0,
    updated_by     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX webhooks_account ON webhooks(account_id, created_at);

-- webhook_outbox: one row per invocation (a call of one webhook for one event), with
-- the delivery columns of every outbox. Rows of one lane (a webhook and a ticket, user
-- or organization) go out in order.
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL,
    webhook_id      TEXT NOT NULL,
    invocation_id   TEXT NOT NULL UNIQUE,
    lane            TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_attempt_at);
CREATE INDEX webhook_outbox_lane ON webhook_outbox(webhook_id, lane, status, id);
CREATE INDEX webhook_outbox_account ON webhook_outbox(account_id, webhook_id, id);

-- webhook_attempts: every HTTP call made for an invocation (the invocation log).
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL,
    outbox_id    BIGINT NOT NULL,
    webhook_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    status_code  BIGINT NOT NULL DEFAULT 0,
    latency_ms   BIGINT NOT NULL DEFAULT 0,
    response     TEXT NOT NULL DEFAULT '',
    completed_at BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_invocation ON webhook_attempts(account_id, outbox_id, id);
