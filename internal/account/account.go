// Package account holds accounts (tenants), their plans, and the single feature-gate
// function every surface uses to decide what a plan unlocks.
package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Plan is a subscription tier.
type Plan string

// The plans, lowest first.
const (
	Team         Plan = "team"
	Growth       Plan = "growth"
	Professional Plan = "professional"
	Enterprise   Plan = "enterprise"
)

// Plans lists every plan, lowest first.
var Plans = []Plan{Team, Growth, Professional, Enterprise}

func (p Plan) rank() int {
	for i, q := range Plans {
		if q == p {
			return i
		}
	}
	return -1
}

// Valid reports whether p names a plan.
func (p Plan) Valid() bool { return p.rank() >= 0 }

// Title is the plan's display name.
func (p Plan) Title() string {
	if p == "" {
		return ""
	}
	return strings.ToUpper(string(p[:1])) + string(p[1:])
}

// Feature is something a plan may unlock.
type Feature string

// The gated features, with the lowest plan that unlocks each (seed guide's table).
const (
	SharedOrganizations Feature = "shared_organizations"
	TicketSharing       Feature = "ticket_sharing"  // manual sharing and the agreements API
	TriggerSharing      Feature = "trigger_sharing" // share_ticket action in triggers
	MultipleOrgs        Feature = "multiple_organizations"
	NestedSections      Feature = "nested_sections" // help center sections inside sections
)

var minPlan = map[Feature]Plan{
	SharedOrganizations: Team,
	TicketSharing:       Professional,
	TriggerSharing:      Enterprise,
	MultipleOrgs:        Professional,
	NestedSections:      Enterprise,
}

var featureTitle = map[Feature]string{
	SharedOrganizations: "Shared organizations",
	TicketSharing:       "Ticket sharing",
	TriggerSharing:      "Sharing tickets with triggers",
	MultipleOrgs:        "Users in several organizations",
	NestedSections:      "Nested help center sections",
}

// MinPlan returns the lowest plan that unlocks f.
func MinPlan(f Feature) Plan { return minPlan[f] }

// Allows reports whether plan p unlocks feature f.
func (p Plan) Allows(f Feature) bool {
	need, ok := minPlan[f]
	return ok && p.rank() >= need.rank()
}

// MaxOrgsPerUser is how many organizations one user may belong to on the plan.
func (p Plan) MaxOrgsPerUser() int {
	if p.Allows(MultipleOrgs) {
		return 300
	}
	return 1
}

// RateLimit is the plan's default API requests per minute (Zendesk's figures).
func (p Plan) RateLimit() int {
	switch p {
	case Team:
		return 200
	case Growth, Professional:
		return 400
	default:
		return 700
	}
}

// Require returns nil when the account's plan unlocks f, else a PlanRequired error
// naming the plan that does. It is the one gate every surface calls.
func (a *Account) Require(f Feature) error {
	if a.Plan.Allows(f) {
		return nil
	}
	need := minPlan[f]
	return &errs.Error{
		Code:    errs.PlanRequired,
		Plan:    string(need),
		Message: fmt.Sprintf("%s requires the %s plan or higher; this account is on %s.", featureTitle[f], need.Title(), a.Plan.Title()),
	}
}

// Account is a tenant.
type Account struct {
	ID        ids.Account
	Subdomain string
	Name      string
	Plan      Plan
	CreatedAt time.Time
	UpdatedAt time.Time
}

var subdomainRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$`)

// ValidSubdomain reports whether s can address an account.
func ValidSubdomain(s string) bool { return subdomainRE.MatchString(s) }

// Store reads and writes accounts, with a small cache for host lookups (the hot path of
// every request).
type Store struct {
	db    *store.DB
	mu    sync.RWMutex
	cache map[string]cached
	byID  map[ids.Account]cached
}

type cached struct {
	a  *Account
	at time.Time
}

// cacheTTL bounds how long another process's plan or name change takes to be seen.
const cacheTTL = 30 * time.Second

// NewStore returns a Store over db.
func NewStore(db *store.DB) *Store {
	return &Store{db: db, cache: map[string]cached{}, byID: map[ids.Account]cached{}}
}

const cols = `id, subdomain, name, plan, created_at, updated_at`

func scan(row interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var c, u int64
	if err := row.Scan(&a.ID, &a.Subdomain, &a.Name, &a.Plan, &c, &u); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = store.Time(c), store.Time(u)
	return &a, nil
}

// Create adds an account inside tx.
func Create(ctx context.Context, tx *store.Tx, subdomain, name string, plan Plan) (*Account, error) {
	subdomain = strings.ToLower(strings.TrimSpace(subdomain))
	var v errs.Validation
	if !ValidSubdomain(subdomain) {
		v.Bad("subdomain", "must be 2-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
	}
	if !plan.Valid() {
		v.Bad("plan", "must be one of team, growth, professional, enterprise")
	}
	if name == "" {
		name = subdomain
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := store.Now()
	a := &Account{Subdomain: subdomain, Name: name, Plan: plan, CreatedAt: now, UpdatedAt: now}
	err := tx.QueryRowContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		subdomain, name, string(plan), store.Micros(now), store.Micros(now)).Scan(&a.ID)
	if store.IsUniqueViolation(err) {
		return nil, errs.Invalidf("subdomain", "DuplicateValue", "%s is already taken", subdomain)
	}
	if err != nil {
		return nil, fmt.Errorf("account: create: %w", err)
	}
	if tx.D() == store.Postgres {
		// Ticket numbers come from a sequence per account (see ticket.nextNumber).
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE SEQUENCE ticket_numbers_%d`, int64(a.ID))); err != nil {
			return nil, fmt.Errorf("account: create ticket sequence: %w", err)
		}
	}
	return a, nil
}

// BySubdomain finds an account by subdomain (cached).
func (s *Store) BySubdomain(ctx context.Context, sub string) (*Account, error) {
	s.mu.RLock()
	c, ok := s.cache[sub]
	s.mu.RUnlock()
	if ok && time.Since(c.at) < cacheTTL {
		return c.a, nil
	}
	a, err := scan(s.db.R().QueryRowContext(ctx, `SELECT `+cols+` FROM accounts WHERE subdomain = ?`, sub))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("no account %q", sub)
	}
	if err != nil {
		return nil, fmt.Errorf("account: by subdomain: %w", err)
	}
	s.mu.Lock()
	s.cache[sub] = cached{a, time.Now()}
	s.mu.Unlock()
	return a, nil
}

// ByID finds an account by ID.
func (s *Store) ByID(ctx context.Context, id ids.Account) (*Account, error) {
	a, err := scan(s.db.R().QueryRowContext(ctx, `SELECT `+cols+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("no account %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("account: by id: %w", err)
	}
	return a, nil
}

// ByIDCached is ByID through the same cache as BySubdomain (for workers that read an
// account for every message they process, such as inbound mail's).
func (s *Store) ByIDCached(ctx context.Context, id ids.Account) (*Account, error) {
	s.mu.RLock()
	c, ok := s.byID[id]
	s.mu.RUnlock()
	if ok && time.Since(c.at) < cacheTTL {
		return c.a, nil
	}
	a, err := s.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.byID[id] = cached{a, time.Now()}
	s.mu.Unlock()
	return a, nil
}

// List returns every account.
func (s *Store) List(ctx context.Context) ([]*Account, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+cols+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("account: list: %w", err)
	}
	defer rows.Close()
	var out []*Account
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetPlan changes an account's plan.
func (s *Store) SetPlan(ctx context.Context, id ids.Account, p Plan) error {
	if !p.Valid() {
		return errs.Invalidf("plan", "InvalidValue", "must be one of team, growth, professional, enterprise")
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE accounts SET plan = ?, updated_at = ? WHERE id = ?`, string(p), store.Micros(store.Now()), id)
		return err
	})
	s.Forget()
	return err
}

// Forget drops cached lookups (after a plan or name change).
func (s *Store) Forget() {
	s.mu.Lock()
	s.cache = map[string]cached{}
	s.byID = map[ids.Account]cached{}
	s.mu.Unlock()
}

type ctxKey struct{}

// NewContext returns ctx carrying the request's account.
func NewContext(ctx context.Context, a *Account) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// FromContext returns the request's account, or nil.
func FromContext(ctx context.Context) *Account {
	a, _ := ctx.Value(ctxKey{}).(*Account)
	return a
}
