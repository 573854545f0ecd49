-- The live ticket count without the account row on every create (PostgreSQL; issue 16
-- item 3). A create or delete used to end with UPDATE accounts SET live_tickets =
-- live_tickets ± 1, which held the account row through the commit's WAL flush: creates
-- of one account committed one at a time (Lock:transactionid).
--
-- Now each one inserts its ±1 here (no row shared with another write), and the count
-- is accounts.live_tickets plus the account's rows here, read in one statement
-- (ticket.LiveCount). Now and then (one write in 64, by chance) a write folds the rows
-- it can see into accounts.live_tickets in one statement, under a try-lock so that two
-- folds of an account never wait for each other: the rows are deleted and added in the
-- same transaction, so every reader sees each write counted once. The fold's row lock
-- on accounts does not conflict with the key-share locks that other creates' foreign
-- keys take. SQLite, with one writer, keeps the plain UPDATE.
CREATE TABLE live_ticket_deltas (
    account_id BIGINT NOT NULL,
    n          INTEGER NOT NULL
);
CREATE INDEX live_ticket_deltas_account ON live_ticket_deltas(account_id);
