// Package signup gives end users a password by email: sign-up on the help center
// (which proves the address), "Forgot password", and the welcome mail of a user an agent
// created. Each mails a single-use link that expires (table password_links, only a hash
// of the token kept); following it sets the password through the people service and
// marks the address verified. Requests are rate-limited per address and per client, and
// the answer never says whether an address has an account.
package signup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/limit"
	"tandem/internal/mail/send"
	"tandem/internal/people"
	"tandem/internal/store"
)

// Link lifetimes: a reset link is for now; a welcome or sign-up link may wait in an
// inbox for a while.
const (
	resetFor   = time.Hour
	welcomeFor = 7 * 24 * time.Hour
)

// Limits: links asked for one address, and asks from one client, per hour.
const (
	perAddress = 3
	perClient  = 20
	window     = time.Hour
)

// Purposes of a link.
const (
	Reset   = "reset"
	SignUp  = "signup"
	Welcome = "welcome"
)

// Service mails password links and redeems them.
type Service struct {
	db     *store.DB
	mail   *send.Service
	limits limit.Counter
	log    *slog.Logger
	// accountURL is an account's canonical base URL (never the request's Host, which a
	// client chooses).
	accountURL func(subdomain string) string
}

// New returns the service.
func New(db *store.DB, mail *send.Service, limits limit.Counter, accountURL func(string) string, log *slog.Logger) *Service {
	return &Service{db: db, mail: mail, limits: limits, accountURL: accountURL, log: log}
}

// allowed counts one ask against the address's and the client's limits.
func (s *Service) allowed(ctx context.Context, acct *account.Account, email string, client string) bool {
	n, _, err := s.limits.Hit(ctx, fmt.Sprintf("pwlink:addr:%d:%s", acct.ID, email), window)
	if err != nil || n > perAddress {
		return false
	}
	n, _, err = s.limits.Hit(ctx, fmt.Sprintf("pwlink:client:%d:%s", acct.ID, client), window)
	return err == nil && n <= perClient
}

// ForgotPassword mails a reset link to the user with that address, if there is one who
// may sign in. It answers nothing either way: the caller shows the same page.
func (s *Service) ForgotPassword(ctx context.Context, acct *account.Account, email string, client string) error {
	email, ok := identity.NormalizeEmail(email)
	if !ok || !s.allowed(ctx, acct, email, client) {
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		u, err := identity.ByEmail(ctx, tx, acct.ID, email)
		if errs.Is(err, errs.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !u.Active || u.Suspended {
			return nil
		}
		return s.send(ctx, tx, acct, u, email, Reset)
	})
}

// SignUp creates an end user for a new address (unverified, without a password) and
// mails a link that verifies it and sets the password; an address that has an account
// gets a reset link instead. The caller shows the same page either way.
func (s *Service) SignUp(ctx context.Context, acct *account.Account, name, email string, client string) error {
	norm, ok := identity.NormalizeEmail(email)
	if !ok {
		return errs.Invalidf("email", "InvalidValue", "is not an email address")
	}
	if !s.allowed(ctx, acct, norm, client) {
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		u, err := identity.ByEmail(ctx, tx, acct.ID, norm)
		switch {
		case err == nil:
			if !u.Active || u.Suspended {
				return nil
			}
			return s.send(ctx, tx, acct, u, norm, Reset)
		case !errs.Is(err, errs.NotFound):
			return err
		}
		name = strings.TrimSpace(name)
		if name == "" {
			name = norm[:strings.IndexByte(norm, '@')]
		}
		res, err := people.WriteUser(ctx, tx, acct, people.System, &people.UserChange{User: &identity.User{Name: name, Email: norm, Role: identity.EndUser}})
		if err != nil {
			return err
		}
		return s.send(ctx, tx, acct, res.User, norm, SignUp)
	})
}

