package mailin

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// inRowLimit is the largest message kept in its inbox row; a larger one is streamed to
// a file in the spool directory. Either way no more than this is held in memory per
// message while it is received.
const inRowLimit = 256 << 10

// headBufs are the buffers a message's start is read into (inRowLimit and one byte):
// reused, not a quarter of a megabyte allocated and cleared for every message.
var headBufs = sync.Pool{New: func() any {
	b := make([]byte, inRowLimit+1)
	return &b
}}

// maxRecipients bounds the recipients of one message.
const maxRecipients = 100

// Listener is the SMTP or LMTP server that takes mail into the inbox.
type Listener struct {
	srv *smtp.Server
}

// NewListener returns an SMTP (or, with lmtp, an LMTP) server taking mail for the
// support addresses into the inbox. ctx bounds the work done for its sessions.
func (s *Service) NewListener(ctx context.Context, lmtp bool) *Listener {
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{svc: s, ctx: ctx}, nil
	}))
	srv.LMTP = lmtp
	srv.Domain = s.cfg.Hostname
	srv.MaxRecipients = maxRecipients
	// The size limit is enforced by the session, so that the refusal names it.
	srv.MaxMessageBytes = 0
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogLogger{s}
	return &Listener{srv: srv}
}

// Serve accepts connections on ln until Shutdown.
func (l *Listener) Serve(ln net.Listener) error {
	err := l.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits (within ctx) for sessions in progress.
func (l *Listener) Shutdown(ctx context.Context) error { return l.srv.Shutdown(ctx) }

// Close stops the listener at once.
func (l *Listener) Close() error { return l.srv.Close() }

type slogLogger struct{ s *Service }

func (l slogLogger) Printf(format string, v ...any) {
	l.s.log.Warn("smtp: " + fmt.Sprintf(format, v...))
}
func (l slogLogger) Println(v ...any) { l.s.log.Warn("smtp: " + fmt.Sprint(v...)) }

// session is one SMTP conversation.
type session struct {
	svc   *Service
	ctx   context.Context
	from  string
	rcpts []*route
	// order keeps the recipients as given, for LMTP's per-recipient replies.
	order []string
}

func smtpErr(code int, enh smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

func (s *session) tooBig() error {
	return smtpErr(552, smtp.EnhancedCode{5, 3, 4}, fmt.Sprintf("Message too big: the size limit is %d bytes", s.svc.cfg.MaxSize))
}

func (s *session) Reset()        { s.from, s.rcpts, s.order = "", nil, nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if opts != nil && opts.Size > s.svc.cfg.MaxSize {
		return s.tooBig()
	}
	s.from = strings.ToLower(strings.TrimSpace(from))
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	r, err := s.svc.resolve(s.ctx, to)
	if err != nil {
		s.svc.log.Error("smtp: resolve recipient", "rcpt", to, "err", err)
		return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Temporary failure, try again later")
	}
	if r == nil {
		return smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such support address here: "+to)
	}
	s.rcpts = append(s.rcpts, r)
	s.order = append(s.order, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	return s.svc.accept(s.ctx, s.from, s.rcpts, r)
}

// LMTPData answers for every recipient: they share one inbox write, so one status.
func (s *session) LMTPData(r io.Reader, status smtp.StatusCollector) error {
	err := s.svc.accept(s.ctx, s.from, s.rcpts, r)
	for _, to := range s.order {
		status.SetStatus(to, err)
	}
	return nil
}

// accept takes a message into the inbox, durably, before the listener answers: one row
// per account it was delivered to, the message in the row (small) or in one spool file
// (large), committed before it returns nil.
func (s *Service) accept(ctx context.Context, from string, rcpts []*route, r io.Reader) error {
	if len(rcpts) == 0 {
		return smtpErr(554, smtp.EnhancedCode{5, 5, 1}, "No valid recipients")
	}
	tooBig := smtpErr(552, smtp.EnhancedCode{5, 3, 4}, fmt.Sprintf("Message too big: the size limit is %d bytes", s.cfg.MaxSize))
	lr := &io.LimitedReader{R: r, N: s.cfg.MaxSize + 1}
	buf := headBufs.Get().(*[]byte)
	defer headBufs.Put(buf)
	head := *buf
	n, err := io.ReadFull(lr, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return readErr(err)
	}
	head = head[:n]
	var raw []byte
	var spool string
	size := int64(n)
	if n <= inRowLimit {
		raw = bytes.Clone(head)
	} else {
		spool, size, err = s.spool(head, lr)
		if err != nil {
			return err
		}
		if size > s.cfg.MaxSize {
			s.removeSpool(spool)
			_, _ = io.Copy(io.Discard, r) // the client is told once the data has ended
			return tooBig
		}
	}
	if size > s.cfg.MaxSize {
		return tooBig
	}
	// One row per account; its rcpt lists the addresses the message came to there.
	byAcct := map[ids.Account][]string{}
	var accts []ids.Account
	for _, rt := range rcpts {
		id := rt.acct.ID
		if _, ok := byAcct[id]; !ok {
			accts = append(accts, id)
		}
		if rt.verp != "" {
			byAcct[id] = append(byAcct[id], rt.verp)
			continue
		}
		a := rt.addr.Email
		if rt.token != "" {
			a = strings.Replace(a, "@", "+tkt-"+rt.token+"@", 1)
		}
		byAcct[id] = append(byAcct[id], a)
	}
	now := micros(store.Now())
	thread := threadKey(head, from)
	// The rows stored count in the backlog (SQLite) from before the commit, so that a
	// worker quick to process one never ends it before it was counted; a write run
	// again (group commit) or failed takes its count back.
	var stored []int64
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		s.backlog.done(stored...)
		s.fresh.drop(stored...)
		stored = stored[:0]
		for _, id := range accts {
			res, err := tx.ExecContext(ctx, `INSERT INTO mail_inbox (account_id, rcpt, mail_from, raw, spool_path, size, received_at, thread_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				id, strings.Join(byAcct[id], " "), from, raw, spool, size, now, thread)
			if err != nil {
				return err
			}
			if tx.D() == store.SQLite {
				if row, err := res.LastInsertId(); err == nil {
					stored = append(stored, row)
					s.fresh.put(&inboxRow{ID: row, AccountID: id, Rcpt: strings.Join(byAcct[id], " "), MailFrom: from, Raw: raw, Spool: spool}, thread)
				}
			}
		}
		s.backlog.add(stored...)
		tx.AfterCommit(s.notify)
		return nil
	})
	if err != nil {
		s.backlog.done(stored...)
		s.fresh.drop(stored...)
		s.log.Error("smtp: store message", "err", err)
		s.removeSpool(spool)
		return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Temporary failure storing the message, try again later")
	}
	// Stored: the 250 that follows means it. It waits while the backlog is over its
	// bound (backlog.go).
	if s.db.Dialect != store.SQLite {
		s.backlog.storedRows(len(accts))
	}
	s.holdReply(ctx)
	return nil
}

func readErr(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Error reading the message")
}

// spool streams a large message to a file in the spool directory and syncs it; it
// returns the file's name relative to the directory and the message's size (which may
// exceed the limit by one byte: the caller refuses it then).
func (s *Service) spool(head []byte, rest io.Reader) (string, int64, error) {
	dir := filepath.Join(s.cfg.SpoolDir, "inbox")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.log.Error("smtp: spool dir", "err", err)
		return "", 0, smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Temporary failure storing the message, try again later")
	}
	name := time.Now().UTC().Format("20060102") + "-" + strings.ToLower(rand.Text()) + ".eml"
	f, err := os.CreateTemp(dir, "tmp-*")
	if err != nil {
		return "", 0, smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Temporary failure storing the message, try again later")
	}
	n, err := io.Copy(f, io.MultiReader(bytes.NewReader(head), rest))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, readErr(err)
	}
	return filepath.Join("inbox", name), n, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
