-- Mail attachments both ways (issues 11 and 12).
--
-- Inbound attachments now go through the attachments store (internal/files, table
-- attachments) like any upload: mail_attachments and its spool files are replaced.
DROP TABLE mail_attachments;

-- mail_outbox.attachments: the ids (comma-separated) of the files a queued mail carries
-- as MIME parts; their bytes are read from the blob store when the mail is sent, so the
-- row holds the composed text and HTML only.
ALTER TABLE mail_outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '';

-- imap_mailboxes: mailboxes polled over IMAP for an account's support address (for
-- providers that cannot forward). uidvalidity and last_uid are the server's, moved in
-- the transaction that stores each message in mail_inbox, so nothing is read twice;
-- lease_until keeps one process polling a mailbox at a time. The password is kept for
-- the poller to sign in with and is never shown by the API.
CREATE TABLE imap_mailboxes (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    address     TEXT NOT NULL,
    url         TEXT NOT NULL,
    password    TEXT NOT NULL DEFAULT '',
    uidvalidity BIGINT NOT NULL DEFAULT 0,
    last_uid    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    polled_at   BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX imap_mailboxes_account ON imap_mailboxes(account_id);

-- accounts.signup_required: "users must sign up" — mail from an address that is not a
-- user of the account becomes a suspended ticket instead of creating an end user
-- (false: "anyone can submit tickets", Zendesk's default).
ALTER TABLE accounts ADD COLUMN signup_required BOOLEAN NOT NULL DEFAULT FALSE;
