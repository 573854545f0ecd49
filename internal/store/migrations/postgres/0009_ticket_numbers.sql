-- Ticket numbers come from one sequence per account on PostgreSQL: nextval takes no row
-- lock, so concurrent creates in one account (from several server processes) do not
-- queue on the account row. Existing accounts continue where their counter stands.
DO $$
DECLARE a RECORD;
BEGIN
  FOR a IN SELECT id, ticket_seq FROM accounts LOOP
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS ticket_numbers_%s', a.id);
    IF a.ticket_seq > 0 THEN
      EXECUTE format('SELECT setval(%L, %s)', 'ticket_numbers_' || a.id, a.ticket_seq);
    END IF;
  END LOOP;
END $$;
