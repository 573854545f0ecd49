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

CREATE TRIGGER ticket_fields_settings_ins AFTER INSERT ON ticket_fields BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ticket_fields_settings_upd AFTER UPDATE ON ticket_fields BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ticket_fields_settings_del AFTER DELETE ON ticket_fields BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER sla_policies_settings_ins AFTER INSERT ON sla_policies BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER sla_policies_settings_upd AFTER UPDATE ON sla_policies BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER sla_policies_settings_del AFTER DELETE ON sla_policies BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER rule_versions_settings_ins AFTER INSERT ON rule_versions BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER rule_versions_settings_upd AFTER UPDATE ON rule_versions BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_models_settings_ins AFTER INSERT ON ai_models BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_models_settings_upd AFTER UPDATE ON ai_models BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_models_settings_del AFTER DELETE ON ai_models BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_settings_settings_ins AFTER INSERT ON ai_settings BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_settings_settings_upd AFTER UPDATE OF user_id, triage, targets, tag_set, thresholds, intent_target, retrain_after, updated_at ON ai_settings BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_settings_settings_del AFTER DELETE ON ai_settings BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_autonomy_settings_ins AFTER INSERT ON ai_autonomy BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_autonomy_settings_upd AFTER UPDATE ON ai_autonomy BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER ai_autonomy_settings_del AFTER DELETE ON ai_autonomy BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER kb_state_settings_ins AFTER INSERT ON kb_state BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER kb_state_settings_upd AFTER UPDATE ON kb_state BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER kb_state_settings_del AFTER DELETE ON kb_state BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER report_state_settings_ins AFTER INSERT ON report_state BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER report_state_settings_upd AFTER UPDATE ON report_state BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER report_state_settings_del AFTER DELETE ON report_state BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;
