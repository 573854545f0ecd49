-- Core schema: accounts, identity, organizations, groups, tickets, comments, audits.
-- Times are unix microseconds (BIGINT); 0 means unset. JSON columns are TEXT.

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    subdomain   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL,
    ticket_seq  BIGINT NOT NULL DEFAULT 0,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY,
    account_id            BIGINT NOT NULL REFERENCES accounts(id),
    name                  TEXT NOT NULL,
    email                 TEXT,
    role                  TEXT NOT NULL,
    verified              BOOLEAN NOT NULL DEFAULT FALSE,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    suspended             BOOLEAN NOT NULL DEFAULT FALSE,
    external_id           TEXT,
    external_id_lower     TEXT,
    phone                 TEXT,
    time_zone             TEXT NOT NULL DEFAULT 'UTC',
    locale                TEXT NOT NULL DEFAULT 'en-US',
    details               TEXT NOT NULL DEFAULT '',
    notes                 TEXT NOT NULL DEFAULT '',
    alias                 TEXT NOT NULL DEFAULT '',
    signature             TEXT NOT NULL DEFAULT '',
    tags                  TEXT NOT NULL DEFAULT '[]',
    user_fields           TEXT NOT NULL DEFAULT '{}',
    ticket_restriction    TEXT,
    only_private_comments BOOLEAN NOT NULL DEFAULT FALSE,
    default_group_id      BIGINT,
    organization_id       BIGINT,
    password_hash         TEXT NOT NULL DEFAULT '',
    shared                BOOLEAN NOT NULL DEFAULT FALSE,
    shared_agent          BOOLEAN NOT NULL DEFAULT FALSE,
    last_login_at         BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users(account_id, email);
CREATE UNIQUE INDEX users_external_id ON users(account_id, external_id_lower);
CREATE INDEX users_role ON users(account_id, role, id);
CREATE INDEX users_name ON users(account_id, name);

