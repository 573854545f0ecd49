package mailin

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/secretbox"
	"tandem/internal/store"
)

// IMAP polling, for teams whose mail provider cannot forward to Tandem: an admin names
// a mailbox (imaps://user:password@host:993/INBOX) and the support address its mail is
// for; the poller reads new messages (BODY.PEEK: the mailbox is opened read-only and no
// flag changes) into the same inbox table as the SMTP listener, so the same worker
// makes them tickets. The server's UIDVALIDITY and the last UID taken are remembered
// with each message, in the transaction that stores it, so nothing is read twice; when
// the server's UIDVALIDITY changes (the mailbox was recreated) every message is read
// again, and the inbox's Message-ID check keeps the ones already taken from becoming
// tickets twice.

// Mailbox is an IMAP mailbox polled for an account.
type Mailbox struct {
	ID        int64
	AccountID ids.Account
	// Address is the support address its mail is for.
	Address string
	// URL is imap:// or imaps:// with the user name, host, port and folder; the
	// password is kept apart and never shown.
	URL string
	// TLSCA is a PEM bundle of CA certificates trusted for this mailbox's server
	// besides the system's ("" = the system's only): for a server whose certificate a
	// private CA signed. Certificates are always verified.
	TLSCA string
	// password is sealed with the server key (secretbox) in the database.
	password    string
	UIDValidity uint32
	LastUID     uint32
	LastError   string
	PolledAt    time.Time
	CreatedAt   time.Time
}

// MailboxInput is what an admin gives to poll a mailbox.
type MailboxInput struct {
	Address string
	// URL is imaps://USER:PASSWORD@HOST[:993][/FOLDER] (implicit TLS) or
	// imap://USER:PASSWORD@HOST[:143][/FOLDER] (STARTTLS when the server offers it;
	// required unless the host is loopback).
	URL string
	// TLSCA is an optional PEM bundle of CA certificates to trust for this server.
	TLSCA string
}

const mailboxCols = `id, account_id, address, url, password, tls_ca, uidvalidity, last_uid, last_error, polled_at, created_at`

func scanMailbox(row interface{ Scan(...any) error }) (*Mailbox, error) {
	var m Mailbox
	var polled, created int64
	var validity, last int64
	if err := row.Scan(&m.ID, &m.AccountID, &m.Address, &m.URL, &m.password, &m.TLSCA, &validity, &last, &m.LastError, &polled, &created); err != nil {
		return nil, err
	}
	m.UIDValidity, m.LastUID = uint32(validity), uint32(last)
	if polled != 0 {
		m.PolledAt = time.UnixMicro(polled).UTC()
	}
	m.CreatedAt = time.UnixMicro(created).UTC()
	return &m, nil
}

// parseMailboxURL checks an IMAP URL and splits out its password.
func parseMailboxURL(raw string) (clean, password string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "imap" && u.Scheme != "imaps") || u.Hostname() == "" || u.User == nil || u.User.Username() == "" {
		return "", "", errs.Invalidf("url", "InvalidValue", "url must be imaps://USER:PASSWORD@HOST[:PORT][/FOLDER] or imap://...")
	}
	password, _ = u.User.Password()
	u.User = url.User(u.User.Username())
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/INBOX"
	}
	return u.String(), password, nil
}

// CreateMailbox starts polling a mailbox for one of the account's support addresses.
func (s *Service) CreateMailbox(ctx context.Context, a *account.Account, in MailboxInput) (*Mailbox, error) {
	clean, password, err := parseMailboxURL(in.URL)
	if err != nil {
		return nil, err
	}
	ca := strings.TrimSpace(in.TLSCA)
	if ca != "" {
		if _, err := caPool(nil, ca); err != nil {
			return nil, err
		}
	}
	if password != "" && !s.cfg.Secrets.Ready() {
		return nil, errs.Invalidf("imap_url", "InvalidValue", "this server has no secret key to encrypt the mailbox password with (--secret-key-file)")
	}
	if err := s.ensureDefault(ctx, a); err != nil {
		return nil, err
	}
	acct := a.ID
	addr, ok := identity.NormalizeEmail(in.Address)
	if !ok {
		return nil, errs.Invalidf("address", "InvalidValue", "address must be one of the account's support addresses")
	}
	var out *Mailbox
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM recipient_addresses WHERE account_id = ? AND email = ?`, acct, addr).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return errs.Invalidf("address", "InvalidValue", "address must be one of the account's support addresses")
		}
		sealed, err := s.cfg.Secrets.Seal(password, passwordContext(acct))
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO imap_mailboxes (account_id, address, url, password, tls_ca, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			acct, addr, clean, sealed, ca, micros(store.Now())).Scan(&id); err != nil {
			return err
		}
		out, err = scanMailbox(tx.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM imap_mailboxes WHERE account_id = ? AND id = ?`, acct, id))
		return err
	})
	if err == nil {
		s.pollNow()
	}
	return out, err
}

