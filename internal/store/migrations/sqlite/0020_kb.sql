-- Knowledge base (issue 13): categories -> sections (nested on Enterprise) -> articles.
-- Names, descriptions, titles and bodies live in kb_translations, one row per item and
-- locale, as in Zendesk's Help Center (an article's title and body change through its
-- translations). Every write goes through internal/kb.Service, which also writes
-- kb_revisions (the previous version kept, who changed it). Ranking is done in Go over
-- these rows (internal/kb/rank), so there is no full-text index here.
CREATE TABLE kb_categories (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    position    BIGINT NOT NULL DEFAULT 0,
    source_locale TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX kb_categories_account ON kb_categories(account_id, position, id);

CREATE TABLE kb_sections (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts(id),
    category_id       BIGINT NOT NULL,
    parent_section_id BIGINT,
    position          BIGINT NOT NULL DEFAULT 0,
    source_locale     TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX kb_sections_account ON kb_sections(account_id, category_id, position, id);

-- visibility: everyone, signed_in, organizations (org_ids, a JSON array), agents.
-- labels is a JSON array of label names.
CREATE TABLE kb_articles (
    id                INTEGER PRIMARY KEY,
    account_id        BIGINT NOT NULL REFERENCES accounts(id),
    section_id        BIGINT NOT NULL,
    author_id         BIGINT NOT NULL DEFAULT 0,
    source_locale     TEXT NOT NULL,
    position          BIGINT NOT NULL DEFAULT 0,
    promoted          BOOLEAN NOT NULL DEFAULT FALSE,
    comments_disabled BOOLEAN NOT NULL DEFAULT FALSE,
    visibility        TEXT NOT NULL DEFAULT 'everyone',
    org_ids           TEXT NOT NULL DEFAULT '[]',
    labels            TEXT NOT NULL DEFAULT '[]',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    edited_at         BIGINT NOT NULL
);
CREATE INDEX kb_articles_account ON kb_articles(account_id, section_id, position, id);

-- source_type: article, section, category. For sections and categories title is the
-- name and body the description. body is sanitised HTML (what the API sends and
-- receives); source is the Markdown it was rendered from when an agent wrote it in the
-- editor ('' when the body came as HTML).
CREATE TABLE kb_translations (
    id            INTEGER PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts(id),
    source_type   TEXT NOT NULL,
    source_id     BIGINT NOT NULL,
    locale        TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    draft         BOOLEAN NOT NULL DEFAULT FALSE,
    outdated      BOOLEAN NOT NULL DEFAULT FALSE,
    created_by_id BIGINT NOT NULL DEFAULT 0,
    updated_by_id BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_translations_source ON kb_translations(account_id, source_type, source_id, locale);

-- One row per saved version of an article translation or of an article's settings:
-- the state after the change, so the previous version is the row before it.
CREATE TABLE kb_revisions (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    article_id  BIGINT NOT NULL,
    locale      TEXT NOT NULL,
    actor_id    BIGINT NOT NULL DEFAULT 0,
    action      TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    draft       BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX kb_revisions_article ON kb_revisions(account_id, article_id, id);

-- Votes: one per signed-in user and article (user_id NULL for an anonymous "Was this
-- article helpful?" answer on the help center); reason is the "no" answer's reason.
CREATE TABLE kb_votes (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    article_id  BIGINT NOT NULL,
    user_id     BIGINT,
    value       INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_votes_user ON kb_votes(account_id, article_id, user_id);
CREATE INDEX kb_votes_article ON kb_votes(account_id, article_id, id);

-- An article link an agent inserted into a ticket reply (ticket, comment, article): what
-- the AI layer learns from. comment_id is 0 until the reply is saved.
CREATE TABLE kb_article_links (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    ticket_id   BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL DEFAULT 0,
    article_id  BIGINT NOT NULL,
    agent_id    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE INDEX kb_article_links_article ON kb_article_links(account_id, article_id, id);
CREATE INDEX kb_article_links_ticket ON kb_article_links(account_id, ticket_id, id);

-- Learned phrasings: how customers asked for what an article answers (the first message
-- of a solved ticket linked to it), indexed as a low-weight field of the article.
CREATE TABLE kb_phrasings (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    article_id  BIGINT NOT NULL,
    ticket_id   BIGINT NOT NULL DEFAULT 0,
    text        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX kb_phrasings_article ON kb_phrasings(account_id, article_id, id);

-- Deflection events of help center request-form sessions: shown (suggestions seen),
-- answered ("This answered my question"), submitted (the request was sent anyway).
CREATE TABLE kb_deflection_events (
    id          INTEGER PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id),
    session     TEXT NOT NULL,
    event       TEXT NOT NULL,
    article_id  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_deflection_session ON kb_deflection_events(account_id, session, event, article_id);

-- One row per account whose knowledge base was written: version grows with every write
-- of the kb service (articles, translations, sections, categories, phrasings), so a
-- search checks that its in-memory index is current with one primary-key read, even
-- when another process made the change.
CREATE TABLE kb_state (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id),
    version    BIGINT NOT NULL
);
