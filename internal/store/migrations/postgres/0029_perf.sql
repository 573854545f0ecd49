-- Performance (issue 16). A ticket's earlier mail (internal/mail/send references: the
-- newest nine Message-IDs of the ticket) read from an index in id order, instead of a
-- walk of the account's outbox or a sort of the ticket's lanes. (The SQLite migration
-- also moves full-text indexing to commit time; PostgreSQL's GIN indexes need no change.)
CREATE INDEX mail_outbox_ticket ON mail_outbox(account_id, ticket_id, id);