// Mailboxes lists the account's polled mailboxes.
func (s *Service) Mailboxes(ctx context.Context, acct ids.Account) ([]*Mailbox, error) {
	return s.mailboxes(ctx, `SELECT `+mailboxCols+` FROM imap_mailboxes WHERE account_id = ? ORDER BY id`, acct)
}

func (s *Service) mailboxes(ctx context.Context, q string, args ...any) ([]*Mailbox, error) {
	rows, err := s.db.R().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("mailin: mailboxes: %w", err)
	}
	defer rows.Close()
	var out []*Mailbox
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Mailbox reads one of the account's polled mailboxes.
func (s *Service) Mailbox(ctx context.Context, acct ids.Account, id int64) (*Mailbox, error) {
	m, err := scanMailbox(s.db.R().QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM imap_mailboxes WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("mailbox %d not found", id)
	}
	return m, err
}

// DeleteMailbox stops polling a mailbox.
func (s *Service) DeleteMailbox(ctx context.Context, acct ids.Account, id int64) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM imap_mailboxes WHERE account_id = ? AND id = ?`, acct, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("mailbox %d not found", id)
		}
		return nil
	})
}

// pollNow wakes the poller without blocking.
func (s *Service) pollNow() {
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// RunIMAP polls every mailbox each interval (and at once when one is added) until ctx
// ends (a server worker).
func (s *Service) RunIMAP(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.PollAll(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("imap: poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.pollWake:
		}
	}
}

// imapLease keeps one process polling a mailbox at a time (PostgreSQL, several
// processes); a process that died lets go after it.
const imapLease = 5 * time.Minute

// PollAll polls every account's mailboxes once, each under a lease.
func (s *Service) PollAll(ctx context.Context) error {
	if err := s.sealPasswords(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("imap: encrypt stored passwords", "err", err)
	}
	list, err := s.mailboxes(ctx, `SELECT `+mailboxCols+` FROM imap_mailboxes ORDER BY id`)
	if err != nil {
		return err
	}
	for _, m := range list {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var took bool
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			now := store.Now()
			res, err := tx.ExecContext(ctx, `UPDATE imap_mailboxes SET lease_until = ? WHERE id = ? AND lease_until < ?`, micros(now.Add(imapLease)), m.ID, micros(now))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			took = n == 1
			return nil
		})
		if err != nil || !took {
			continue
		}
		perr := s.poll(ctx, m)
		msg := ""
		if perr != nil {
			msg = perr.Error()
			s.log.Warn("imap: poll mailbox", "account", m.AccountID, "mailbox", m.URL, "err", perr)
		}
		err = s.db.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE imap_mailboxes SET lease_until = 0, polled_at = ?, last_error = CASE WHEN ? = '' AND last_error LIKE 'skipped:%' THEN last_error ELSE ? END WHERE id = ?`,
				micros(store.Now()), msg, msg, m.ID)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// dialIMAP connects and signs in.
