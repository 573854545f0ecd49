-- Live updates (internal/live, docs/LIVE.md).
--
-- live_events: every committed ticket change and sharing delivery change, numbered in
-- commit order (near enough on PostgreSQL, see LIVE.md) and kept for a few minutes, so a
-- browser that reconnects with Last-Event-ID gets what it missed. The NOTIFY payload
-- carries only the id; the row holds the details. Housekeeping deletes old rows.
-- SQLite numbers with AUTOINCREMENT, so an id is never reused once housekeeping deleted its row.
CREATE TABLE live_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX live_events_account ON live_events(account_id, id);
CREATE INDEX live_events_created ON live_events(created_at);

-- live_presence: one row per open ticket tab (who views it, whether they type), renewed
-- by the tab's heartbeat and deleted when it closes or its heartbeat stops.
CREATE TABLE live_presence (
    account_id BIGINT NOT NULL,
    tab        TEXT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    typing     TEXT NOT NULL DEFAULT '',
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, tab)
);
CREATE INDEX live_presence_ticket ON live_presence(account_id, ticket_id);
CREATE INDEX live_presence_expiry ON live_presence(expires_at);

-- live_notifications: what is new for one agent (a mention, an assignment, a partner's
-- reply, an invitation), read or not.
CREATE TABLE live_notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    ticket_id  BIGINT NOT NULL DEFAULT 0,
    actor_id   BIGINT NOT NULL DEFAULT 0,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX live_notifications_user ON live_notifications(account_id, user_id, id);

-- ticket_reads: when an agent last looked at a ticket (for unread markers).
CREATE TABLE ticket_reads (
    account_id BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    read_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id, ticket_id)
);
