-- PostgreSQL moves ticket numbers to per-account sequences in this version. SQLite keeps
-- accounts.ticket_seq: its single writer takes no row locks to wait on.
SELECT 1;
