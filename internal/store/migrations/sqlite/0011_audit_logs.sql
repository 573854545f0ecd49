-- Who changed a person's role, suspension or memberships, and when: one row per change,
-- written by the people service in the transaction that made it, read by admins through
-- GET /api/v2/audit_logs and the admin user page. actor_id 0 is the system (a ticket's
-- requester created on the fly, a sharing partner, provisioning).
CREATE TABLE audit_logs (
    id                 INTEGER PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES accounts(id),
    actor_id           BIGINT NOT NULL DEFAULT 0,
    source_type        TEXT NOT NULL,
    source_id          BIGINT NOT NULL,
    action             TEXT NOT NULL,
    field              TEXT NOT NULL,
    change_description TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX audit_logs_source ON audit_logs(account_id, source_type, source_id, id);
CREATE INDEX audit_logs_account ON audit_logs(account_id, id);
