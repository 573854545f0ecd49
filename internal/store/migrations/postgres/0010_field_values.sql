-- An index of tickets' custom field values, for search (custom_field_N:value). Reading
-- the custom_fields JSON of every ticket costs seconds at a million tickets; this table
-- answers the same question with one index range. A trigger keeps it in step inside
-- the writing transaction, whatever path wrote the ticket (API, sharing, import, COPY).
--
-- One row per value: a string lowercased, a boolean as true/false, a number as its
-- text, each element of an array on its own row; nulls are left out. Deleted tickets
-- keep their rows: searches join to the live ticket anyway.
CREATE TABLE ticket_field_values (
    account_id BIGINT NOT NULL,
    field_id   BIGINT NOT NULL,
    value      TEXT NOT NULL,
    ticket_id  BIGINT NOT NULL,
    PRIMARY KEY (account_id, field_id, value, ticket_id)
);
CREATE INDEX ticket_field_values_ticket ON ticket_field_values (account_id, ticket_id);

-- The rows of one ticket's custom_fields (a JSON object in a TEXT column).
CREATE FUNCTION ticket_field_value_rows(acct BIGINT, ticket BIGINT, fields TEXT)
RETURNS TABLE (account_id BIGINT, field_id BIGINT, value TEXT, ticket_id BIGINT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT acct, f.key::BIGINT, LOWER(e.v), ticket
    FROM jsonb_each(CASE WHEN jsonb_typeof(fields::jsonb) = 'object' THEN fields::jsonb ELSE '{}'::jsonb END) f,
         jsonb_array_elements_text(CASE jsonb_typeof(f.value) WHEN 'array' THEN f.value ELSE jsonb_build_array(f.value) END) e(v)
    WHERE f.key ~ '^[0-9]{1,18}$' AND e.v IS NOT NULL
$$;

CREATE FUNCTION tickets_field_values_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM ticket_field_values WHERE account_id = OLD.account_id AND ticket_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.custom_fields <> '{}' THEN
        INSERT INTO ticket_field_values (account_id, field_id, value, ticket_id)
        SELECT * FROM ticket_field_value_rows(NEW.account_id, NEW.id, NEW.custom_fields)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tickets_field_values_insert AFTER INSERT ON tickets
    FOR EACH ROW WHEN (NEW.custom_fields <> '{}') EXECUTE FUNCTION tickets_field_values_sync();
CREATE TRIGGER tickets_field_values_update AFTER UPDATE OF custom_fields ON tickets
    FOR EACH ROW WHEN (OLD.custom_fields IS DISTINCT FROM NEW.custom_fields) EXECUTE FUNCTION tickets_field_values_sync();
CREATE TRIGGER tickets_field_values_delete AFTER DELETE ON tickets
    FOR EACH ROW WHEN (OLD.custom_fields <> '{}') EXECUTE FUNCTION tickets_field_values_sync();

-- Index what is already there.
INSERT INTO ticket_field_values (account_id, field_id, value, ticket_id)
SELECT r.* FROM tickets t, ticket_field_value_rows(t.account_id, t.id, t.custom_fields) r
WHERE t.custom_fields <> '{}'
ON CONFLICT DO NOTHING;
