package mailin

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/mailthread"
	"tandem/internal/org"
	"tandem/internal/store"
)

// Forwarding statuses of a support address (Zendesk's forwarding_status).
const (
	ForwardUnknown  = "unknown"
	ForwardWaiting  = "waiting"
	ForwardVerified = "verified"
	ForwardFailed   = "failed"
)

// MaxAddresses is how many support addresses one account may have (Zendesk's figure).
const MaxAddresses = 3000

// Address is a support address of an account.
type Address struct {
	ID               int64
	AccountID        ids.Account
	Email            string
	Name             string // the From name of mail sent from it
	GroupID          ids.Group
	Default          bool
	ForwardingStatus string
	VerifyToken      string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const addrCols = `id, account_id, email, name, group_id, is_default, forwarding_status, verify_token, created_at, updated_at`

func scanAddress(sc interface{ Scan(...any) error }) (*Address, error) {
	var a Address
	var grp sql.NullInt64
	var c, u int64
	if err := sc.Scan(&a.ID, &a.AccountID, &a.Email, &a.Name, &grp, &a.Default, &a.ForwardingStatus, &a.VerifyToken, &c, &u); err != nil {
		return nil, err
	}
	a.GroupID = ids.Group(grp.Int64)
	a.CreatedAt, a.UpdatedAt = store.Time(c), store.Time(u)
	return &a, nil
}

// CreateDefaultAddress gives a new account its default support address, in the
// account's creating transaction.
func CreateDefaultAddress(ctx context.Context, tx *store.Tx, acct ids.Account, email string) error {
	now := micros(store.Now())
	_, err := tx.ExecContext(ctx, `INSERT INTO recipient_addresses (account_id, email, name, is_default, forwarding_status, created_at, updated_at)
		VALUES (?, ?, '', TRUE, ?, ?, ?)`, acct, strings.ToLower(email), ForwardVerified, now, now)
	if store.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "the support address %s is already in use", email)
	}
	return err
}

// ensureDefault creates the default address of an account made before support
// addresses existed (the lazy backfill). Safe to call again.
func (s *Service) ensureDefault(ctx context.Context, acct *account.Account) error {
	if s.cfg.SupportAddress == nil {
		return nil
	}
	var n int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM recipient_addresses WHERE account_id = ? AND is_default`, acct.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(s.routes.forget)
		if err := tx.Lock(ctx, fmt.Sprintf("recipient-default:%d", acct.ID)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recipient_addresses WHERE account_id = ? AND is_default`, acct.ID).Scan(&n); err != nil || n > 0 {
			return err
		}
		return CreateDefaultAddress(ctx, tx, acct.ID, s.cfg.SupportAddress(acct.Subdomain))
	})
}

