-- The account's default support address (the From of its mail, read by every mail a
-- ticket write queues) joins the settings behind settings_versions (0043): a change of
-- a support address's email, name or default flag, or an address added or removed,
-- bumps the account's version in the same transaction, so the mail service can keep
-- the default address in a store.SettingsCache. Verification columns do not bump it.
-- (account_id never changes: no code moves an address to another account.)
CREATE TRIGGER recipient_addresses_settings AFTER INSERT OR UPDATE OF email, name, is_default OR DELETE ON recipient_addresses FOR EACH ROW EXECUTE FUNCTION bump_settings_version();