func (s *Service) dialIMAP(ctx context.Context, m *Mailbox) (*client.Client, string, error) {
	u, err := url.Parse(m.URL)
	if err != nil {
		return nil, "", err
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = map[string]string{"imap": "143", "imaps": "993"}[u.Scheme]
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.cfg.IMAPTLS != nil {
		tc = s.cfg.IMAPTLS.Clone()
		tc.ServerName = host
	}
	if m.TLSCA != "" {
		if tc.RootCAs, err = caPool(tc.RootCAs, m.TLSCA); err != nil {
			return nil, "", err
		}
	}
	password, err := s.openPassword(m)
	if err != nil {
		return nil, "", err
	}
	d := &net.Dialer{Timeout: 30 * time.Second}
	var c *client.Client
	if u.Scheme == "imaps" {
		c, err = client.DialWithDialerTLS(d, net.JoinHostPort(host, port), tc)
	} else {
		c, err = client.DialWithDialer(d, net.JoinHostPort(host, port))
	}
	if err != nil {
		return nil, "", err
	}
	c.Timeout = 2 * time.Minute
	if u.Scheme == "imap" {
		ok, err := c.SupportStartTLS()
		if err != nil {
			c.Terminate()
			return nil, "", err
		}
		if ok {
			if err := c.StartTLS(tc); err != nil {
				c.Terminate()
				return nil, "", err
			}
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			c.Terminate()
			return nil, "", errors.New("the server offers no STARTTLS: the password would cross in clear (use imaps://)")
		}
	}
	if err := c.Login(u.User.Username(), password); err != nil {
		c.Terminate()
		return nil, "", fmt.Errorf("login: %w", err)
	}
	return c, strings.Trim(u.Path, "/"), nil
}

// poll reads a mailbox's new messages into the inbox, one transaction per message with
// the mailbox's UIDVALIDITY and last UID.
func (s *Service) poll(ctx context.Context, m *Mailbox) error {
	c, folder, err := s.dialIMAP(ctx, m)
	if err != nil {
		return err
	}
	defer c.Logout()
	// The context ends a stuck exchange: terminating the client ends its reads.
	stop := context.AfterFunc(ctx, func() { c.Terminate() })
	defer stop()
	st, err := c.Select(folder, true)
	if err != nil {
		return fmt.Errorf("select %s: %w", folder, err)
	}
	last := m.LastUID
	if st.UidValidity != m.UIDValidity {
		last = 0 // a new mailbox by that name: read it all (Message-IDs stop duplicates)
	}
	if st.Messages == 0 {
		return s.setUID(ctx, m.ID, st.UidValidity, last, "")
	}
	// First the UIDs and sizes of what is new, then each message alone (bounded memory).
	var seq imap.SeqSet
	seq.AddRange(last+1, 0)
	ch := make(chan *imap.Message, 64)
	done := make(chan error, 1)
	go func() { done <- c.UidFetch(&seq, []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size}, ch) }()
	type item struct {
		uid  uint32
		size uint32
	}
	var todo []item
	for msg := range ch {
		if msg.Uid > last {
			todo = append(todo, item{msg.Uid, msg.Size})
		}
	}
	if err := <-done; err != nil {
		return fmt.Errorf("fetch uids: %w", err)
	}
	section := &imap.BodySectionName{Peek: true}
	for _, it := range todo {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if int64(it.size) > s.cfg.MaxSize {
			// Left in the mailbox for a person to deal with; said on the mailbox.
			why := fmt.Sprintf("skipped: message UID %d is %d bytes, over the %d-byte limit; it is left in the mailbox", it.uid, it.size, s.cfg.MaxSize)
			if err := s.setUID(ctx, m.ID, st.UidValidity, it.uid, why); err != nil {
				return err
			}
			continue
		}
		var one imap.SeqSet
		one.AddNum(it.uid)
		ch := make(chan *imap.Message, 1)
		if err := c.UidFetch(&one, []imap.FetchItem{imap.FetchUid, section.FetchItem()}, ch); err != nil {
			return fmt.Errorf("fetch UID %d: %w", it.uid, err)
		}
		var raw []byte
		for msg := range ch {
			if r := msg.GetBody(section); r != nil {
				raw, err = io.ReadAll(io.LimitReader(r, s.cfg.MaxSize+1))
				if err != nil {
					return err
				}
			}
		}
		if raw == nil {
			continue // expunged meanwhile
		}
		if err := s.takeIMAP(ctx, m, st.UidValidity, it.uid, raw); err != nil {
			return err
		}
	}
	return s.setUID(ctx, m.ID, st.UidValidity, max(last, lastOf(todo, func(i item) uint32 { return i.uid })), "")
}

func lastOf[T any](list []T, f func(T) uint32) uint32 {
	if len(list) == 0 {
		return 0
	}
	return f(list[len(list)-1])
}

