-- The AI layer's models, settings and predictions (issue 14, docs/AI.md).
--
-- ai_models: each training writes a new version of an account's model set (a blob the
-- learn package encodes) with its figures per target (JSON); every serve process uses
-- the account's latest version.
CREATE TABLE ai_models (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    version     BIGINT NOT NULL,
    blob        BLOB NOT NULL,
    figures     TEXT NOT NULL DEFAULT '{}',
    examples    BIGINT NOT NULL DEFAULT 0,
    trained_through BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, version)
);

-- ai_settings: what the admin chose (targets, the tag set, thresholds, the intent
-- target, triage on or off), the account's AI user, and the training lease: the one
-- process training the account's models holds it until training_until (so a cluster
-- trains an account once at a time), training_job names its job_status, and
-- trained_at is when the last training started (the background worker counts the
-- tickets solved since).
CREATE TABLE ai_settings (
    account_id    BIGINT PRIMARY KEY REFERENCES accounts(id),
    user_id       BIGINT NOT NULL DEFAULT 0,
    triage        BOOLEAN NOT NULL DEFAULT FALSE,
    targets       TEXT NOT NULL DEFAULT '[]',
    tag_set       TEXT NOT NULL DEFAULT '[]',
    thresholds    TEXT NOT NULL DEFAULT '{}',
    intent_target TEXT NOT NULL DEFAULT '',
    retrain_after BIGINT NOT NULL DEFAULT 200,
    training_holder TEXT NOT NULL DEFAULT '',
    training_until  BIGINT NOT NULL DEFAULT 0,
    training_job    TEXT NOT NULL DEFAULT '',
    trained_at      BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL
);

-- ai_predictions: what the AI predicted for a ticket (kind "triage" or "suggestion"),
-- whether it applied it, and the outcome once people acted (accepted, overridden,
-- ignored): the live precision of the models.
CREATE TABLE ai_predictions (
    id            INTEGER PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    ticket_id     BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    target        TEXT NOT NULL,
    value         TEXT NOT NULL,
    confidence    REAL NOT NULL,
    applied       BOOLEAN NOT NULL,
    model_version BIGINT NOT NULL,
    outcome       TEXT NOT NULL DEFAULT '',
    final_value   TEXT NOT NULL DEFAULT '',
    by_user_id    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX ai_predictions_ticket ON ai_predictions(account_id, ticket_id, target);
CREATE INDEX ai_predictions_account ON ai_predictions(account_id, created_at);
