-- A live count of each account's tickets (not deleted), kept in the same transaction as
-- every create and delete, so offset pagination can answer "count" without scanning.
ALTER TABLE accounts ADD COLUMN live_tickets BIGINT NOT NULL DEFAULT 0;
UPDATE accounts SET live_tickets = (SELECT COUNT(*) FROM tickets WHERE tickets.account_id = accounts.id AND tickets.deleted_at = 0);
