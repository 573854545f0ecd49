// Package rules is Tandem's business-rule engine: triggers, which run inside the ticket
// write path after every create and update; views, saved ticket filters compiled to SQL
// from a whitelist of fields and operators; and macros, named sets of actions an agent
// applies to a ticket. Triggers and macros share one action engine, and triggers and
// views share one table of condition fields, so a condition means the same thing
// wherever it appears.
package rules

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Limits on rules (Zendesk's).
const (
	MaxActiveTriggers = 7000
	MaxRuleBytes      = 65536 // a rule's conditions and actions, as JSON
	MaxTitle          = 255
	MaxViewColumns    = 10
)

// Condition is one test of a rule, spelled as Zendesk's API spells it: a field, an
// operator and a value (always a string; IDs are decimal strings, "" means none).
type Condition struct {
	Field    string `json:"field"`
	Operator string `json:"operator"`
	Value    string `json:"value"`
}

// Conditions are a rule's tests: every one of All must hold, and at least one of Any
// when Any is not empty.
type Conditions struct {
	All []Condition `json:"all"`
	Any []Condition `json:"any"`
}

func (c Conditions) normalized() Conditions {
	if c.All == nil {
		c.All = []Condition{}
	}
	if c.Any == nil {
		c.Any = []Condition{}
	}
	return c
}

// Action is one thing a trigger or macro does to a ticket. Value holds one string for
// scalar actions and several for list-valued ones (notifications); List records which
// form the client used, so the rule reads back as it was written.
type Action struct {
	Field string
	Value []string
	List  bool
}

// Str is the action's scalar value.
func (a Action) Str() string {
	if len(a.Value) == 0 {
		return ""
	}
	return a.Value[0]
}

// MarshalJSON writes {"field":..., "value": string or list}.
func (a Action) MarshalJSON() ([]byte, error) {
	var v any = a.Str()
	if a.List {
		v = append([]string{}, a.Value...)
	}
	return json.Marshal(struct {
		Field string `json:"field"`
		Value any    `json:"value"`
	}{a.Field, v})
}

// UnmarshalJSON reads what MarshalJSON writes (the stored form).
func (a *Action) UnmarshalJSON(b []byte) error {
	var raw struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	a.Field = raw.Field
	var list []string
	if err := json.Unmarshal(raw.Value, &list); err == nil && strings.HasPrefix(strings.TrimSpace(string(raw.Value)), "[") {
		a.Value, a.List = list, true
		return nil
	}
	var s string
	_ = json.Unmarshal(raw.Value, &s)
	a.Value, a.List = []string{s}, false
	return nil
}

// Trigger runs after every ticket create and update whose conditions it matches.
type Trigger struct {
	ID          int64
	AccountID   ids.Account
	Title       string
	Description string
	Active      bool
	Position    int64
	// CategoryID is kept as the string Zendesk uses ("" = none).
	CategoryID string
	Conditions Conditions
	Actions    []Action
	Default    bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Restriction limits who may see and use a view or macro: nobody (nil = everyone), one
// user, or the members of some groups.
type Restriction struct {
	Type string  // "User" or "Group"
	ID   int64   // the user, or the first group
	IDs  []int64 // the groups
}

// Output is how a view presents its tickets.
type Output struct {
	Columns    []string `json:"columns"`
	GroupBy    string   `json:"group_by,omitempty"`
	GroupOrder string   `json:"group_order,omitempty"`
	SortBy     string   `json:"sort_by,omitempty"`
	SortOrder  string   `json:"sort_order,omitempty"`
}

// View is a saved ticket filter.
type View struct {
	ID          int64
	AccountID   ids.Account
	Title       string
	Description string
	Active      bool
	Position    int64
	Restriction *Restriction
	Conditions  Conditions
	Output      Output
	Default     bool
	// Key names a default view in permanent links (/agent/views/unsolved), whether or
	// not the account saved it; saved views have none (they are not stored).
	Key       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Macro is a named set of actions an agent applies to a ticket.
type Macro struct {
	ID          int64
	AccountID   ids.Account
	Title       string
	Description string
	Active      bool
	Position    int64
	Restriction *Restriction
	Actions     []Action
	Default     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Config configures the rules service.
type Config struct {
	// TicketURL renders {{ticket.url}} in notifications; nil renders the agent path.
	TicketURL func(a *account.Account, id ids.Ticket) string
	// RatingURL renders {{satisfaction.rating_url}}: the signed page on which the
	// ticket's requester rates it (q is the write's transaction); nil renders nothing.
	RatingURL func(ctx context.Context, q store.Queryer, a *account.Account, t *ticket.Ticket) string
}

// Service stores rules and runs triggers.
type Service struct {
	db  *store.DB
	log *slog.Logger
	cfg Config
	// triggers caches each account's active triggers, compiled (triggers.go).
	triggers store.SettingsCache[[]*compiled]
	// counts caches view counts (viewcount.go).
	counts *countCache
}

// New returns the rules service. Register its Run method as a before-hook of the ticket
// service (before the sharing hook, which carries out share_ticket actions).
func New(db *store.DB, log *slog.Logger, cfg Config) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, log: log, cfg: cfg, counts: newCountCache()}
}
