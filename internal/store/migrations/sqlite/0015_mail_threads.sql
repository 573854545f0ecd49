-- Mail threads: every ticket that email is sent or received about gets one unguessable
-- reply token. Outgoing mail carries it in its Message-ID and in the plus-address of its
-- Reply-To (support+tkt-TOKEN@...), so a reply finds its ticket by In-Reply-To,
-- References or the address it was sent to, and never by anything a sender can guess.
-- The token is unique across accounts; lookups are still made within one account.
CREATE TABLE mail_threads (
    account_id BIGINT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    token      TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, ticket_id)
);
