-- Live events in commit order on PostgreSQL (internal/live, docs/LIVE.md).
--
-- Event ids come from a sequence inside the writing transaction, so two transactions can
-- commit in the other order than their ids: a page that read MAX(id) = 11 while 10 was
-- still uncommitted would never be sent 10 by "id > 11". Each event now keeps its
-- transaction's id (xid) and the snapshot its transaction saw when it recorded it
-- (snap). Resuming after event N then also sends the events numbered below N whose
-- transaction N's snapshot did not see committed: exactly those that may have committed
-- after N. SQLite commits one writer at a time, in id order, and needs neither.
ALTER TABLE live_events ADD COLUMN xid xid8, ADD COLUMN snap pg_snapshot;
