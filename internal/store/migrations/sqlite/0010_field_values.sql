-- An index of tickets' custom field values, for search (custom_field_N:value). Reading
-- the custom_fields JSON of every ticket costs seconds at a million tickets; this table
-- answers the same question with one index range. Triggers keep it in step inside the
-- writing transaction, whatever path wrote the ticket (API, sharing, import).
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
) WITHOUT ROWID;
CREATE INDEX ticket_field_values_ticket ON ticket_field_values (account_id, ticket_id);

-- json_each over the path of one field yields its value, or each element of an array.
CREATE TRIGGER tickets_field_values_insert AFTER INSERT ON tickets
WHEN new.custom_fields <> '{}' AND json_valid(new.custom_fields) AND json_type(new.custom_fields) = 'object' BEGIN
    INSERT OR IGNORE INTO ticket_field_values (account_id, field_id, value, ticket_id)
    SELECT new.account_id, CAST(f.key AS INTEGER),
           CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE LOWER(CAST(e.value AS TEXT)) END,
           new.id
    FROM json_each(new.custom_fields) f, json_each(new.custom_fields, '$."' || f.key || '"') e
    WHERE f.key GLOB '[0-9]*' AND f.key NOT GLOB '*[^0-9]*' AND e.type <> 'null';
END;

CREATE TRIGGER tickets_field_values_update AFTER UPDATE OF custom_fields ON tickets
WHEN old.custom_fields IS NOT new.custom_fields BEGIN
    DELETE FROM ticket_field_values WHERE account_id = old.account_id AND ticket_id = old.id;
    INSERT OR IGNORE INTO ticket_field_values (account_id, field_id, value, ticket_id)
    SELECT new.account_id, CAST(f.key AS INTEGER),
           CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE LOWER(CAST(e.value AS TEXT)) END,
           new.id
    FROM json_each(CASE WHEN json_valid(new.custom_fields) AND json_type(new.custom_fields) = 'object' THEN new.custom_fields ELSE '{}' END) f,
         json_each(new.custom_fields, '$."' || f.key || '"') e
    WHERE f.key GLOB '[0-9]*' AND f.key NOT GLOB '*[^0-9]*' AND e.type <> 'null';
END;

CREATE TRIGGER tickets_field_values_delete AFTER DELETE ON tickets
WHEN old.custom_fields <> '{}' BEGIN
    DELETE FROM ticket_field_values WHERE account_id = old.account_id AND ticket_id = old.id;
END;

-- Index what is already there.
INSERT OR IGNORE INTO ticket_field_values (account_id, field_id, value, ticket_id)
SELECT t.account_id, CAST(f.key AS INTEGER),
       CASE e.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE LOWER(CAST(e.value AS TEXT)) END,
       t.id
FROM tickets t, json_each(t.custom_fields) f, json_each(t.custom_fields, '$."' || f.key || '"') e
WHERE t.custom_fields <> '{}' AND json_valid(t.custom_fields) AND json_type(t.custom_fields) = 'object'
  AND f.key GLOB '[0-9]*' AND f.key NOT GLOB '*[^0-9]*' AND e.type <> 'null';