// SendWelcome mails a new user (created by an agent, in tx) a link to set a password.
func (s *Service) SendWelcome(ctx context.Context, tx *store.Tx, acct *account.Account, u *identity.User) error {
	if u.Email == "" || !u.Active || u.Suspended {
		return nil
	}
	return s.send(ctx, tx, acct, u, u.Email, Welcome)
}

func (s *Service) send(ctx context.Context, tx *store.Tx, acct *account.Account, u *identity.User, to, purpose string) error {
	token := strings.ToLower(rand.Text()) + strings.ToLower(rand.Text())
	life := welcomeFor
	if purpose == Reset {
		life = resetFor
	}
	now := store.Now()
	_, err := tx.ExecContext(ctx, `INSERT INTO password_links (account_id, user_id, token_hash, purpose, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		acct.ID, u.ID, hash(token), purpose, store.Micros(now.Add(life)), store.Micros(now))
	if err != nil {
		return fmt.Errorf("signup: link: %w", err)
	}
	link := s.accountURL(acct.Subdomain) + "/password/set?token=" + token
	var subject, text string
	switch purpose {
	case Reset:
		subject = "Reset your " + acct.Name + " password"
		text = "Hello " + u.Name + ",\n\nSomeone (we hope you) asked to reset the password of your " + acct.Name + " help center account. Choose a new password here (the link works once, for an hour):\n\n" + link + "\n\nIf it was not you, ignore this mail: your password stays as it is."
	case SignUp:
		subject = "Confirm your " + acct.Name + " help center account"
		text = "Hello " + u.Name + ",\n\nConfirm your address and choose a password for the " + acct.Name + " help center here (the link works once, for a week):\n\n" + link + "\n\nIf you did not sign up, ignore this mail."
	default:
		subject = "Welcome to the " + acct.Name + " help center"
		text = "Hello " + u.Name + ",\n\nAn account was created for you at the " + acct.Name + " help center, where you can follow your requests. Choose a password here (the link works once, for a week):\n\n" + link
	}
	return s.mail.Queue(ctx, tx, acct, send.Outgoing{Kind: purpose, ToName: u.Name, To: to, Subject: subject, Text: text})
}

func hash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// ErrLink is the answer to a link that is unknown, used or expired.
var ErrLink = errs.Invalidf("token", "InvalidValue", "This link is not valid any more: it was used or it expired. Ask for a new one.")

// Check reports whether a link can still be used (to show its form).
func (s *Service) Check(ctx context.Context, acct *account.Account, token string) error {
	var id int64
	err := s.db.R().QueryRowContext(ctx, `SELECT id FROM password_links WHERE account_id = ? AND token_hash = ? AND used_at = 0 AND expires_at > ?`,
		acct.ID, hash(token), store.Micros(store.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrLink
	}
	return err
}

// SetPassword redeems a link: sets the user's password through the people service,
// marks the address verified and uses the link up. It returns the user, to sign in.
func (s *Service) SetPassword(ctx context.Context, acct *account.Account, token, password string) (*identity.User, error) {
	var u *identity.User
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var id, uid int64
		err := tx.QueryRowContext(ctx, `SELECT id, user_id FROM password_links WHERE account_id = ? AND token_hash = ? AND used_at = 0 AND expires_at > ?`,
			acct.ID, hash(token), store.Micros(store.Now())).Scan(&id, &uid)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLink
		}
		if err != nil {
			return err
		}
		before, err := identity.Get(ctx, tx, acct.ID, ids.User(uid))
		if err != nil {
			return err
		}
		after := *before
		after.Verified = true
		res, err := people.WriteUser(ctx, tx, acct, people.System, &people.UserChange{Before: before, User: &after, Password: password})
		if err != nil {
			return err
		}
		u = res.User
		// Used up, with every other link of the user: one password set ends them all.
		_, err = tx.ExecContext(ctx, `UPDATE password_links SET used_at = ? WHERE account_id = ? AND user_id = ? AND used_at = 0`, store.Micros(store.Now()), acct.ID, uid)
		return err
	})
	return u, err
}
