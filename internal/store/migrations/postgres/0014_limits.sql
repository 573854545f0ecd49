-- Limits that hold across every process on one database.
--
-- limit_counters: window counters (API requests per account per minute, password
-- attempts per email, per email and address, per address). One row per key: its count
-- and when its window, started by the first event, ends. Rows past expires_at are
-- deleted by the hourly housekeeping.
CREATE TABLE limit_counters (
    bucket     TEXT PRIMARY KEY,
    n          BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX limit_counters_expiry ON limit_counters(expires_at);

-- sharing_replay: signatures of signed sharing calls seen within the signature window,
-- so a captured call replayed to another process is refused too.
CREATE TABLE sharing_replay (
    signature  TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sharing_replay_expiry ON sharing_replay(expires_at);
