-- Inbound mail: thread lanes, bounces, IMAP secrets and TLS (issue 11).
--
-- mail_inbox.thread_key: the thread a message belongs to (the first Message-ID of its
-- References, else its In-Reply-To, else its own Message-ID, else its sender), read
-- from its headers when it is accepted. Messages of one thread are processed in the
-- order they arrived, one at a time, even with several workers and several processes:
-- a message is claimed only when no earlier message of its thread is still waiting
-- (mail_inbox_thread). Rows older than this column have '' and are laned by sender.
ALTER TABLE mail_inbox ADD COLUMN thread_key TEXT NOT NULL DEFAULT '';
CREATE INDEX mail_inbox_thread ON mail_inbox(account_id, thread_key, id) WHERE state = 'new';

-- mail_bounces: addresses whose mail bounced for good (a hard bounce read back from a
-- delivery status notification, RFC 3464). Mail queued to such an address is held
-- (mail_outbox.status 'held', the reason in last_error) until an agent clears the
-- address, which releases it. status is the DSN's status code (5.1.1), reason its words.
CREATE TABLE mail_bounces (
    account_id BIGINT NOT NULL,
    email      TEXT NOT NULL,
    status     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    outbox_id  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, email)
);
-- A delivery status notification names the Message-ID of the mail it reports on.
CREATE INDEX mail_outbox_message ON mail_outbox(account_id, message_id);

-- imap_mailboxes.password is now sealed with the server key (internal/secretbox;
-- clear-text rows are sealed at start); tls_ca is a PEM bundle of the CA certificates
-- trusted for this mailbox's server beside the system's ('' = the system's only).
ALTER TABLE imap_mailboxes ADD COLUMN tls_ca TEXT NOT NULL DEFAULT '';