CREATE TABLE user_identities (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    type        TEXT NOT NULL,
    value       TEXT NOT NULL,
    verified    BOOLEAN NOT NULL DEFAULT FALSE,
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_identities_value ON user_identities(account_id, type, value);
CREATE INDEX user_identities_user ON user_identities(account_id, user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id),
    user_id      BIGINT NOT NULL REFERENCES users(id),
    token_hash   TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL DEFAULT 'api',
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(account_id, user_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE organizations (
    id                  INTEGER PRIMARY KEY,
    account_id          BIGINT NOT NULL REFERENCES accounts(id),
    name                TEXT NOT NULL,
    name_lower          TEXT NOT NULL,
    details             TEXT NOT NULL DEFAULT '',
    notes               TEXT NOT NULL DEFAULT '',
    external_id         TEXT,
    external_id_lower   TEXT,
    group_id            BIGINT,
    shared_tickets      BOOLEAN NOT NULL DEFAULT FALSE,
    shared_comments     BOOLEAN NOT NULL DEFAULT FALSE,
    tags                TEXT NOT NULL DEFAULT '[]',
    domain_names        TEXT NOT NULL DEFAULT '[]',
    organization_fields TEXT NOT NULL DEFAULT '{}',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_name ON organizations(account_id, name_lower);
CREATE UNIQUE INDEX organizations_external_id ON organizations(account_id, external_id_lower);

CREATE TABLE organization_domains (
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    domain          TEXT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (account_id, domain, organization_id)
);

CREATE TABLE organization_memberships (
    id              INTEGER PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts(id),
    user_id         BIGINT NOT NULL REFERENCES users(id),
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    is_default      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX org_memberships_user_org ON organization_memberships(account_id, user_id, organization_id);
CREATE INDEX org_memberships_org ON organization_memberships(account_id, organization_id, user_id);

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_public   BOOLEAN NOT NULL DEFAULT TRUE,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX groups_account ON groups(account_id, id);

CREATE TABLE group_memberships (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    user_id     BIGINT NOT NULL REFERENCES users(id),
    group_id    BIGINT NOT NULL REFERENCES groups(id),
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX group_memberships_user_group ON group_memberships(account_id, user_id, group_id);
CREATE INDEX group_memberships_group ON group_memberships(account_id, group_id, user_id);

CREATE TABLE ticket_fields (
    id            INTEGER PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    type          TEXT NOT NULL,
    title         TEXT NOT NULL,
    key           TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    required      BOOLEAN NOT NULL DEFAULT FALSE,
    position      BIGINT NOT NULL DEFAULT 0,
    options       TEXT NOT NULL DEFAULT '[]',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX ticket_fields_key ON ticket_fields(account_id, key);

-- Tickets are numbered per account: (account_id, id) is the key clients see.
CREATE TABLE tickets (
    account_id       BIGINT NOT NULL REFERENCES accounts(id),
    id               BIGINT NOT NULL,
    external_id      TEXT,
    type             TEXT,
    subject          TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    priority         TEXT,
    status           TEXT NOT NULL,
    recipient        TEXT,
    requester_id     BIGINT NOT NULL,
    submitter_id     BIGINT NOT NULL,
    assignee_id      BIGINT,
    organization_id  BIGINT,
    group_id         BIGINT,
    collaborator_ids TEXT NOT NULL DEFAULT '[]',
    follower_ids     TEXT NOT NULL DEFAULT '[]',
    email_cc_ids     TEXT NOT NULL DEFAULT '[]',
    problem_id       BIGINT,
    is_public        BOOLEAN NOT NULL DEFAULT TRUE,
    due_at           BIGINT NOT NULL DEFAULT 0,
    tags             TEXT NOT NULL DEFAULT '[]',
    custom_fields    TEXT NOT NULL DEFAULT '{}',
    via              TEXT NOT NULL DEFAULT '{}',
    via_id           BIGINT NOT NULL DEFAULT 5,
    version          BIGINT NOT NULL DEFAULT 1,
    deleted_at       BIGINT NOT NULL DEFAULT 0,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    solved_at        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX tickets_updated ON tickets(account_id, updated_at, id);
CREATE INDEX tickets_status ON tickets(account_id, status, updated_at);
CREATE INDEX tickets_requester ON tickets(account_id, requester_id, id);
CREATE INDEX tickets_org ON tickets(account_id, organization_id, id);
CREATE INDEX tickets_assignee ON tickets(account_id, assignee_id, status);
CREATE INDEX tickets_group ON tickets(account_id, group_id, status);
CREATE INDEX tickets_external ON tickets(account_id, external_id);

CREATE TABLE ticket_tags (
    account_id BIGINT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (account_id, ticket_id, tag)
);
CREATE INDEX ticket_tags_tag ON ticket_tags(account_id, tag, ticket_id);

CREATE TABLE ticket_audits (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    author_id   BIGINT NOT NULL,
    via         TEXT NOT NULL DEFAULT '{}',
    metadata    TEXT NOT NULL DEFAULT '{}',
    events      TEXT NOT NULL DEFAULT '[]',
    created_at  BIGINT NOT NULL
);
CREATE INDEX ticket_audits_ticket ON ticket_audits(account_id, ticket_id, id);

CREATE TABLE ticket_comments (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    ticket_id   BIGINT NOT NULL,
    audit_id    BIGINT NOT NULL,
    author_id   BIGINT NOT NULL,
    body        TEXT NOT NULL,
    html_body   TEXT NOT NULL,
    plain_body  TEXT NOT NULL,
    public      BOOLEAN NOT NULL,
    uuid        TEXT NOT NULL,
    via         TEXT NOT NULL DEFAULT '{}',
    metadata    TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments(account_id, ticket_id, id);
CREATE UNIQUE INDEX ticket_comments_uuid ON ticket_comments(account_id, ticket_id, uuid);

CREATE TABLE job_statuses (
    id          TEXT PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    job_type    TEXT NOT NULL,
    status      TEXT NOT NULL,
    total       BIGINT,
    progress    BIGINT,
    message     TEXT,
    results     TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX job_statuses_account ON job_statuses(account_id, created_at);
