package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Limits on user text fields, in characters.
const (
	MaxName       = 255
	MaxExternalID = 255
	MaxPhone      = 50
	MaxShort      = 255 // alias, time zone
	MaxLocale     = 20
	MaxText       = 65535 // details, notes, signature
	MaxTag        = 255
	MaxTags       = 500
)

var localeRE = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// Validate checks a user's fields before Insert or Save. Field names in the error are
// the API's; the email must already be normalized (see NormalizeEmail).
func Validate(u *User) error {
	var v errs.Validation
	if strings.TrimSpace(u.Name) == "" {
		v.Blank("name")
	}
	checkLen(&v, "name", u.Name, MaxName)
	if !u.Role.Valid() {
		v.Bad("role", "must be one of end-user, agent, admin")
	}
	if u.Email != "" {
		if norm, ok := NormalizeEmail(u.Email); !ok || norm != u.Email {
			v.Bad("email", fmt.Sprintf("%q is not a valid email address", u.Email))
		}
	}
	switch u.TicketRestriction {
	case "", RestrictOrganization, RestrictGroups, RestrictAssigned, RestrictRequested:
	default:
		v.Bad("ticket_restriction", "must be one of organization, groups, assigned, requested, or null")
	}
	if u.Locale != "" && (!localeRE.MatchString(u.Locale) || len(u.Locale) > MaxLocale) {
		v.Bad("locale", "must be a language tag such as en-US")
	}
	checkLen(&v, "external_id", u.ExternalID, MaxExternalID)
	checkLen(&v, "phone", u.Phone, MaxPhone)
	checkLen(&v, "alias", u.Alias, MaxShort)
	checkLen(&v, "time_zone", u.TimeZone, MaxShort)
	checkLen(&v, "details", u.Details, MaxText)
	checkLen(&v, "notes", u.Notes, MaxText)
	checkLen(&v, "signature", u.Signature, MaxText)
	if len(u.Tags) > MaxTags {
		v.Add("tags", "TooLong", fmt.Sprintf("has too many tags (maximum is %d)", MaxTags))
	}
	for _, t := range u.Tags {
		if utf8.RuneCountInString(t) > MaxTag {
			v.Add("tags", "TooLong", fmt.Sprintf("has a tag longer than %d characters", MaxTag))
			break
		}
	}
	return v.Err()
}

func checkLen(v *errs.Validation, field, s string, max int) {
	if utf8.RuneCountInString(s) > max {
		v.Add(field, "TooLong", fmt.Sprintf("is too long (maximum is %d characters)", max))
	}
}

// Count returns how many users the account has, optionally only those of some roles.
func Count(ctx context.Context, q store.Queryer, acct ids.Account, roles []Role) (int, error) {
	query := `SELECT COUNT(*) FROM users WHERE account_id = ?`
	args := []any{acct}
	if len(roles) > 0 {
		query += ` AND role IN (` + store.In(len(roles)) + `)`
		for _, r := range roles {
			args = append(args, string(r))
		}
	}
	var n int
	if err := q.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("identity: count users: %w", err)
	}
	return n, nil
}

// SetPassword hashes and stores a new password for the user.
func SetPassword(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, pw string) error {
	h, err := HashPassword(pw)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE account_id = ? AND id = ?`, h, store.Micros(store.Now()), acct, user)
	if err != nil {
		return fmt.Errorf("identity: set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("user %d not found", user)
	}
	return nil
}

// Identity is one way of reaching a user; Tandem keeps email identities.
type Identity struct {
	ID        int64
	AccountID ids.Account
	UserID    ids.User
	Type      string
	Value     string
	Verified  bool
	Primary   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

const identityCols = `id, account_id, user_id, type, value, verified, is_primary, created_at, updated_at`

func scanIdentity(row interface{ Scan(...any) error }) (*Identity, error) {
	var i Identity
	var c, u int64
	if err := row.Scan(&i.ID, &i.AccountID, &i.UserID, &i.Type, &i.Value, &i.Verified, &i.Primary, &c, &u); err != nil {
		return nil, err
	}
	i.CreatedAt, i.UpdatedAt = store.Time(c), store.Time(u)
	return &i, nil
}

// Identities lists a user's identities, the primary first.
func Identities(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User) ([]*Identity, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+identityCols+` FROM user_identities WHERE account_id = ? AND user_id = ? ORDER BY is_primary DESC, id`, acct, user)
	out, err := store.ScanAll(rows, err, scanIdentity)
	if err != nil {
		return nil, fmt.Errorf("identity: list identities: %w", err)
	}
	return out, nil
}

// GetIdentity loads one identity of a user.
func GetIdentity(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User, id int64) (*Identity, error) {
	i, err := scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityCols+` FROM user_identities WHERE account_id = ? AND user_id = ? AND id = ?`, acct, user, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("identity %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: get identity: %w", err)
	}
	return i, nil
}

// AddIdentity adds an email identity to a user. A user without a primary email gets
// this one as primary. An address another user already has is a DuplicateValue.
func AddIdentity(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, typ, value string, verified bool) (*Identity, error) {
	if typ == "" {
		typ = "email"
	}
	if typ != "email" {
		return nil, errs.Invalidf("type", "InvalidValue", "only email identities are supported, not %q", typ)
	}
	email, ok := NormalizeEmail(value)
	if !ok {
		return nil, errs.Invalidf("value", "InvalidValue", "%q is not a valid email address", value)
	}
	u, err := Get(ctx, tx, acct, user)
	if err != nil {
		return nil, err
	}
	if u.Email == "" {
		u.Email, u.Verified = email, verified
		if err := Save(ctx, tx, u); err != nil {
			return nil, err
		}
		return identityByValue(ctx, tx, acct, email)
	}
	now := store.Micros(store.Now())
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO user_identities (account_id, user_id, type, value, verified, is_primary, created_at, updated_at) VALUES (?, ?, 'email', ?, ?, FALSE, ?, ?) RETURNING id`,
		acct, user, email, verified, now, now).Scan(&id)
	if store.IsUniqueViolation(err) {
		return nil, errs.Invalidf("value", "DuplicateValue", "%s is already being used by another user", email)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: add identity: %w", err)
	}
	return GetIdentity(ctx, tx, acct, user, id)
}

