-- Ticket sharing: agreements with partner help desks, the shares of tickets through them,
-- the partner people we have seen, and the transactional outbox of protocol calls.

CREATE TABLE sharing_agreements (
    id                      INTEGER PRIMARY KEY,
    account_id              BIGINT NOT NULL REFERENCES accounts(id),
    uuid                    TEXT NOT NULL,
    access_key              TEXT NOT NULL,
    -- outbound: we share tickets to the partner; inbound: the partner shares to us.
    direction               TEXT NOT NULL,
    name                    TEXT NOT NULL,
    remote_subdomain        TEXT,
    remote_url              TEXT NOT NULL,
    local_url               TEXT NOT NULL,
    status                  TEXT NOT NULL,
    status_reason           TEXT NOT NULL DEFAULT '',
    deactivated_by          TEXT,
    share_private_comments  BOOLEAN NOT NULL DEFAULT FALSE,
    sync_status             BOOLEAN NOT NULL DEFAULT TRUE,
    sync_tags               BOOLEAN NOT NULL DEFAULT TRUE,
    sync_custom_fields      BOOLEAN NOT NULL DEFAULT FALSE,
    allows_public_comments  BOOLEAN NOT NULL DEFAULT TRUE,
    verified                BOOLEAN NOT NULL DEFAULT FALSE,
    created_by              BIGINT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE UNIQUE INDEX sharing_agreements_uuid ON sharing_agreements(account_id, uuid);
CREATE INDEX sharing_agreements_uuid_only ON sharing_agreements(uuid);

CREATE TABLE ticket_shares (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    ticket_id       BIGINT NOT NULL,
    agreement_id    BIGINT NOT NULL REFERENCES sharing_agreements(id),
    uuid            TEXT NOT NULL,
    -- out: our ticket shared to the partner; in: the partner's ticket copied here.
    direction       TEXT NOT NULL,
    -- active, unshared (sync stopped), orphaned (inbound copy after unshare), failed.
    state           TEXT NOT NULL,
    state_reason    TEXT NOT NULL DEFAULT '',
    partner_version BIGINT NOT NULL DEFAULT 0,
    shared_at       BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ended_at        BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ticket_shares_uuid ON ticket_shares(account_id, agreement_id, uuid);
CREATE INDEX ticket_shares_ticket ON ticket_shares(account_id, ticket_id);
CREATE INDEX ticket_shares_agreement ON ticket_shares(account_id, agreement_id, state, shared_at);

CREATE TABLE sharing_actors (
    account_id    BIGINT NOT NULL,
    agreement_id  BIGINT NOT NULL,
    actor_uuid    TEXT NOT NULL,
    user_id       BIGINT NOT NULL,
    PRIMARY KEY (account_id, agreement_id, actor_uuid)
);

CREATE TABLE sharing_outbox (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL,
    agreement_id    BIGINT NOT NULL,
    share_id        BIGINT NOT NULL DEFAULT 0,
    ticket_id       BIGINT NOT NULL DEFAULT 0,
    kind            TEXT NOT NULL,
    method          TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sharing_outbox_due ON sharing_outbox(status, next_attempt_at);
CREATE INDEX sharing_outbox_share ON sharing_outbox(share_id, status, id);
CREATE INDEX sharing_outbox_agreement ON sharing_outbox(account_id, agreement_id, status);
