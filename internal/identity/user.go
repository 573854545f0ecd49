// Package identity holds users, their email identities, passwords, API tokens and web
// sessions, and authenticates requests. API tokens are long random secrets stored as a
// SHA-256 hash, so checking one costs microseconds; passwords use argon2id and are only
// checked at sign-in.
package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Role is a user's role in an account.
type Role string

// The roles.
const (
	EndUser Role = "end-user"
	Agent   Role = "agent"
	Admin   Role = "admin"
)

// Valid reports whether r names a role.
func (r Role) Valid() bool { return r == EndUser || r == Agent || r == Admin }

// IsStaff reports whether r is an agent or admin.
func (r Role) IsStaff() bool { return r == Agent || r == Admin }

// Ticket restrictions an agent may have.
const (
	RestrictOrganization = "organization"
	RestrictGroups       = "groups"
	RestrictAssigned     = "assigned"
	RestrictRequested    = "requested"
)

// User is a person in an account.
type User struct {
	ID                  ids.User
	AccountID           ids.Account
	Name                string
	Email               string // primary email, lowercase; "" if none
	Role                Role
	Verified            bool
	Active              bool
	Suspended           bool
	ExternalID          string
	Phone               string
	TimeZone            string
	Locale              string
	Details             string
	Notes               string
	Alias               string
	Signature           string
	Tags                []string
	UserFields          map[string]any
	TicketRestriction   string // "" = none
	OnlyPrivateComments bool
	DefaultGroupID      ids.Group
	OrganizationID      ids.Org // default organization; 0 = none
	PasswordHash        string
	Shared              bool // came from a sharing partner
	SharedAgent         bool
	LastLoginAt         time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// UserCols is the column list matching ScanUser.
const UserCols = `id, account_id, name, email, role, verified, active, suspended, external_id, phone, time_zone, locale, details, notes, alias, signature, tags, user_fields, ticket_restriction, only_private_comments, default_group_id, organization_id, password_hash, shared, shared_agent, last_login_at, created_at, updated_at`

// ScanUser reads one row selected with UserCols.
func ScanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var email, ext, phone, restr sql.NullString
	var dg, org sql.NullInt64
	var tags, fields string
	var ll, c, up int64
	err := row.Scan(&u.ID, &u.AccountID, &u.Name, &email, &u.Role, &u.Verified, &u.Active, &u.Suspended, &ext, &phone,
		&u.TimeZone, &u.Locale, &u.Details, &u.Notes, &u.Alias, &u.Signature, &tags, &fields, &restr, &u.OnlyPrivateComments,
		&dg, &org, &u.PasswordHash, &u.Shared, &u.SharedAgent, &ll, &c, &up)
	if err != nil {
		return nil, err
	}
	u.Email, u.ExternalID, u.Phone, u.TicketRestriction = email.String, ext.String, phone.String, restr.String
	u.DefaultGroupID, u.OrganizationID = ids.Group(dg.Int64), ids.Org(org.Int64)
	u.LastLoginAt, u.CreatedAt, u.UpdatedAt = store.Time(ll), store.Time(c), store.Time(up)
	if err := json.Unmarshal([]byte(tags), &u.Tags); err != nil {
		return nil, fmt.Errorf("identity: user %d tags: %w", u.ID, err)
	}
	if u.Tags == nil {
		u.Tags = []string{}
	}
	if err := json.Unmarshal([]byte(fields), &u.UserFields); err != nil {
		return nil, fmt.Errorf("identity: user %d user_fields: %w", u.ID, err)
	}
	if u.UserFields == nil {
		u.UserFields = map[string]any{}
	}
	return &u, nil
}

// NormalizeEmail lowercases and validates an email address; ok is false if it is not one.
func NormalizeEmail(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") && !strings.HasSuffix(s, "localhost") {
		return "", false
	}
	return s, true
}

