-- Attachments over ticket sharing (internal/sharing, attachments.go). A partner's comment
-- names its files by URL; the receiver fetches each one from the partner and keeps its own
-- copy (an attachments row). Each file to fetch is a row of this delivery-queue table
-- (the delivery columns are sharing_outbox's), written in the transaction that stores the
-- comment, so a fetch that fails is retried and none is lost across a restart.
-- attachment_uuid names the file on every desk that holds it (the sender's uuid, kept
-- here for the copy); (account_id, comment_id, attachment_uuid) is unique, so a file is
-- never fetched twice for one comment. attachment_id is the local copy once stored.
CREATE TABLE sharing_attachment_fetches (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL,
    agreement_id    BIGINT NOT NULL,
    share_id        BIGINT NOT NULL,
    ticket_id       BIGINT NOT NULL,
    comment_id      BIGINT NOT NULL,
    author_id       BIGINT NOT NULL,
    attachment_uuid TEXT NOT NULL,
    url             TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    size            BIGINT NOT NULL DEFAULT 0,
    sha256          TEXT NOT NULL DEFAULT '',
    attachment_id   BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sharing_attachment_fetches_file ON sharing_attachment_fetches(account_id, comment_id, attachment_uuid);
CREATE INDEX sharing_attachment_fetches_due ON sharing_attachment_fetches(status, next_attempt_at);
CREATE INDEX sharing_attachment_fetches_share ON sharing_attachment_fetches(account_id, share_id, status);
CREATE INDEX sharing_attachment_fetches_copy ON sharing_attachment_fetches(account_id, attachment_id);

-- Article attachments (internal/kb, attachments.go): a file of the attachments table
-- (kept for good: no comment, no expiry) that belongs to a help center article; who may
-- fetch it is who may read the article. id is the attachment's id, as Zendesk's article
-- attachment ids are the file's.
CREATE TABLE kb_article_attachments (
    account_id BIGINT NOT NULL,
    id         BIGINT NOT NULL,
    article_id BIGINT NOT NULL,
    inline     BOOLEAN NOT NULL DEFAULT FALSE,
    locale     TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX kb_article_attachments_article ON kb_article_attachments(account_id, article_id);
