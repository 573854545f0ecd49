-- Inbound email (internal/mailin).
--
-- recipient_addresses: each account's support addresses (Zendesk's Support Addresses).
-- Mail is routed to an account by the address it was delivered to, so an address
-- belongs to one account only (email is unique across accounts). Every account has a
-- default one, support@{subdomain}.{mail domain}, created with the account (or on first
-- use for accounts older than this table). forwarding_status is unknown, waiting,
-- verified or failed; verify_token is the token of the verification message that must
-- come back through the inbound path before the address is verified.
CREATE TABLE recipient_addresses (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts(id),
    email             TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL DEFAULT '',
    group_id          BIGINT,
    is_default        BOOLEAN NOT NULL DEFAULT FALSE,
    forwarding_status TEXT NOT NULL DEFAULT 'unknown',
    verify_token      TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX recipient_addresses_account ON recipient_addresses(account_id, id);

-- mail_inbox: every message the listener accepted, one row per account it was
-- delivered to, committed before the listener answers 250. raw holds the message when
-- it is small; a large one is streamed to a file under the spool directory (spool_path).
-- state: new (waiting for the worker), done, suspended or dropped (a duplicate or a
-- verification message). lease_until keeps two workers off the same row. ticket_id and
-- comment_id name what the message became (the ticket page links the comment to it).
CREATE TABLE mail_inbox (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    rcpt        TEXT NOT NULL,
    mail_from   TEXT NOT NULL,
    raw         BLOB,
    spool_path  TEXT NOT NULL DEFAULT '',
    size        BIGINT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'new',
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    ticket_id   BIGINT,
    comment_id  BIGINT,
    received_at BIGINT NOT NULL,
    done_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mail_inbox_pending ON mail_inbox(state, id);
CREATE INDEX mail_inbox_account ON mail_inbox(account_id, id);

-- mail_messages: the Message-ID of every message that became a ticket or a comment, so
-- the same message from the same sender is never taken twice, and a reply whose
-- In-Reply-To names an earlier message of the ticket finds it.
CREATE TABLE mail_messages (
    account_id BIGINT NOT NULL,
    sender     TEXT NOT NULL,
    message_id TEXT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    inbox_id   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, sender, message_id)
);
CREATE INDEX mail_messages_id ON mail_messages(account_id, message_id);

-- mail_attachments: attachments and inline images of inbound mail, kept for the
-- attachments API (content-addressed files under the spool directory).
CREATE TABLE mail_attachments (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    inbox_id     BIGINT NOT NULL,
    ticket_id    BIGINT,
    comment_id   BIGINT,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_id   TEXT NOT NULL DEFAULT '',
    inline       BOOLEAN NOT NULL DEFAULT FALSE,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX mail_attachments_inbox ON mail_attachments(account_id, inbox_id);

-- suspended_tickets: mail that did not become a ticket by itself (auto-replies,
-- bounces, failed authentication, senders over their rate, unknown senders when the
-- account requires sign-up, messages that could not be processed), with the cause. An
-- agent recovers one (the ticket is made as if the mail arrived then) or deletes it.
CREATE TABLE suspended_tickets (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    inbox_id     BIGINT NOT NULL,
    subject      TEXT NOT NULL,
    content      TEXT NOT NULL,
    author_name  TEXT NOT NULL,
    author_email TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    cause        TEXT NOT NULL,
    cause_id     INTEGER NOT NULL,
    ticket_id    BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX suspended_tickets_account ON suspended_tickets(account_id, id);