// EmailDomain returns the domain part of a normalized email.
func EmailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID[T ~int64](v T) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Insert writes a new user and its primary email identity inside tx. The caller has
// validated the fields; unique violations come back as DuplicateValue errors.
func Insert(ctx context.Context, tx *store.Tx, u *User) error {
	now := store.Now()
	u.CreatedAt, u.UpdatedAt = now, now
	if u.TimeZone == "" {
		u.TimeZone = "UTC"
	}
	if u.Locale == "" {
		u.Locale = "en-US"
	}
	if u.Tags == nil {
		u.Tags = []string{}
	}
	if u.UserFields == nil {
		u.UserFields = map[string]any{}
	}
	u.Active = true
	err := tx.QueryRowContext(ctx, `INSERT INTO users (account_id, name, email, role, verified, active, suspended, external_id, external_id_lower, phone, time_zone, locale, details, notes, alias, signature, tags, user_fields, ticket_restriction, only_private_comments, default_group_id, organization_id, password_hash, shared, shared_agent, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.AccountID, u.Name, nullStr(u.Email), string(u.Role), u.Verified, u.Active, u.Suspended, nullStr(u.ExternalID), nullStr(strings.ToLower(u.ExternalID)),
		nullStr(u.Phone), u.TimeZone, u.Locale, u.Details, u.Notes, u.Alias, u.Signature, jsonText(u.Tags), jsonText(u.UserFields),
		nullStr(u.TicketRestriction), u.OnlyPrivateComments, nullID(u.DefaultGroupID), nullID(u.OrganizationID), u.PasswordHash,
		u.Shared, u.SharedAgent, store.Micros(now), store.Micros(now)).Scan(&u.ID)
	if store.IsUniqueViolation(err) {
		if store.UniqueViolationOn(err, "external_id") {
			return errs.Invalidf("external_id", "DuplicateValue", "%s is already being used by another user", u.ExternalID)
		}
		return errs.Invalidf("email", "DuplicateValue", "%s is already being used by another user", u.Email)
	}
	if err != nil {
		return fmt.Errorf("identity: insert user: %w", err)
	}
	if u.Email != "" {
		_, err = tx.ExecContext(ctx, `INSERT INTO user_identities (account_id, user_id, type, value, verified, is_primary, created_at, updated_at) VALUES (?, ?, 'email', ?, ?, TRUE, ?, ?)`,
			u.AccountID, u.ID, u.Email, u.Verified, store.Micros(now), store.Micros(now))
		if store.IsUniqueViolation(err) {
			return errs.Invalidf("email", "DuplicateValue", "%s is already being used by another user", u.Email)
		}
		if err != nil {
			return fmt.Errorf("identity: insert identity: %w", err)
		}
	}
	return nil
}

// Save writes every mutable column of u (the caller loaded it and changed fields).
func Save(ctx context.Context, tx *store.Tx, u *User) error {
	u.UpdatedAt = store.Now()
	_, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, email = ?, role = ?, verified = ?, active = ?, suspended = ?, external_id = ?, external_id_lower = ?, phone = ?, time_zone = ?, locale = ?, details = ?, notes = ?, alias = ?, signature = ?, tags = ?, user_fields = ?, ticket_restriction = ?, only_private_comments = ?, default_group_id = ?, organization_id = ?, password_hash = ?, last_login_at = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		u.Name, nullStr(u.Email), string(u.Role), u.Verified, u.Active, u.Suspended, nullStr(u.ExternalID), nullStr(strings.ToLower(u.ExternalID)), nullStr(u.Phone),
		u.TimeZone, u.Locale, u.Details, u.Notes, u.Alias, u.Signature, jsonText(u.Tags), jsonText(u.UserFields), nullStr(u.TicketRestriction),
		u.OnlyPrivateComments, nullID(u.DefaultGroupID), nullID(u.OrganizationID), u.PasswordHash, store.Micros(u.LastLoginAt), store.Micros(u.UpdatedAt),
		u.AccountID, u.ID)
	if store.IsUniqueViolation(err) {
		if store.UniqueViolationOn(err, "external_id") {
			return errs.Invalidf("external_id", "DuplicateValue", "%s is already being used by another user", u.ExternalID)
		}
		return errs.Invalidf("email", "DuplicateValue", "%s is already being used by another user", u.Email)
	}
	if err != nil {
		return fmt.Errorf("identity: save user: %w", err)
	}
	if u.Email != "" {
		// Keep the primary identity in step with users.email.
		if _, err := tx.ExecContext(ctx, `UPDATE user_identities SET is_primary = FALSE WHERE account_id = ? AND user_id = ? AND value <> ?`, u.AccountID, u.ID, u.Email); err != nil {
			return fmt.Errorf("identity: save identities: %w", err)
		}
		// The WHERE keeps another user's identity with this address untouched: the
		// statement then changes no row, and the address is taken.
		res, err := tx.ExecContext(ctx, `INSERT INTO user_identities (account_id, user_id, type, value, verified, is_primary, created_at, updated_at) VALUES (?, ?, 'email', ?, ?, TRUE, ?, ?)
			ON CONFLICT (account_id, type, value) DO UPDATE SET is_primary = TRUE, verified = excluded.verified, updated_at = excluded.updated_at
			WHERE user_identities.user_id = excluded.user_id`,
			u.AccountID, u.ID, u.Email, u.Verified, store.Micros(u.UpdatedAt), store.Micros(u.UpdatedAt))
		if err != nil {
			return fmt.Errorf("identity: save primary identity: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return errs.Invalidf("email", "DuplicateValue", "%s is already being used by another user", u.Email)
		}
	}
	return nil
}

// Get loads a user of the account.
func Get(ctx context.Context, q store.Queryer, acct ids.Account, id ids.User) (*User, error) {
	u, err := ScanUser(q.QueryRowContext(ctx, `SELECT `+UserCols+` FROM users WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("user %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: get user: %w", err)
	}
	return u, nil
}

