-- Attachments (internal/files). An upload is a row with a token and an expiry; the
-- ticket write path attaches it to a comment (ticket_id, comment_id set, expires_at 0).
-- Several rows may share a token (Zendesk's "token=" adds a file to an upload). A
-- thumbnail is a row whose parent_id is its image. The bytes live in the blob store
-- under {account}/{sha256}; blobs counts the rows that use each one, so the blob goes
-- when the last of them does (deduplicated per account, never across accounts).
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL,
    token        TEXT NOT NULL,
    uploader_id  BIGINT NOT NULL,
    ticket_id    BIGINT NOT NULL DEFAULT 0,
    comment_id   BIGINT NOT NULL DEFAULT 0,
    parent_id    BIGINT NOT NULL DEFAULT 0,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    inline       BOOLEAN NOT NULL DEFAULT FALSE,
    scan_result  TEXT NOT NULL,
    redacted_by  BIGINT NOT NULL DEFAULT 0,
    redacted_at  BIGINT NOT NULL DEFAULT 0,
    expires_at   BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL
);
CREATE INDEX attachments_token ON attachments(account_id, token);
CREATE INDEX attachments_comment ON attachments(account_id, comment_id);
CREATE INDEX attachments_parent ON attachments(account_id, parent_id);
-- Housekeeping finds expired uploads across accounts.
CREATE INDEX attachments_expiry ON attachments(expires_at) WHERE expires_at > 0;

CREATE TABLE blobs (
    account_id BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    size       BIGINT NOT NULL,
    refs       BIGINT NOT NULL,
    PRIMARY KEY (account_id, sha256)
);

-- The key that signs an account's expiring file links (for mail and partners).
CREATE TABLE attachment_keys (
    account_id BIGINT PRIMARY KEY,
    secret     TEXT NOT NULL
);
