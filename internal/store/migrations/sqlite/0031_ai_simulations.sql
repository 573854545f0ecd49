-- Simulations on history (issue 14, docs/AI.md): each run of the chronological replay
-- and its report (JSON, internal/ai/sim). The latest finished one gates autonomy.
CREATE TABLE ai_simulations (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    user_id     BIGINT NOT NULL DEFAULT 0,
    job_id      TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    window_from BIGINT NOT NULL DEFAULT 0,
    window_to   BIGINT NOT NULL DEFAULT 0,
    report      TEXT,
    error       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX ai_simulations_account ON ai_simulations(account_id, id);