// ByEmail finds the user owning an email identity (primary or secondary).
func ByEmail(ctx context.Context, q store.Queryer, acct ids.Account, email string) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := ScanUser(q.QueryRowContext(ctx, `SELECT `+uCols+` FROM users u JOIN user_identities i ON i.account_id = u.account_id AND i.user_id = u.id
		WHERE i.account_id = ? AND i.type = 'email' AND i.value = ?`, acct, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("no user with email %s", email)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: user by email: %w", err)
	}
	return u, nil
}

// ByExternalID finds a user by external ID, case-insensitively.
func ByExternalID(ctx context.Context, q store.Queryer, acct ids.Account, ext string) (*User, error) {
	u, err := ScanUser(q.QueryRowContext(ctx, `SELECT `+UserCols+` FROM users WHERE account_id = ? AND external_id_lower = ?`, acct, strings.ToLower(ext)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("no user with external id %s", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: user by external id: %w", err)
	}
	return u, nil
}

// GetMany loads the users with the given IDs (missing ones are skipped).
func GetMany(ctx context.Context, q store.Queryer, acct ids.Account, userIDs []ids.User) ([]*User, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(userIDs)+1)
	args = append(args, acct)
	for _, id := range userIDs {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+UserCols+` FROM users WHERE account_id = ? AND id IN (`+store.In(len(userIDs))+`) ORDER BY id`, args...)
	out, err := store.ScanAll(rows, err, ScanUser)
	if err != nil {
		return nil, fmt.Errorf("identity: get many users: %w", err)
	}
	return out, nil
}

// uCols is UserCols qualified by the alias u, built once: the token lookup of every API
// request names them.
var uCols = prefixed("u.")

func prefixed(p string) string {
	parts := strings.Split(UserCols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

type ctxKey struct{}

// NewContext returns ctx carrying the authenticated user.
func NewContext(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the authenticated user, or nil for an anonymous request.
func FromContext(ctx context.Context) *User {
	u, _ := ctx.Value(ctxKey{}).(*User)
	return u
}
