package assist

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// The rungs of the autonomy ladder, per intent.
const (
	ModeOff        = "off"        // no AI help for this intent
	ModeSuggest    = "suggest"    // suggestions in the agent's sidebar (the default)
	ModeDraft      = "draft"      // a draft the agent reviews: internal note or pending reply
	ModeAutonomous = "autonomous" // a public reply with the macro's actions, when allowed
)

// Modes lists the rungs in order.
var Modes = []string{ModeOff, ModeSuggest, ModeDraft, ModeAutonomous}

// Kinds of draft.
const (
	DraftNote    = "note"    // an internal note holding the proposed reply
	DraftPending = "pending" // a reply the agent sends with one click
)

// Defaults of an account's controls.
const (
	DefaultRatePerHour     = 60
	DefaultTargetPrecision = 0.95
	DefaultMinTickets      = 200
)

// Controls are an account's AI settings: read from the database at the moment the AI
// acts, so a change (the kill switch above all) holds at once on every process.
type Controls struct {
	// Killed stops every AI write (drafts, replies, hand-offs); suggestions stay.
	Killed bool
	// RatePerHour caps the AI's drafts and replies per hour (0: none at all).
	RatePerHour int
	// TargetPrecision and MinTickets are the simulation evidence an intent needs for
	// autonomy (precision at least this on at least that many replayed tickets).
	TargetPrecision float64
	MinTickets      int
	// DraftKind is how a draft is left: an internal note or a pending reply.
	DraftKind string
	// LLM is the account's own model server (empty BaseURL: none).
	LLM LLMSettings
	// Modes are the admin's rung per intent; an intent not listed is at ModeSuggest.
	Modes map[string]string
}

// LLMSettings is an account's own OpenAI-compatible model server.
type LLMSettings struct {
	BaseURL    string
	ChatModel  string
	EmbedModel string
	// SealedKey is the API key as stored (sealed by secretbox); HasKey says one is set.
	SealedKey string
	// State is "ok", "degraded" or "" (never called); Error is the last failure.
	State     string
	Error     string
	CheckedAt int64
}

// Configured reports whether a model server is set.
func (l LLMSettings) Configured() bool { return l.BaseURL != "" && l.ChatModel != "" }

// HasKey reports whether an API key is stored.
func (l LLMSettings) HasKey() bool { return l.SealedKey != "" }

// Mode returns the rung of an intent.
func (c *Controls) Mode(intent string) string {
	if m, ok := c.Modes[intent]; ok {
		return m
	}
	return ModeSuggest
}

