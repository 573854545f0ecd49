-- The AI layer's assist half (internal/ai/assist): suggestions shown to agents and what
-- became of them, the autonomy ladder per intent, the account's AI controls (kill switch,
-- rate limit, own model server) and the queue of AI runs after ticket creation.

-- ai_suggestions: one row per suggestion shown on a ticket (a field value, a macro, an
-- article, a reply) at a model version, and its outcome once known: accepted, edited,
-- overridden (an agent chose another value) or ignored. Live precision is read from it.
CREATE TABLE ai_suggestions (
    id            INTEGER PRIMARY KEY,
    account_id    BIGINT NOT NULL,
    ticket_id     BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    value         TEXT NOT NULL,
    confidence    DOUBLE PRECISION NOT NULL DEFAULT 0,
    model_version BIGINT NOT NULL DEFAULT 0,
    outcome       TEXT NOT NULL DEFAULT 'shown',
    agent_id      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    decided_at    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, ticket_id, kind, target, value)
);
CREATE INDEX ai_suggestions_outcome ON ai_suggestions(account_id, kind, outcome);

-- ai_autonomy: the admin's rung of the ladder per intent (a value of the intent
-- target): off, suggest, draft or autonomous. Missing rows are "suggest".
CREATE TABLE ai_autonomy (
    account_id BIGINT NOT NULL,
    intent     TEXT NOT NULL,
    mode       TEXT NOT NULL,
    updated_by BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, intent)
);

-- ai_controls: one row per account. The kill switch and rate limit are read from here
-- at execution time by every process. The model server's key is sealed (secretbox).
CREATE TABLE ai_controls (
    account_id       BIGINT PRIMARY KEY,
    killed           BOOLEAN NOT NULL DEFAULT FALSE,
    rate_per_hour    BIGINT NOT NULL DEFAULT 60,
    target_precision DOUBLE PRECISION NOT NULL DEFAULT 0.95,
    min_tickets      BIGINT NOT NULL DEFAULT 200,
    draft_kind       TEXT NOT NULL DEFAULT 'note',
    llm_base_url     TEXT NOT NULL DEFAULT '',
    llm_chat_model   TEXT NOT NULL DEFAULT '',
    llm_embed_model  TEXT NOT NULL DEFAULT '',
    llm_key          TEXT NOT NULL DEFAULT '',
    llm_state        TEXT NOT NULL DEFAULT '',
    llm_error        TEXT NOT NULL DEFAULT '',
    llm_checked_at   BIGINT NOT NULL DEFAULT 0,
    updated_at       BIGINT NOT NULL DEFAULT 0
);

-- ai_attempts: what the AI did on a ticket after its creation (handoff, draft, pending
-- reply, autonomous reply, nothing) and why; a pending reply waits here for an agent's
-- one-click send. The rate limit counts these rows.
CREATE TABLE ai_attempts (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    action      TEXT NOT NULL,
    intent      TEXT NOT NULL DEFAULT '',
    confidence  DOUBLE PRECISION NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT '',
    macro_id    BIGINT NOT NULL DEFAULT 0,
    article_ids TEXT NOT NULL DEFAULT '[]',
    lang        TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'done',
    created_at  BIGINT NOT NULL
);
CREATE INDEX ai_attempts_ticket ON ai_attempts(account_id, ticket_id, id);
CREATE INDEX ai_attempts_recent ON ai_attempts(account_id, created_at);

-- ai_outbox: the AI runs a new ticket asks for, queued in its create transaction and run
-- after commit by the shared delivery queue (internal/delivery), one at a time per ticket.
CREATE TABLE ai_outbox (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL,
    ticket_id       BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ai_outbox_due ON ai_outbox(status, next_attempt_at);
CREATE INDEX ai_outbox_lane ON ai_outbox(account_id, ticket_id, status, id);
