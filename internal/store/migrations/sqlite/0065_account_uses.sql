-- account_uses: see the PostgreSQL migration of the same number. What an account has
-- ever used of the features whose ticket after-hooks read on every write; a row, once
-- there, stays, and inserting it bumps the account's settings version.
CREATE TABLE account_uses (
    account_id BIGINT NOT NULL,
    feature    TEXT NOT NULL,
    PRIMARY KEY (account_id, feature)
);

INSERT INTO account_uses (account_id, feature)
    SELECT account_id, 'sla' FROM sla_policies
    UNION SELECT account_id, 'sla' FROM sla_targets
    UNION SELECT account_id, 'ai_suggestions' FROM ai_suggestions
    UNION SELECT account_id, 'ai_autonomous' FROM ai_autonomy WHERE mode = 'autonomous'
    UNION SELECT account_id, 'ai_autonomous' FROM ai_attempts WHERE action = 'autonomous';

CREATE TRIGGER account_uses_settings_ins AFTER INSERT ON account_uses BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (NEW.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER account_uses_settings_del AFTER DELETE ON account_uses BEGIN
    INSERT INTO settings_versions (account_id, version) VALUES (OLD.account_id, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = settings_versions.version + 1;
END;

CREATE TRIGGER sla_policies_use AFTER INSERT ON sla_policies BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, 'sla') ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER sla_targets_use AFTER INSERT ON sla_targets BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, 'sla') ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER ai_suggestions_use AFTER INSERT ON ai_suggestions BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, 'ai_suggestions') ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER ai_autonomy_use_ins AFTER INSERT ON ai_autonomy WHEN NEW.mode = 'autonomous' BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, 'ai_autonomous') ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER ai_autonomy_use_upd AFTER UPDATE OF mode ON ai_autonomy WHEN NEW.mode = 'autonomous' BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, 'ai_autonomous') ON CONFLICT DO NOTHING;
END;

CREATE TRIGGER ai_attempts_use AFTER INSERT ON ai_attempts WHEN NEW.action = 'autonomous' BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, 'ai_autonomous') ON CONFLICT DO NOTHING;
END;