// setUID records the mailbox's UIDVALIDITY and the last UID taken (and why one was
// skipped, when one was).
func (s *Service) setUID(ctx context.Context, id int64, validity, uid uint32, why string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		q := `UPDATE imap_mailboxes SET uidvalidity = ?, last_uid = ? WHERE id = ?`
		args := []any{int64(validity), int64(uid), id}
		if why != "" {
			q = `UPDATE imap_mailboxes SET uidvalidity = ?, last_uid = ?, last_error = ? WHERE id = ?`
			args = []any{int64(validity), int64(uid), why, id}
		}
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// takeIMAP stores one polled message in the inbox and moves the mailbox's last UID
// past it, in one transaction: it is taken exactly once.
func (s *Service) takeIMAP(ctx context.Context, m *Mailbox, validity, uid uint32, raw []byte) error {
	from := envelopeSender(raw)
	thread := threadKey(raw[:min(len(raw), inRowLimit)], from)
	var spool string
	size := int64(len(raw))
	if len(raw) > inRowLimit {
		name, n, err := s.spool(raw, bytes.NewReader(nil))
		if err != nil {
			return err
		}
		spool, size, raw = name, n, nil
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_inbox (account_id, rcpt, mail_from, raw, spool_path, size, received_at, thread_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.AccountID, m.Address, from, raw, spool, size, micros(store.Now()), thread); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE imap_mailboxes SET uidvalidity = ?, last_uid = ? WHERE id = ?`, int64(validity), int64(uid), m.ID); err != nil {
			return err
		}
		tx.AfterCommit(s.notify)
		return nil
	})
	if err != nil && spool != "" {
		s.removeSpool(spool)
	}
	return err
}

// envelopeSender is what the SMTP envelope's sender would have been: the Return-Path
// the delivering server wrote ("" for a bounce's <>), else the From address.
func envelopeSender(raw []byte) string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	if rp, ok := msg.Header["Return-Path"]; ok && len(rp) > 0 {
		return strings.ToLower(strings.Trim(strings.TrimSpace(rp[0]), "<>"))
	}
	if a, err := mail.ParseAddress(msg.Header.Get("From")); err == nil {
		return strings.ToLower(a.Address)
	}
	return ""
}

// passwordContext binds a sealed mailbox password to its account: copied into another
// account's row, it does not open.
func passwordContext(acct ids.Account) string { return fmt.Sprintf("imap-password:%d", acct) }

// openPassword decrypts a mailbox's password. A row still in clear (stored before
// passwords were sealed, not yet sealed for want of a key) is used as it is.
func (s *Service) openPassword(m *Mailbox) (string, error) {
	if !secretbox.Sealed(m.password) {
		return m.password, nil
	}
	p, err := s.cfg.Secrets.Open(m.password, passwordContext(m.AccountID))
	if err != nil {
		return "", fmt.Errorf("the mailbox password cannot be decrypted (was the server key changed?): %w", err)
	}
	return p, nil
}

// sealPasswords encrypts the mailbox passwords still stored in clear (rows from before
// they were sealed). Without a server key they stay as they are, and it says so.
func (s *Service) sealPasswords(ctx context.Context) error {
	rows, err := s.db.R().QueryContext(ctx, `SELECT id, account_id, password FROM imap_mailboxes WHERE password <> ''`)
	if err != nil {
		return err
	}
	type clear struct {
		id       int64
		acct     ids.Account
		password string
	}
	var todo []clear
	for rows.Next() {
		var c clear
		if err := rows.Scan(&c.id, &c.acct, &c.password); err != nil {
			rows.Close()
			return err
		}
		if !secretbox.Sealed(c.password) {
			todo = append(todo, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(todo) == 0 {
		return err
	}
	if !s.cfg.Secrets.Ready() {
		s.log.Warn("imap: mailbox passwords are stored in clear: configure a server key (--secret-key-file) to encrypt them", "mailboxes", len(todo))
		return nil
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range todo {
			sealed, err := s.cfg.Secrets.Seal(c.password, passwordContext(c.acct))
			if err != nil {
				return err
			}
			// Only the row as read: a password changed meanwhile is left to the next pass.
			if _, err := tx.ExecContext(ctx, `UPDATE imap_mailboxes SET password = ? WHERE id = ? AND password = ?`, sealed, c.id, c.password); err != nil {
				return err
			}
		}
		return nil
	})
}

// caPool adds the PEM certificates of bundle to base (the system's roots when nil).
func caPool(base *x509.CertPool, bundle string) (*x509.CertPool, error) {
	pool := base
	if pool == nil {
		sys, err := x509.SystemCertPool()
		if err != nil || sys == nil {
			sys = x509.NewCertPool()
		}
		pool = sys
	} else {
		pool = pool.Clone()
	}
	if !pool.AppendCertsFromPEM([]byte(bundle)) {
		return nil, errs.Invalidf("tls_ca", "InvalidValue", "tls_ca must be PEM CA certificates (-----BEGIN CERTIFICATE-----)")
	}
	return pool, nil
}
