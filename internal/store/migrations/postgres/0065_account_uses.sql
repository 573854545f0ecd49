-- account_uses: what an account has ever used of the features whose ticket after-hooks
-- read under the ticket's row lock on every write (issue 16: the locked section of a
-- shared ticket's update). A feature's row, once there, stays: its hook then reads as
-- before. While it is missing the hook knows, before any lock, that there is nothing
-- to read: no SLA target (targets come only from policies), no suggestion shown, no
-- autonomous AI answer to hand back. Inserting a row bumps the account's settings
-- version, so every process's cached copy (store.Uses) follows at the next write.
--   sla            an SLA policy was created (sla_policies)
--   ai_suggestions a suggestion was shown on a ticket (ai_suggestions)
--   ai_autonomous  an intent was set to answer autonomously (ai_autonomy), or an
--                  autonomous attempt recorded (ai_attempts)
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

CREATE TRIGGER account_uses_settings AFTER INSERT OR DELETE ON account_uses FOR EACH ROW EXECUTE FUNCTION bump_settings_version();

CREATE FUNCTION note_account_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_uses (account_id, feature) VALUES (NEW.account_id, TG_ARGV[0])
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER sla_policies_use AFTER INSERT ON sla_policies FOR EACH ROW EXECUTE FUNCTION note_account_use('sla');

CREATE TRIGGER sla_targets_use AFTER INSERT ON sla_targets FOR EACH ROW EXECUTE FUNCTION note_account_use('sla');

CREATE TRIGGER ai_suggestions_use AFTER INSERT ON ai_suggestions FOR EACH ROW EXECUTE FUNCTION note_account_use('ai_suggestions');

CREATE TRIGGER ai_autonomy_use AFTER INSERT OR UPDATE OF mode ON ai_autonomy FOR EACH ROW WHEN (NEW.mode = 'autonomous') EXECUTE FUNCTION note_account_use('ai_autonomous');

CREATE TRIGGER ai_attempts_use AFTER INSERT ON ai_attempts FOR EACH ROW WHEN (NEW.action = 'autonomous') EXECUTE FUNCTION note_account_use('ai_autonomous');