func identityByValue(ctx context.Context, q store.Queryer, acct ids.Account, email string) (*Identity, error) {
	i, err := scanIdentity(q.QueryRowContext(ctx, `SELECT `+identityCols+` FROM user_identities WHERE account_id = ? AND type = 'email' AND value = ?`, acct, email))
	if err != nil {
		return nil, fmt.Errorf("identity: identity by value: %w", err)
	}
	return i, nil
}

// DeleteIdentity removes a secondary identity; the primary one cannot be removed.
func DeleteIdentity(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, id int64) error {
	i, err := GetIdentity(ctx, tx, acct, user, id)
	if err != nil {
		return err
	}
	if i.Primary {
		return errs.Invalidf("identity", "InvalidValue", "the primary identity cannot be deleted; make another identity primary first")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_identities WHERE account_id = ? AND user_id = ? AND id = ?`, acct, user, id); err != nil {
		return fmt.Errorf("identity: delete identity: %w", err)
	}
	return nil
}

// MakePrimary makes an identity the user's primary email and returns the updated user.
func MakePrimary(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, id int64) (*User, error) {
	i, err := GetIdentity(ctx, tx, acct, user, id)
	if err != nil {
		return nil, err
	}
	u, err := Get(ctx, tx, acct, user)
	if err != nil {
		return nil, err
	}
	u.Email, u.Verified = i.Value, i.Verified
	if err := Save(ctx, tx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// VerifyIdentity marks an identity verified (and the user, when it is the primary one).
func VerifyIdentity(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, id int64) (*Identity, error) {
	i, err := GetIdentity(ctx, tx, acct, user, id)
	if err != nil {
		return nil, err
	}
	now := store.Micros(store.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE user_identities SET verified = TRUE, updated_at = ? WHERE account_id = ? AND id = ?`, now, acct, id); err != nil {
		return nil, fmt.Errorf("identity: verify identity: %w", err)
	}
	if i.Primary {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET verified = TRUE, updated_at = ? WHERE account_id = ? AND id = ?`, now, acct, user); err != nil {
			return nil, fmt.Errorf("identity: verify user: %w", err)
		}
	}
	return GetIdentity(ctx, tx, acct, user, id)
}

// IssueToken is CreateToken that also returns the token's record.
func IssueToken(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, description string) (*Token, string, error) {
	if utf8.RuneCountInString(description) > MaxShort {
		return nil, "", errs.Invalidf("description", "TooLong", "is too long (maximum is %d characters)", MaxShort)
	}
	tok := NewSecret()
	now := store.Micros(store.Now())
	t := &Token{UserID: user, Description: description, CreatedAt: now}
	err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (account_id, user_id, token_hash, kind, description, created_at) VALUES (?, ?, ?, 'api', ?, ?) RETURNING id`,
		acct, user, HashToken(tok), description, now).Scan(&t.ID)
	if err != nil {
		return nil, "", fmt.Errorf("identity: issue token: %w", err)
	}
	return t, tok, nil
}

// Tokens lists the account's API tokens (never their secrets), oldest first.
func Tokens(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, user_id, description, created_at FROM api_tokens WHERE account_id = ? AND kind = 'api' ORDER BY id`, acct)
	if err != nil {
		return nil, fmt.Errorf("identity: list tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Description, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// GetToken loads one API token of the account.
func GetToken(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Token, error) {
	var t Token
	err := q.QueryRowContext(ctx, `SELECT id, user_id, description, created_at FROM api_tokens WHERE account_id = ? AND kind = 'api' AND id = ?`, acct, id).
		Scan(&t.ID, &t.UserID, &t.Description, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("API token %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: get token: %w", err)
	}
	return &t, nil
}

// DeleteToken revokes an API token of the account.
func DeleteToken(ctx context.Context, tx *store.Tx, acct ids.Account, id int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE account_id = ? AND kind = 'api' AND id = ?`, acct, id)
	if err != nil {
		return fmt.Errorf("identity: delete token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("API token %d not found", id)
	}
	return nil
}
