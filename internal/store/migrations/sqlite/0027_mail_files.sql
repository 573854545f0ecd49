-- Mail attachments both ways (issues 11 and 12).
--
-- Inbound attachments now go through the attachments store (internal/files, table
-- attachments) like any upload: mail_attachments and its spool files are replaced.
DROP TABLE mail_attachments;

-- mail_outbox.attachments: the ids (comma-separated) of the files a queued mail carries
-- as MIME parts; their bytes are read from the blob store when the mail is sent, so the
-- row holds the composed text and HTML only.
ALTER TABLE mail_outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
