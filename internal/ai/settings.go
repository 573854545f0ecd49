package ai

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// DefaultThreshold is the confidence a prediction needs to be applied when neither the
// admin nor the model's figures chose one for its target.
const DefaultThreshold = 0.9

// DefaultRetrainAfter is how many newly solved tickets start a training by themselves.
const DefaultRetrainAfter = 200

// Limits on settings.
const (
	maxTagSet  = 200
	maxTargets = 50
)

// Settings are an account's AI choices (ai_settings).
type Settings struct {
	Account ids.Account
	// UserID is the account's AI user (0 until first used).
	UserID ids.User
	// Triage applies predictions at or above their threshold when a ticket is created.
	Triage bool
	// Targets are what the models learn and triage predicts: TargetGroup,
	// TargetPriority, TargetType, TargetTags (the TagSet, one yes/no model per tag),
	// CustomFieldTarget(id) of drop-down fields, TargetMacro, TargetArticle.
	Targets []string
	// TagSet is the tags the AI may predict (TargetTags).
	TagSet []string
	// Thresholds are the admin's confidence thresholds per target (0 or absent: the
	// threshold the model's figures measured for precision 0.95, else DefaultThreshold;
	// 1: never apply, predictions are only recorded).
	Thresholds map[string]float64
	// IntentTarget is the target whose values are the account's intents: triage tags
	// tickets intent__VALUE with it.
	IntentTarget string
	// RetrainAfter is how many newly solved tickets start a training in the background
	// (0: never by itself).
	RetrainAfter int
	UpdatedAt    time.Time
}

// Has reports whether target is chosen.
func (s *Settings) Has(target string) bool { return slices.Contains(s.Targets, target) }

// Threshold is the confidence needed to apply a prediction for target: the admin's, else
// measured, else DefaultThreshold.
func (s *Settings) Threshold(target string, measured float64) float64 {
	if t := s.Thresholds[target]; t > 0 {
		return t
	}
	if measured > 0 {
		return measured
	}
	return DefaultThreshold
}

// LoadSettings returns the account's settings (defaults when none are saved).
func LoadSettings(ctx context.Context, q store.Queryer, acct ids.Account) (*Settings, error) {
	s := &Settings{Account: acct, Thresholds: map[string]float64{}, RetrainAfter: DefaultRetrainAfter}
	var targets, tags, thresholds string
	var at int64
	err := q.QueryRowContext(ctx, `SELECT user_id, triage, targets, tag_set, thresholds, intent_target, retrain_after, updated_at FROM ai_settings WHERE account_id = ?`, acct).
		Scan(&s.UserID, &s.Triage, &targets, &tags, &thresholds, &s.IntentTarget, &s.RetrainAfter, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ai: settings: %w", err)
	}
	s.UpdatedAt = store.Time(at)
	for _, c := range []struct {
		raw string
		dst any
	}{{targets, &s.Targets}, {tags, &s.TagSet}, {thresholds, &s.Thresholds}} {
		if err := json.Unmarshal([]byte(c.raw), c.dst); err != nil {
			return nil, fmt.Errorf("ai: settings of account %d: corrupt column: %w", acct, err)
		}
	}
	if s.Thresholds == nil {
		s.Thresholds = map[string]float64{}
	}
	return s, nil
}

// ValidateSettings checks settings against the account: known targets only (a custom
// field target names a drop-down field of the account), thresholds in [0.5, 1], a tag
// set when tags are a target, an intent target among the targets.
func ValidateSettings(ctx context.Context, q store.Queryer, s *Settings) error {
	var v errs.Validation
	fields, err := ticket.Fields(ctx, q, s.Account)
	if err != nil {
		return err
	}
	valid := func(target string) bool {
		switch target {
		case TargetGroup, TargetPriority, TargetType, TargetTags, TargetMacro, TargetArticle:
			return true
		}
		if n, ok := strings.CutPrefix(target, "custom_field_"); ok {
			id, err := strconv.ParseInt(n, 10, 64)
			return err == nil && slices.ContainsFunc(fields, func(f *ticket.Field) bool { return f.ID == id && f.Type == "tagger" })
		}
		return false
	}
	if len(s.Targets) > maxTargets {
		v.Add("targets", "TooLong", fmt.Sprintf("at most %d targets", maxTargets))
	}
	seen := map[string]bool{}
	var targets []string
	for _, t := range s.Targets {
		if !valid(t) {
			v.Bad("targets", fmt.Sprintf("%q is not a target: group_id, priority, type, tags, macro, article or custom_field_ID of a drop-down field", t))
			continue
		}
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	s.Targets = targets
	s.TagSet = ticket.NormalizeTags(s.TagSet)
	if len(s.TagSet) > maxTagSet {
		v.Add("tag_set", "TooLong", fmt.Sprintf("at most %d tags", maxTagSet))
	}
	if s.Has(TargetTags) && len(s.TagSet) == 0 {
		v.Blank("tag_set")
	}
	for t, th := range s.Thresholds {
		if !valid(t) {
			v.Bad("thresholds", fmt.Sprintf("%q is not a target", t))
		} else if th != 0 && (th < 0.5 || th > 1) {
			v.Bad("thresholds", fmt.Sprintf("the threshold of %s must be between 0.5 and 1", t))
		}
	}
	if s.IntentTarget != "" && (!seen[s.IntentTarget] || s.IntentTarget == TargetTags) {
		v.Bad("intent_target", "must be one of the chosen targets (not tags)")
	}
	if s.RetrainAfter < 0 || s.RetrainAfter > 1_000_000 {
		v.Bad("retrain_after", "must be between 0 and 1000000")
	}
	return v.Err()
}

// SaveSettings validates and stores the account's settings, keeping its AI user.
func SaveSettings(ctx context.Context, tx *store.Tx, s *Settings) error {
	if err := ValidateSettings(ctx, tx, s); err != nil {
		return err
	}
	if s.Thresholds == nil {
		s.Thresholds = map[string]float64{}
	}
	targets, _ := json.Marshal(nonNil(s.Targets))
	tags, _ := json.Marshal(nonNil(s.TagSet))
	thresholds, _ := json.Marshal(s.Thresholds)
	now := store.Now()
	// The AI user is created by Actor, never by a settings form.
	if _, err := tx.ExecContext(ctx, `INSERT INTO ai_settings (account_id, triage, targets, tag_set, thresholds, intent_target, retrain_after, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET triage = excluded.triage, targets = excluded.targets, tag_set = excluded.tag_set, thresholds = excluded.thresholds,
		intent_target = excluded.intent_target, retrain_after = excluded.retrain_after, updated_at = excluded.updated_at`,
		s.Account, s.Triage, string(targets), string(tags), string(thresholds), s.IntentTarget, s.RetrainAfter, store.Micros(now)); err != nil {
		return fmt.Errorf("ai: save settings: %w", err)
	}
	s.UpdatedAt = now
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
