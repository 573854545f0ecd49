-- Business rules: triggers (run on every ticket write), views (saved ticket filters) and
-- macros (actions an agent applies). Conditions and actions are stored as JSON in
-- Zendesk's shape; they are validated on save and compiled when used.

CREATE TABLE triggers (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    position    BIGINT NOT NULL DEFAULT 0,
    category_id TEXT,
    conditions  TEXT NOT NULL DEFAULT '{"all":[],"any":[]}',
    actions     TEXT NOT NULL DEFAULT '[]',
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX triggers_position ON triggers(account_id, position, id);
CREATE INDEX triggers_active ON triggers(account_id, active, position, id);

-- rule_versions changes whenever an account's triggers change, so every process can
-- tell with one primary-key read whether its compiled copy is still current.
CREATE TABLE rule_versions (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
    triggers   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE views (
    id               INTEGER PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES accounts(id),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    position         BIGINT NOT NULL DEFAULT 0,
    -- restriction: NULL (everyone), 'User' (restriction_id is the user) or 'Group'
    -- (restriction_ids lists the groups).
    restriction_type TEXT,
    restriction_id   BIGINT,
    restriction_ids  TEXT NOT NULL DEFAULT '[]',
    conditions       TEXT NOT NULL DEFAULT '{"all":[],"any":[]}',
    output           TEXT NOT NULL DEFAULT '{}',
    is_default       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX views_position ON views(account_id, position, id);
CREATE INDEX views_restriction ON views(account_id, restriction_type, restriction_id);

CREATE TABLE macros (
    id               INTEGER PRIMARY KEY,
    account_id       BIGINT NOT NULL REFERENCES accounts(id),
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    position         BIGINT NOT NULL DEFAULT 0,
    restriction_type TEXT,
    restriction_id   BIGINT,
    restriction_ids  TEXT NOT NULL DEFAULT '[]',
    actions          TEXT NOT NULL DEFAULT '[]',
    is_default       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX macros_position ON macros(account_id, position, id);
CREATE INDEX macros_restriction ON macros(account_id, restriction_type, restriction_id);

-- View conditions over sharing ("shared in the last N hours", "orphaned") start from
-- the account's shares rather than from its tickets.
CREATE INDEX ticket_shares_shared_at ON ticket_shares(account_id, shared_at, ticket_id);
CREATE INDEX ticket_shares_state ON ticket_shares(account_id, state, direction, ticket_id);
-- The default views count live tickets by status and by assignee: partial indexes over
-- live tickets answer those counts from the index alone (deleted_at is not in the
-- older indexes, so they visit every row).
CREATE INDEX tickets_live_status ON tickets(account_id, status) WHERE deleted_at = 0;
CREATE INDEX tickets_live_assignee ON tickets(account_id, assignee_id, status) WHERE deleted_at = 0;
