-- sharing_outbox: the secondary indexes hold pending rows only (PostgreSQL; issue 16
-- item 3, PostgreSQL CPU per shared update).
--
-- Every reader of sharing_outbox other than retention and the health page asks for
-- pending rows: the claim and nextDue (the heads index), the head triggers and the
-- coalescing (a share's pending rows by id), SharingOf's count, the metrics' count, the
-- hurry, Cancel. The health page counts an agreement's dead rows as well. But the three
-- indexes of 0002 held every row in every status: the outcome that marks a row
-- delivered changes status, an indexed column, so the update could not be HOT and put a
-- new entry for the row in each of them (and in the primary key), never read again, and
-- the pending ranges the queue reads were interleaved with the dead entries of the
-- rows' earlier versions until vacuum.
--
-- Partial on status = 'pending' ('pending' or 'dead' for the agreement's, which the
-- health page reads), an outcome that delivers, cancels or keeps a row adds no entry to
-- them. Retention's hourly DELETE of delivered and cancelled rows reads the table
-- instead of the status index; SQLite is unchanged (one writer, no tuple versions).
DROP INDEX sharing_outbox_due;
DROP INDEX sharing_outbox_share;
DROP INDEX sharing_outbox_agreement;
CREATE INDEX sharing_outbox_due ON sharing_outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX sharing_outbox_share ON sharing_outbox(share_id, id) WHERE status = 'pending';
CREATE INDEX sharing_outbox_agreement ON sharing_outbox(account_id, agreement_id, status) WHERE status IN ('pending', 'dead');
