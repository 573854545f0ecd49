-- The account's default support address (the From of its mail, read by every mail a
-- ticket write queues) joins the settings behind settings_versions (0043): a change of
-- a support address's email, name or default flag, or an address added or removed,
-- bumps the account's version in the same transaction, so the mail service can keep
-- the default address in a store.SettingsCache. Verification columns do not bump it.
-- (account_id never changes: no code moves an address to another account.)
CREATE TRIGGER recipient_addresses_settings_ins AFTER INSERT ON recipient_addresses BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER recipient_addresses_settings_upd AFTER UPDATE OF email, name, is_default ON recipient_addresses BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER recipient_addresses_settings_del AFTER DELETE ON recipient_addresses BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;
