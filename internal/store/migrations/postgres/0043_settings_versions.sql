-- settings_versions: one number per account that changes, in the same transaction,
-- whenever a setting the ticket write path reads on every write changes: custom ticket
-- fields, SLA policies, the triggers' version (rule_versions), AI models and settings,
-- AI autonomy, the knowledge base's version (kb_state) and the reports' state. A write
-- reads it once (one primary-key read) and takes those settings from a per-process
-- cache made at the same number (store.SettingsCache), so a change committed by any
-- process is seen by the next write everywhere. The database's triggers bump it, so no
-- code path that changes a setting can forget to.
CREATE TABLE settings_versions (
    account_id BIGINT PRIMARY KEY,
    version    BIGINT NOT NULL
);

CREATE FUNCTION bump_settings_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    acct BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        acct := OLD.account_id;
    ELSE
        acct := NEW.account_id;
    END IF;
    INSERT INTO settings_versions (account_id, version) VALUES (acct, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER ticket_fields_settings AFTER INSERT OR UPDATE OR DELETE ON ticket_fields FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER sla_policies_settings AFTER INSERT OR UPDATE OR DELETE ON sla_policies FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER rule_versions_settings AFTER INSERT OR UPDATE ON rule_versions FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER ai_models_settings AFTER INSERT OR UPDATE OR DELETE ON ai_models FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER ai_settings_settings AFTER INSERT OR UPDATE OF user_id, triage, targets, tag_set, thresholds, intent_target, retrain_after, updated_at OR DELETE ON ai_settings FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER ai_autonomy_settings AFTER INSERT OR UPDATE OR DELETE ON ai_autonomy FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER kb_state_settings AFTER INSERT OR UPDATE OR DELETE ON kb_state FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE TRIGGER report_state_settings AFTER INSERT OR UPDATE OR DELETE ON report_state FOR EACH ROW EXECUTE FUNCTION bump_settings_version();