// Addresses lists an account's support addresses, the default first.
func (s *Service) Addresses(ctx context.Context, acct *account.Account) ([]*Address, error) {
	if err := s.ensureDefault(ctx, acct); err != nil {
		return nil, fmt.Errorf("mailin: default address: %w", err)
	}
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+addrCols+` FROM recipient_addresses WHERE account_id = ? ORDER BY is_default DESC, id`, acct.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Address
	for rows.Next() {
		a, err := scanAddress(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Address returns one support address of the account.
func (s *Service) Address(ctx context.Context, acct *account.Account, id int64) (*Address, error) {
	if err := s.ensureDefault(ctx, acct); err != nil {
		return nil, err
	}
	return getAddress(ctx, s.db.R(), acct.ID, id)
}

func getAddress(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Address, error) {
	a, err := scanAddress(q.QueryRowContext(ctx, `SELECT `+addrCols+` FROM recipient_addresses WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("support address %d not found", id)
	}
	return a, err
}

// AddressInput is what an admin sets on a support address.
type AddressInput struct {
	Email   *string
	Name    *string
	GroupID *ids.Group
	Default *bool
}

// CreateAddress adds a support address and starts its forwarding verification.
func (s *Service) CreateAddress(ctx context.Context, acct *account.Account, in AddressInput) (*Address, error) {
	if err := s.ensureDefault(ctx, acct); err != nil {
		return nil, err
	}
	if in.Email == nil {
		return nil, errs.Invalidf("email", "BlankValue", "cannot be blank")
	}
	email, ok := identity.NormalizeEmail(*in.Email)
	if !ok {
		return nil, errs.Invalidf("email", "InvalidValue", "%q is not a valid email address", *in.Email)
	}
	if strings.Contains(email[:strings.IndexByte(email, '@')], "+") {
		return nil, errs.Invalidf("email", "InvalidValue", "a support address cannot contain +")
	}
	var out *Address
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(s.routes.forget)
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recipient_addresses WHERE account_id = ?`, acct.ID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxAddresses {
			return errs.Invalidf("email", "InvalidValue", "an account can have at most %d support addresses", MaxAddresses)
		}
		now := micros(store.Now())
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO recipient_addresses (account_id, email, name, forwarding_status, verify_token, created_at, updated_at)
			VALUES (?, ?, '', ?, ?, ?, ?) RETURNING id`, acct.ID, email, ForwardWaiting, newVerifyToken(), now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return errs.Invalidf("email", "DuplicateValue", "%s is already a support address", email)
		}
		if err != nil {
			return err
		}
		if err := s.applyAddress(ctx, tx, acct, id, in); err != nil {
			return err
		}
		a, err := getAddress(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.sendVerification(ctx, acct, out)
	return out, nil
}

// UpdateAddress changes an address's name, default group or default flag. Its email
// does not change (Zendesk's rule): add a new address instead.
func (s *Service) UpdateAddress(ctx context.Context, acct *account.Account, id int64, in AddressInput) (*Address, error) {
	if err := s.ensureDefault(ctx, acct); err != nil {
		return nil, err
	}
	var out *Address
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(s.routes.forget)
		a, err := getAddress(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		if in.Email != nil && !strings.EqualFold(strings.TrimSpace(*in.Email), a.Email) {
			return errs.Invalidf("email", "InvalidValue", "the email of a support address cannot be changed")
		}
		if err := s.applyAddress(ctx, tx, acct, id, in); err != nil {
			return err
		}
		out, err = getAddress(ctx, tx, acct.ID, id)
		return err
	})
	return out, err
}

func (s *Service) applyAddress(ctx context.Context, tx *store.Tx, acct *account.Account, id int64, in AddressInput) error {
	now := micros(store.Now())
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		if len(name) > 255 || strings.ContainsAny(name, "\r\n<>\"") {
			return errs.Invalidf("name", "InvalidValue", "must be at most 255 characters, without line breaks, <, > or \"")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recipient_addresses SET name = ?, updated_at = ? WHERE account_id = ? AND id = ?`, name, now, acct.ID, id); err != nil {
			return err
		}
	}
	if in.GroupID != nil {
		var grp any
		if *in.GroupID != 0 {
			if g, err := org.GetGroup(ctx, tx, acct.ID, *in.GroupID); err != nil || g.Deleted {
				return errs.Invalidf("group_id", "InvalidValue", "group %d does not exist", *in.GroupID)
			}
			grp = int64(*in.GroupID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recipient_addresses SET group_id = ?, updated_at = ? WHERE account_id = ? AND id = ?`, grp, now, acct.ID, id); err != nil {
			return err
		}
	}
	if in.Default != nil {
		if !*in.Default {
			var isDef bool
			if err := tx.QueryRowContext(ctx, `SELECT is_default FROM recipient_addresses WHERE account_id = ? AND id = ?`, acct.ID, id).Scan(&isDef); err != nil {
				return err
			}
			if isDef {
				return errs.Invalidf("default", "InvalidValue", "make another address the default instead")
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recipient_addresses SET is_default = (id = ?), updated_at = ? WHERE account_id = ?`, id, now, acct.ID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAddress removes a support address; the default one cannot be removed.
func (s *Service) DeleteAddress(ctx context.Context, acct *account.Account, id int64) error {
	if err := s.ensureDefault(ctx, acct); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(s.routes.forget)
		a, err := getAddress(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		if a.Default {
			return errs.Invalidf("default", "InvalidValue", "the default support address cannot be deleted")
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM recipient_addresses WHERE account_id = ? AND id = ?`, acct.ID, id)
		return err
	})
}

// VerifyAddress starts the forwarding verification again: a new token, status waiting.
func (s *Service) VerifyAddress(ctx context.Context, acct *account.Account, id int64) (*Address, error) {
	var out *Address
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(s.routes.forget)
		a, err := getAddress(ctx, tx, acct.ID, id)
		if err != nil {
			return err
		}
		if a.Default {
			out = a // the default address is Tandem's own: nothing to verify
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE recipient_addresses SET forwarding_status = ?, verify_token = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
			ForwardWaiting, newVerifyToken(), micros(store.Now()), acct.ID, id); err != nil {
			return err
		}
		out, err = getAddress(ctx, tx, acct.ID, id)
		return err
	})
	if err == nil && !out.Default {
		s.sendVerification(ctx, acct, out)
	}
	return out, err
}

// verifyPrefix starts every verification token as it appears in the message.
const verifyPrefix = "tandem-verify-"

func newVerifyToken() string { return verifyPrefix + strings.ToLower(rand.Text()) }

// VerificationText is the text of the verification message for an address: it must
// come back through the inbound path (the address forwarding to the account's default
// support address) for the address to be marked verified.
func VerificationText(a *Address) string {
	return "This message checks that mail sent to " + a.Email + " reaches Tandem.\n\nVerification code: " + a.VerifyToken + "\n"
}

// sendVerification is the one place a verification message is sent from: it is queued
// on outbound mail's durable queue (Config.SendVerification), or only logged when the
// server has none. Forwarding is verified once any message containing the token
// arrives through the inbound path.
func (s *Service) sendVerification(ctx context.Context, acct *account.Account, a *Address) {
	if s.cfg.SendVerification == nil {
		s.log.InfoContext(ctx, "support address verification to send", "account", acct.Subdomain, "address", a.Email, "token", a.VerifyToken)
		return
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(s.routes.forget)
		return s.cfg.SendVerification(ctx, tx, acct, a.Email, "Verify your support address "+a.Email, VerificationText(a))
	})
	if err != nil {
		s.log.ErrorContext(ctx, "mailin: queue the verification message", "account", acct.Subdomain, "address", a.Email, "err", err)
	}
}

// DefaultAddress reads the account's default support address and its From name, in q
// (a read or the caller's transaction); ok is false when the account has none yet.
func DefaultAddress(ctx context.Context, q store.Queryer, acct ids.Account) (email, name string, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT email, name FROM recipient_addresses WHERE account_id = ? AND is_default`, acct).Scan(&email, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	return email, name, true, nil
}

// verifyFromMessage marks verified every waiting address of the account whose token the
// message carries; it reports whether it found one (the message is then consumed).
func verifyFromMessage(ctx context.Context, tx *store.Tx, acct ids.Account, text string) (bool, error) {
	if !strings.Contains(text, verifyPrefix) {
		return false, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, verify_token FROM recipient_addresses WHERE account_id = ? AND forwarding_status = ?`, acct, ForwardWaiting)
	if err != nil {
		return false, err
	}
	var hit []int64
	for rows.Next() {
		var id int64
		var tok string
		if err := rows.Scan(&id, &tok); err != nil {
			rows.Close()
			return false, err
		}
		if tok != "" && strings.Contains(text, tok) {
			hit = append(hit, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, id := range hit {
		if _, err := tx.ExecContext(ctx, `UPDATE recipient_addresses SET forwarding_status = ?, verify_token = '', updated_at = ? WHERE account_id = ? AND id = ?`,
			ForwardVerified, micros(store.Now()), acct, id); err != nil {
			return false, err
		}
	}
	return len(hit) > 0, nil
}

// route is where a recipient address delivers: an account, the support address, and
// the reply token of its plus-address form if any; or, for a VERP bounce address
// (bounces+TOKEN@…), the account and that address (addr nil).
type route struct {
	acct  *account.Account
	addr  *Address
	token string
	verp  string
}

// resolve finds the account a recipient belongs to: a support address, or its
// plus-address form support+tkt-TOKEN@... An account's default address that has no row
// yet (an account older than support addresses) is recognised by its shape and created.
func (s *Service) resolve(ctx context.Context, rcpt string) (*route, error) {
	addr, ok := identity.NormalizeEmail(strings.Trim(strings.TrimSpace(rcpt), "<>"))
	if !ok {
		return nil, nil
	}
	at := strings.IndexByte(addr, '@')
	local, domain := addr[:at], addr[at:]
	if tok, ok := strings.CutPrefix(local, bounceLocal); ok {
		return s.resolveBounce(ctx, addr, tok, domain[1:])
	}
	token := ""
	if i := strings.IndexByte(local, '+'); i >= 0 {
		toks := mailthread.TokensIn(local[i+1:])
		if len(toks) != 1 || local[i+1:] != "tkt-"+toks[0] {
			return nil, nil
		}
		token, local = toks[0], local[:i]
	}
	base := local + domain
	if acct, a, ok := s.routes.route(base); ok {
		return &route{acct: acct, addr: a, token: token}, nil
	}
	a, err := scanAddress(s.db.R().QueryRowContext(ctx, `SELECT `+addrCols+` FROM recipient_addresses WHERE email = ?`, base))
	if errors.Is(err, sql.ErrNoRows) {
		a, err = s.defaultByShape(ctx, base)
	}
	if err != nil || a == nil {
		return nil, err
	}
	acct, err := s.account(ctx, a.AccountID)
	if err != nil {
		return nil, err
	}
	s.routes.putRoute(base, acct, a)
	return &route{acct: acct, addr: a, token: token}, nil
}

// bounceLocal is the local part's prefix of the envelope senders outgoing mail
// carries (send.BouncePrefix): bounces+TOKEN@{sub}.{mail domain}.
const bounceLocal = "bounces+"

// resolveBounce routes a VERP bounce address to the account whose default support
// address has its domain. Any well-formed token is taken (a report to a token that
// names no mail is suspended, visible to the agents); an unknown account is not.
func (s *Service) resolveBounce(ctx context.Context, addr, token, domain string) (*route, error) {
	if !validVERPToken(token) || s.cfg.SupportAddress == nil || s.cfg.MailDomain == "" {
		return nil, nil
	}
	sub, ok := strings.CutSuffix(domain, "."+s.cfg.MailDomain)
	if !ok || !account.ValidSubdomain(sub) || !strings.HasSuffix(s.cfg.SupportAddress(sub), "@"+domain) {
		return nil, nil
	}
	acct, err := s.accounts.BySubdomain(ctx, sub)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &route{acct: acct, verp: addr}, nil
}

// validVERPToken: lower-case base32 (crypto/rand.Text's alphabet), 26 characters.
func validVERPToken(t string) bool {
	if len(t) != 26 {
		return false
	}
	for _, c := range t {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// verpToken returns the token of the bounce address among an inbox row's recipients
// ("" when the message was not sent to one).
func verpToken(rcpt string) string {
	for _, r := range strings.Fields(rcpt) {
		if tok, ok := strings.CutPrefix(r, bounceLocal); ok {
			tok, _, _ = strings.Cut(tok, "@")
			return tok
		}
	}
	return ""
}

// defaultByShape creates, for an address of the form support@{sub}.{mail domain} whose
// account has no default address yet, that default, and returns it (nil if none).
func (s *Service) defaultByShape(ctx context.Context, addr string) (*Address, error) {
	if s.cfg.SupportAddress == nil || s.cfg.MailDomain == "" {
		return nil, nil
	}
	rest, ok := strings.CutSuffix(addr, "."+s.cfg.MailDomain)
	if !ok {
		return nil, nil
	}
	_, sub, ok := strings.Cut(rest, "@")
	if !ok || !account.ValidSubdomain(sub) || s.cfg.SupportAddress(sub) != addr {
		return nil, nil
	}
	acct, err := s.accounts.BySubdomain(ctx, sub)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.ensureDefault(ctx, acct); err != nil {
		return nil, err
	}
	a, err := scanAddress(s.db.R().QueryRowContext(ctx, `SELECT `+addrCols+` FROM recipient_addresses WHERE email = ?`, addr))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // the account's default is another address now
	}
	return a, err
}

// isSupportAddress reports whether email is a support address of any account, or has
// the shape of an account's default one (mail from one is never taken: it would be
// Tandem answering itself).
func (s *Service) isSupportAddress(ctx context.Context, q store.Queryer, email string) (bool, error) {
	if v, ok := s.routes.isSupport(email); ok {
		return v, nil
	}
	v, err := s.lookupSupportAddress(ctx, q, email)
	if err == nil {
		s.routes.putSupport(email, v)
	}
	return v, err
}

func (s *Service) lookupSupportAddress(ctx context.Context, q store.Queryer, email string) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM recipient_addresses WHERE email = ?`, email).Scan(&n); err != nil || n > 0 {
		return n > 0, err
	}
	if s.cfg.MailDomain == "" || s.cfg.SupportAddress == nil {
		return false, nil
	}
	rest, ok := strings.CutSuffix(email, "."+s.cfg.MailDomain)
	if !ok {
		return false, nil
	}
	_, sub, ok := strings.Cut(rest, "@")
	if !ok || !account.ValidSubdomain(sub) || s.cfg.SupportAddress(sub) != email {
		return false, nil
	}
	_, err := s.accounts.BySubdomain(ctx, sub)
	if errs.Is(err, errs.NotFound) {
		return false, nil
	}
	return err == nil, err
}
