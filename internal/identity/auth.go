package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// testCost makes new hashes cheap (see UseTestCost).
var testCost atomic.Bool

// UseTestCost makes the passwords this process hashes from now on cheap to hash and to
// check (argon2id at 64 KiB and one pass), for test binaries only: a test suite sets
// hundreds of passwords, and at OWASP's cost under the race detector each takes a third
// of a second. Checking a password reads the cost from its stored hash, so hashes of
// either cost keep working. Nothing outside tests calls it (testkit does).
func UseTestCost() { testCost.Store(true) }

// HashPassword returns a PHC-style argon2id hash of the password.
func HashPassword(pw string) (string, error) {
	if len(pw) < 8 {
		return "", errs.Invalidf("password", "TooShort", "must be at least 8 characters")
	}
	if len(pw) > 1024 {
		return "", errs.Invalidf("password", "TooLong", "must be at most 1024 characters")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	t, m := uint32(argonTime), uint32(argonMemory)
	if testCost.Load() {
		t, m = 1, 64
	}
	key := argon2.IDKey([]byte(pw), salt, t, m, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether pw matches the stored hash (slow: argon2id; the Guard
// bounds how many run at once).
func checkPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewSecret returns a random URL-safe secret of 32 bytes (43 characters).
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the stored form of an API token or session secret.
func HashToken(tok string) string {
	s := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(s[:])
}

// CreateToken issues a new API token for a user and returns the secret (shown once).
func CreateToken(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User, description string) (string, error) {
	tok := NewSecret()
	_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (account_id, user_id, token_hash, kind, description, created_at) VALUES (?, ?, ?, 'api', ?, ?)`,
		acct, user, HashToken(tok), description, store.Micros(store.Now()))
	if err != nil {
		return "", fmt.Errorf("identity: create token: %w", err)
	}
	return tok, nil
}

// Token describes an issued API token (never its secret).
type Token struct {
	ID          int64
	UserID      ids.User
	Description string
	CreatedAt   int64
}

// ErrAuth is returned for any authentication failure; the cause is never told to clients.
var ErrAuth = &errs.Error{Code: errs.Unauthorized, Message: "Couldn't authenticate you"}

// ByToken returns the active, unsuspended user owning the API token in the account.
//
// The hash is compared as CAST(? AS TEXT), which is the same comparison: SQLite's planner
// (built with STAT4) otherwise plans with the bound value, and a plan that depends on a
// text parameter is thrown away and the statement parsed again at every execution
// (about 60 % of the lookup's time, measured in issue 16's profile of creates).
func ByToken(ctx context.Context, q store.Queryer, acct ids.Account, email, tok string) (*User, error) {
	u, err := ScanUser(q.QueryRowContext(ctx, `SELECT `+uCols+` FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.account_id = t.account_id
		WHERE t.token_hash = CAST(? AS TEXT) AND t.account_id = ?`, HashToken(tok), acct))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrAuth
	}
	if err != nil {
		return nil, fmt.Errorf("identity: token lookup: %w", err)
	}
	if email != "" && !strings.EqualFold(email, u.Email) {
		// The email must name the token's owner: a token can't be used as someone else.
		if other, err := ByEmail(ctx, q, acct, email); err != nil || other.ID != u.ID {
			return nil, ErrAuth
		}
	}
	if !u.Active || u.Suspended {
		return nil, ErrAuth
	}
	return u, nil
}

// byPassword returns the user whose email and password match (slow: argon2id). Only the
// Guard calls it, so that every password check is limited.
func byPassword(ctx context.Context, q store.Queryer, acct ids.Account, email, pw string) (*User, error) {
	u, err := ByEmail(ctx, q, acct, email)
	if err != nil {
		// Spend the same time as a real check so emails can't be probed by timing.
		checkPassword(dummyHash, pw)
		return nil, ErrAuth
	}
	if u.PasswordHash == "" || !checkPassword(u.PasswordHash, pw) || !u.Active || u.Suspended {
		return nil, ErrAuth
	}
	return u, nil
}

var dummyHash = func() string {
	h, _ := HashPassword("not-a-real-password")
	return h
}()

// EndSessions deletes every web session of the user, signing them out everywhere.
func EndSessions(ctx context.Context, tx *store.Tx, acct ids.Account, user ids.User) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND user_id = ?`, acct, user); err != nil {
		return fmt.Errorf("identity: end sessions: %w", err)
	}
	return nil
}