// LoadControls reads an account's controls (defaults when never saved).
func LoadControls(ctx context.Context, q store.Queryer, acct ids.Account) (*Controls, error) {
	c := &Controls{RatePerHour: DefaultRatePerHour, TargetPrecision: DefaultTargetPrecision, MinTickets: DefaultMinTickets, DraftKind: DraftNote, Modes: map[string]string{}}
	err := q.QueryRowContext(ctx, `SELECT killed, rate_per_hour, target_precision, min_tickets, draft_kind, llm_base_url, llm_chat_model, llm_embed_model, llm_key, llm_state, llm_error, llm_checked_at
		FROM ai_controls WHERE account_id = ?`, acct).Scan(&c.Killed, &c.RatePerHour, &c.TargetPrecision, &c.MinTickets, &c.DraftKind,
		&c.LLM.BaseURL, &c.LLM.ChatModel, &c.LLM.EmbedModel, &c.LLM.SealedKey, &c.LLM.State, &c.LLM.Error, &c.LLM.CheckedAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("assist: load controls: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT intent, mode FROM ai_autonomy WHERE account_id = ?`, acct)
	if err != nil {
		return nil, fmt.Errorf("assist: load autonomy: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, m string
		if err := rows.Scan(&i, &m); err != nil {
			return nil, fmt.Errorf("assist: load autonomy: %w", err)
		}
		c.Modes[i] = m
	}
	return c, rows.Err()
}

// ensureControls creates the account's controls row if missing.
func ensureControls(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ai_controls (account_id, updated_at) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING`, acct, store.Micros(store.Now()))
	if err != nil {
		return fmt.Errorf("assist: controls: %w", err)
	}
	return nil
}

// Limits are the controls an admin sets on the AI page.
type Limits struct {
	Killed          bool
	RatePerHour     int
	TargetPrecision float64
	MinTickets      int
	DraftKind       string
}

// Validate checks limits; the target precision and the ticket count may be raised,
// never lowered below the defaults (the guardrail is a floor).
func (l *Limits) Validate() error {
	var v errs.Validation
	if l.RatePerHour < 0 || l.RatePerHour > 100000 {
		v.Bad("rate_per_hour", "must be between 0 and 100000")
	}
	if l.TargetPrecision < DefaultTargetPrecision || l.TargetPrecision > 1 {
		v.Bad("target_precision", fmt.Sprintf("must be between %.2f and 1", DefaultTargetPrecision))
	}
	if l.MinTickets < DefaultMinTickets || l.MinTickets > 1000000 {
		v.Bad("min_tickets", fmt.Sprintf("must be at least %d", DefaultMinTickets))
	}
	if l.DraftKind != DraftNote && l.DraftKind != DraftPending {
		v.Bad("draft_kind", "must be note or pending")
	}
	return v.Err()
}

// SaveLimits stores the kill switch, rate limit, gate figures and draft kind.
func (s *Service) SaveLimits(ctx context.Context, acct ids.Account, l Limits) error {
	if err := l.Validate(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := ensureControls(ctx, tx, acct); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE ai_controls SET killed = ?, rate_per_hour = ?, target_precision = ?, min_tickets = ?, draft_kind = ?, updated_at = ? WHERE account_id = ?`,
			l.Killed, l.RatePerHour, l.TargetPrecision, l.MinTickets, l.DraftKind, store.Micros(store.Now()), acct)
		if err != nil {
			return fmt.Errorf("assist: save controls: %w", err)
		}
		return nil
	})
}

// SetKilled turns the kill switch on or off.
func (s *Service) SetKilled(ctx context.Context, acct ids.Account, killed bool) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		if err := ensureControls(ctx, tx, acct); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE ai_controls SET killed = ?, updated_at = ? WHERE account_id = ?`, killed, store.Micros(store.Now()), acct)
		if err != nil {
			return fmt.Errorf("assist: kill switch: %w", err)
		}
		return nil
	})
}

// MaxIntent bounds an intent's name.
const MaxIntent = 200

// SetMode puts an intent on a rung. Autonomous is stored as the admin's allowlisting;
// whether the AI may act on it is decided when it acts (Decide), from the latest
// simulation's evidence.
func (s *Service) SetMode(ctx context.Context, acct ids.Account, by ids.User, intent, mode string) error {
	intent = strings.TrimSpace(intent)
	var v errs.Validation
	if intent == "" || len(intent) > MaxIntent {
		v.Bad("intent", "must be an intent value of at most 200 characters")
	}
	ok := false
	for _, m := range Modes {
		ok = ok || m == mode
	}
	if !ok {
		v.Bad("mode", "must be one of off, suggest, draft, autonomous")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ai_autonomy (account_id, intent, mode, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (account_id, intent) DO UPDATE SET mode = excluded.mode, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			acct, intent, mode, by, store.Micros(store.Now()))
		if err != nil {
			return fmt.Errorf("assist: set mode: %w", err)
		}
		return nil
	})
}

// checkBaseURL validates a model server's base URL: http or https, a host, no
// credentials, no query or fragment.
func checkBaseURL(raw string) (string, error) {
	raw = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(raw) > 500 {
		return "", errs.Invalidf("base_url", "InvalidValue", "must be an http or https URL without credentials, such as https://models.example.com/v1")
	}
	return raw, nil
}
