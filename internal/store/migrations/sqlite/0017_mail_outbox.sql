-- Outgoing mail: one row per message and recipient, written in the same transaction as
-- the change that causes it, delivered by the shared delivery queue (internal/delivery;
-- the delivery columns are the same as sharing_outbox's). The message is composed when
-- queued, so a retry sends the same bytes with the same Message-ID. A ticket's mail to
-- one recipient goes out in order (lane: account_id, ticket_id, rcpt_to), so a recipient
-- whose server defers mail holds back no one else's. Status 'kept': no relay was
-- configured, the mail is shown on the admin page instead of being sent.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL,
    ticket_id       BIGINT NOT NULL DEFAULT 0,
    kind            TEXT NOT NULL,
    mail_from       TEXT NOT NULL,
    rcpt_to         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    message         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);
CREATE INDEX mail_outbox_lane ON mail_outbox(account_id, ticket_id, rcpt_to, status, id);
CREATE INDEX mail_outbox_account ON mail_outbox(account_id, id);

-- Links mailed to end users to set a password: after sign-up (proving the address),
-- for a forgotten password, in the welcome mail. Only a hash of the token is kept; a
-- link works once (used_at) and until expires_at.
CREATE TABLE password_links (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    purpose     TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX password_links_user ON password_links(account_id, user_id);
