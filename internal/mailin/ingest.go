package mailin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/mail/send"
	"tandem/internal/mailthread"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Inbox states.
const (
	stateNew       = "new"
	stateDone      = "done"
	stateSuspended = "suspended"
	stateDropped   = "dropped" // a duplicate, or a forwarding verification
	stateDeleted   = "deleted" // suspended, then deleted by an agent
	stateBounce    = "bounce"  // a delivery report on mail Tandem sent, read back
)

// leaseFor is how long a claimed message is kept from other workers (PostgreSQL, several
// processes); a message whose process died is taken again after it.
const leaseFor = time.Minute

// maxAttempts is how often a message that fails with an internal error is retried
// before it is suspended for an agent to look at.
const maxAttempts = 6

// Run is the inbox worker: it turns accepted messages into tickets, comments or
// suspended tickets until ctx ends, on cfg.Workers lanes. The messages of one thread
// (threadKey) go to one lane, in order, and are claimed only after the earlier ones of
// their thread are processed, by whichever process: a reply never overtakes the
// message it answers. Different threads are processed at once; on SQLite their
// writes share the group commit's transactions, so more lanes make fewer commits.
func (s *Service) Run(ctx context.Context) {
	queues := make([]chan claimed, s.cfg.Workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan claimed, 64)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range queues[i] {
				if err := s.processID(ctx, c); err != nil && ctx.Err() == nil {
					s.log.Error("mailin: process message", "inbox_id", c.id, "err", err)
				}
				// Processed, or waiting for a retry: either way out of the backlog that
				// holds the listener's replies.
				s.backlog.done(c.id)
				if s.db.Dialect == store.SQLite {
					// The claimer knows whether it held a message of c's thread back.
					if s.inflight.done(c) {
						s.notify()
					}
				} else if c.thread != "" && ctx.Err() == nil {
					s.wakeThread(ctx, c)
				}
			}
		}()
	}
	defer func() {
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
	}()
	// On SQLite this process is the only one: a lease left by a process that died (a
	// crash mid-message) is void now.
	if s.db.Dialect == store.SQLite {
		if _, err := s.db.R().ExecContext(ctx, `UPDATE mail_inbox SET lease_until = 0 WHERE state = 'new' AND lease_until > 0 AND attempts = 0`); err != nil && ctx.Err() == nil {
			s.log.Error("mailin: release leases", "err", err)
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		batch, more, err := s.claim(ctx, claimBatch)
		if err != nil && ctx.Err() == nil {
			s.log.Error("mailin: claim", "err", err)
		}
		for _, c := range batch {
			select {
			case queues[lane(c, len(queues))] <- c:
			case <-ctx.Done():
				return
			}
		}
		if more {
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
			// Messages come in one commit at a time; those woken for within a few
			// milliseconds are claimed together, so their lanes write at once and the
			// group commit (SQLite) gives them one transaction instead of one each.
			gather := time.NewTimer(gatherFor)
			select {
			case <-ctx.Done():
			case <-gather.C:
			}
			gather.Stop()
		case <-tick.C:
		}
	}
}

// gatherFor is how long the claimer waits, once woken, for more messages to claim with
// the first: a small part of the 50 ms aimed at from the final dot to the ticket.
const gatherFor = 3 * time.Millisecond

// claimBatch is how many messages one claim leases.
const claimBatch = 128

// wakeThread wakes the claimer when a later message of c's thread waits: it was held
// back while c was being processed.
func (s *Service) wakeThread(ctx context.Context, c claimed) {
	var n int
	err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM mail_inbox WHERE account_id = ? AND thread_key = ? AND state = 'new' AND id > ? LIMIT 1) w`, c.acct, c.thread, c.id).Scan(&n)
	if err != nil || n > 0 {
		s.notify()
	}
}

type claimed struct {
	id     int64
	acct   ids.Account
	from   string
	thread string
}

// claimable selects the waiting messages that may be processed now: not leased, and
// with no earlier message of their thread still waiting (one that failed and waits
// for a retry holds nothing back).
const claimable = `FROM mail_inbox o WHERE o.state = 'new' AND o.lease_until < ?
	AND (o.thread_key = '' OR NOT EXISTS (SELECT 1 FROM mail_inbox p WHERE p.account_id = o.account_id AND p.thread_key = o.thread_key AND p.state = 'new' AND p.id < o.id AND p.attempts = 0))`

// inflight are the messages this process has claimed and not yet processed, and their
// threads. On SQLite (one process) they stand in for the lease and for the thread
// check of claimable: a claim is a read that skips them and holds back the messages of
// their threads, not a write transaction of its own; and the end of a message wakes
// the claimer only when a message of its thread was held back.
type inflight struct {
	mu  sync.Mutex
	ids map[int64]struct{}
	// threads counts the messages in flight per thread (threadID); held marks the
	// threads of which a claim held a message back.
	threads map[string]int
	held    map[string]bool
}

// threadID names a message's thread across accounts; "" for a message without a key
// (never held back, as in claimable).
func threadID(c claimed) string {
	if c.thread == "" {
		return ""
	}
	return strconv.FormatInt(int64(c.acct), 10) + " " + c.thread
}

// take marks c in flight, unless a message of its thread is: then it notes the thread
// held back and reports false.
func (f *inflight) take(c claimed) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids, f.threads, f.held = map[int64]struct{}{}, map[string]int{}, map[string]bool{}
	}
	if t := threadID(c); t != "" {
		if f.threads[t] > 0 {
			f.held[t] = true
			return false
		}
		f.threads[t]++
	}
	f.ids[c.id] = struct{}{}
	return true
}

// done ends c's flight and reports whether a message of its thread was held back.
func (f *inflight) done(c claimed) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ids, c.id)
	t := threadID(c)
	if t == "" {
		return false
	}
	if f.threads[t]--; f.threads[t] > 0 {
		return false
	}
	delete(f.threads, t)
	held := f.held[t]
	delete(f.held, t)
	return held
}

// list returns the ids in flight, as arguments.
func (f *inflight) list() []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]any, 0, len(f.ids))
	for id := range f.ids {
		out = append(out, id)
	}
	return out
}

// claim takes up to n waiting messages, oldest first; more reports that others may be
// waiting still (claim again at once).
func (s *Service) claim(ctx context.Context, n int) (batch []claimed, more bool, err error) {
	if s.db.Dialect == store.SQLite {
		return s.claimLocal(ctx, n)
	}
	batch, err = s.claimLeased(ctx, n)
	return batch, len(batch) == n, err
}

// claimLeased is claim on PostgreSQL: the messages are leased, so that each is
// processed by one process.
func (s *Service) claimLeased(ctx context.Context, n int) ([]claimed, error) {
	// A read first: the worker polls, and an idle inbox costs no write transaction.
	var waiting int
	if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 `+claimable+` LIMIT 1) w`, micros(store.Now())).Scan(&waiting); err != nil || waiting == 0 {
		return nil, err
	}
	var out []claimed
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		out = out[:0]
		now := micros(store.Now())
		q := `SELECT o.id, o.account_id, o.mail_from, o.thread_key ` + claimable + ` ORDER BY o.id LIMIT ?`
		if tx.D() == store.Postgres {
			q += ` FOR UPDATE OF o SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, q, now, n)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.id, &c.acct, &c.from, &c.thread); err != nil {
				rows.Close()
				return err
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(out) == 0 {
			return err
		}
		args := []any{micros(store.Now().Add(leaseFor))}
		for _, c := range out {
			args = append(args, c.id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_inbox SET lease_until = ? WHERE id IN (`+store.In(len(out))+`)`, args...)
		return err
	})
	return out, err
}

// claimLocal is claim on SQLite, where this process is the only one: a read of the
// waiting messages that are not in flight, oldest first; each is taken unless a message
// of its thread is in flight or taken before it (inflight.take), which holds it back
// until that one is processed, as claimable does. A message waiting for a retry holds
// nothing back (it is not due, so not read).
func (s *Service) claimLocal(ctx context.Context, n int) ([]claimed, bool, error) {
	skip := s.inflight.list()
	q := `SELECT id, account_id, mail_from, thread_key FROM mail_inbox WHERE state = 'new' AND lease_until < ?`
	if len(skip) > 0 {
		q += ` AND id NOT IN (` + store.In(len(skip)) + `)`
	}
	q += ` ORDER BY id LIMIT ?`
	args := append(append([]any{micros(store.Now())}, skip...), n)
	rows, err := s.db.R().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var read []claimed
	for rows.Next() {
		var c claimed
		if err := rows.Scan(&c.id, &c.acct, &c.from, &c.thread); err != nil {
			return nil, false, err
		}
		read = append(read, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	var out []claimed
	for _, c := range read {
		if s.inflight.take(c) {
			out = append(out, c)
		}
	}
	// More may wait after the n read, unless all were held back (the end of their
	// threads' messages in flight wakes the claimer).
	return out, len(read) == n && len(out) > 0, nil
}

// inboxRow is an accepted message.
type inboxRow struct {
	ID        int64
	AccountID ids.Account
	Rcpt      string
	MailFrom  string
	Raw       []byte
	Spool     string
	Attempts  int
}

func (s *Service) loadInbox(ctx context.Context, q store.Queryer, id int64) (*inboxRow, error) {
	var r inboxRow
	err := q.QueryRowContext(ctx, `SELECT id, account_id, rcpt, mail_from, raw, spool_path, attempts FROM mail_inbox WHERE id = ?`, id).
		Scan(&r.ID, &r.AccountID, &r.Rcpt, &r.MailFrom, &r.Raw, &r.Spool, &r.Attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("message %d not found", id)
	}
	return &r, err
}

// account returns the account of an inbox row or route, from the account store's
// cache: one read a message was the worker's most frequent query after the message
// itself.
func (s *Service) account(ctx context.Context, id ids.Account) (*account.Account, error) {
	return s.accounts.ByIDCached(ctx, id)
}

// content returns the whole message.
func (s *Service) content(r *inboxRow) ([]byte, error) {
	if r.Spool == "" {
		return r.Raw, nil
	}
	f, err := os.Open(filepath.Join(s.cfg.SpoolDir, r.Spool))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f, s.cfg.MaxSize+1)
}

// parsed is an inbox message as parsed: the message, or why it cannot be read (perr),
// and its first bytes (what the suspended ticket of an unreadable one shows).
type parsed struct {
	m     *Message
	perr  error
	head  []byte
	close func()
}

// parseInbox parses an inbox message. One kept in its row (small) is parsed in memory;
// a spooled one is parsed from its file (ParseAt), which holds neither the message nor
// its large attachments in memory: those are read from the file, decoded, when they
// are stored, so the file stays open until close. An error is one reading the message,
// for a retry; a message that is not mail is perr.
func (s *Service) parseInbox(in *inboxRow) (*parsed, error) {
	if in.Spool == "" {
		m, perr := Parse(in.Raw)
		return &parsed{m: m, perr: perr, head: in.Raw[:min(len(in.Raw), maxSuspendedContent)], close: func() {}}, nil
	}
	f, err := os.Open(filepath.Join(s.cfg.SpoolDir, in.Spool))
	if err != nil {
		return nil, err
	}
	p, err := parseFile(f, s.cfg.MaxSize+1)
	if err != nil {
		f.Close()
		return nil, err
	}
	p.close = func() { f.Close() }
	return p, nil
}

// parseFile parses the message in f, of at most max bytes (errTooBig).
func parseFile(f *os.File, max int64) (*parsed, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, errTooBig
	}
	head := make([]byte, min(st.Size(), maxSuspendedContent))
	if _, err := f.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	m, perr := ParseAt(f, st.Size(), streamFrom)
	if perr != nil && !errors.Is(perr, errUnreadable) && !errors.Is(perr, errTooDeep) {
		return nil, perr
	}
	return &parsed{m: m, perr: perr, head: head}, nil
}

// processID processes one claimed message. An internal error leaves it for a retry
// with backoff; after maxAttempts, or at once when the write path refuses it, it is
// suspended with the reason, so that every accepted message ends somewhere visible.
func (s *Service) processID(ctx context.Context, c claimed) error {
	in := s.fresh.take(c)
	if in == nil {
		var err error
		if in, err = s.loadInbox(ctx, s.db.R(), c.id); err != nil {
			return err
		}
	}
	acct, err := s.account(ctx, in.AccountID)
	if err != nil {
		return s.retry(ctx, in, err)
	}
	p, err := s.parseInbox(in)
	if err != nil {
		return s.retry(ctx, in, err)
	}
	defer p.close()
	_, err = s.ingest(ctx, acct, in, p, 0)
	if err == nil {
		return nil
	}
	if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) || in.Attempts+1 >= maxAttempts {
		werr := s.db.Write(ctx, func(tx *store.Tx) error {
			return s.suspend(ctx, tx, acct, in, p, causeUnprocessable, "Could not be processed: "+errText(err))
		})
		if werr != nil {
			return s.retry(ctx, in, werr)
		}
		return nil
	}
	return s.retry(ctx, in, err)
}

func errText(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}

// retry records a failed attempt and when to try again (exponential backoff).
func (s *Service) retry(ctx context.Context, in *inboxRow, cause error) error {
	wait := time.Second << min(in.Attempts, 8)
	_, err := s.db.R().ExecContext(ctx, `UPDATE mail_inbox SET attempts = attempts + 1, lease_until = ?, last_error = ? WHERE id = ?`,
		micros(store.Now().Add(wait)), cause.Error(), in.ID)
	if err != nil {
		return err
	}
	return cause
}

// Suspension causes (Zendesk's cause_id numbers where it has one).
const (
	causeAutomated     = 1
	causeBounce        = 2
	causeSupportAddr   = 9
	causeUnregistered  = 14
	causeSuspendedUser = 11
	causeAuthFailed    = 20
	causeRate          = 21
	causeNoSender      = 22
	causeUnreadable    = 23
	causeUnprocessable = 24
)

// Outcome is what ingesting a message did.
type Outcome struct {
	TicketID  ids.Ticket
	Created   bool
	Suspended bool
	Dropped   bool
}

// ingest turns a parsed message into a ticket, a comment, a suspended ticket or nothing
// (a duplicate, a verification), in one transaction with the inbox row's new state. A
// recovered suspended ticket (recoverID) skips the suspension checks and is deleted in
// the same transaction.
func (s *Service) ingest(ctx context.Context, acct *account.Account, in *inboxRow, p *parsed, recoverID int64) (*Outcome, error) {
	force := recoverID != 0
	m, perr := p.m, p.perr
	suspendNow := func(cause int, why string) (*Outcome, error) {
		err := s.db.Write(ctx, func(tx *store.Tx) error { return s.suspend(ctx, tx, acct, in, p, cause, why) })
		return &Outcome{Suspended: true}, err
	}
	if perr != nil {
		if force {
			return nil, errs.Invalidf("message", "InvalidValue", "the message cannot be read: %v", perr)
		}
		return suspendNow(causeUnreadable, "Could not be read: "+perr.Error())
	}
	// A forwarding verification coming back is consumed first, whoever it seems to be
	// from (it is Tandem's own message, forwarded).
	if strings.Contains(m.Subject, verifyPrefix) || strings.Contains(m.Text, verifyPrefix) {
		verified := false
		err := s.db.Write(ctx, func(tx *store.Tx) error {
			ok, err := verifyFromMessage(ctx, tx, acct.ID, m.Subject+"\n"+m.Text)
			if err != nil || !ok {
				return err
			}
			verified = true
			return finish(ctx, tx, in.ID, stateDropped, 0, 0)
		})
		if err != nil || verified {
			return &Outcome{Dropped: verified}, err
		}
	}
	sender := m.FromAddress
	if _, ok := identity.NormalizeEmail(sender); !ok {
		sender = ""
		if e, ok := identity.NormalizeEmail(in.MailFrom); ok {
			sender = e
		}
	}
	if sender == "" {
		if force {
			return nil, errs.Invalidf("message", "InvalidValue", "the message names no sender")
		}
		return suspendNow(causeNoSender, "The message has no sender address")
	}
	var known *identity.User
	if u, err := identity.ByEmail(ctx, s.db.R(), acct.ID, sender); err == nil {
		known = u
	} else if !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if !force {
		if own, err := s.isSupportAddress(ctx, s.db.R(), sender); err != nil {
			return nil, err
		} else if own {
			return suspendNow(causeSupportAddr, "Received from support address")
		}
		// A report sent back to a VERP envelope sender is matched to its mail by the
		// token alone; mail to a bounce address never makes a ticket. One sent to a
		// support address (a relay that dropped the envelope) is matched by Message-ID,
		// only to mail sent without a VERP envelope (send.Service.RecordBounce).
		tok := verpToken(in.Rcpt)
		if m.DSN != nil && s.cfg.Bounced != nil && authFailed(m.AuthResults, s.cfg.AuthServID) == "" {
			read, err := s.readBounce(ctx, acct, in, m.DSN, tok)
			if err != nil || read {
				return &Outcome{Dropped: read}, err
			}
		}
		if tok != "" {
			return suspendNow(causeBounce, "Sent to a bounce address: not a delivery report on the mail that address was given to")
		}
		if why := automatedReason(in, m); why != "" {
			cause := causeAutomated
			if m.Bounce || in.MailFrom == "" {
				cause = causeBounce
			}
			return suspendNow(cause, why)
		}
		if why := authFailed(m.AuthResults, s.cfg.AuthServID); why != "" {
			return suspendNow(causeAuthFailed, why)
		}
		if known != nil && known.Suspended {
			return suspendNow(causeSuspendedUser, "Email is from a suspended user")
		}
		if known == nil {
			required, err := s.signupRequired(ctx, acct)
			if err != nil {
				return nil, err
			}
			if required {
				return suspendNow(causeUnregistered, "Submitted by unregistered user (the account requires sign-up)")
			}
		}
		if known == nil || !known.Role.IsStaff() {
			n, _, err := s.limits.Hit(ctx, fmt.Sprintf("mailin:%d:%s", acct.ID, sender), time.Hour)
			if err != nil {
				return nil, err
			}
			if n > int64(s.cfg.SenderRate) {
				return suspendNow(causeRate, fmt.Sprintf("Sender over the rate limit (%d messages an hour)", s.cfg.SenderRate))
			}
		}
	}
	mf, err := s.uploadAttachments(ctx, acct.ID, m.Attachments)
	if err != nil {
		return nil, err
	}
	var out Outcome
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		out = Outcome{}
		if recoverID != 0 {
			res, err := tx.ExecContext(ctx, `DELETE FROM suspended_tickets WHERE account_id = ? AND id = ?`, acct.ID, recoverID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errs.NotFoundf("suspended ticket %d not found", recoverID)
			}
		}
		if m.MessageID != "" {
			var tid int64
			err := tx.QueryRowContext(ctx, `SELECT ticket_id FROM mail_messages WHERE account_id = ? AND sender = ? AND message_id = ?`, acct.ID, sender, m.MessageID).Scan(&tid)
			if err == nil {
				out = Outcome{TicketID: ids.Ticket(tid), Dropped: true}
				return finish(ctx, tx, in.ID, stateDropped, ids.Ticket(tid), 0)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		// A sender already known was read above, and the checks were made on that read:
		// it is not read again.
		user := known
		if user == nil {
			var err error
			if user, err = people.FindOrCreateUser(ctx, tx, acct, people.System, m.FromName, sender, ""); err != nil {
				return err
			}
		}
		// The acknowledgement mail goes to the sender: read here, not again by the hook.
		// The comment gets its files after the write (mf.attach), not by upload tokens:
		// the mail hook reads none.
		wctx := send.WithUsers(ctx, acct.ID, user)
		res, err := s.writeTicket(wctx, tx, acct, in, m, user, mf.note())
		if err != nil {
			return err
		}
		out.TicketID, out.Created = res.Ticket.ID, res.Change.Created
		var commentID ids.Comment
		if len(res.Comments) > 0 {
			commentID = res.Comments[0].ID
		}
		if m.MessageID != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mail_messages (account_id, sender, message_id, ticket_id, inbox_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				acct.ID, sender, m.MessageID, res.Ticket.ID, in.ID, micros(store.Now())); err != nil {
				return err
			}
		}
		if err := mf.attach(ctx, s, tx, acct.ID, user.ID, res, commentID); err != nil {
			return err
		}
		return finish(ctx, tx, in.ID, stateDone, res.Ticket.ID, commentID)
	})
	if err != nil || out.Dropped {
		mf.discard(ctx, s, acct.ID)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// readBounce applies a delivery report to the mail Tandem sent that it is about, and
// consumes the message, in one transaction; read is false when the report names no
// mail of the account (the message is then treated as any other bounce: suspended).
func (s *Service) readBounce(ctx context.Context, acct *account.Account, in *inboxRow, d *DSN, token string) (read bool, err error) {
	if d.MessageID == "" && token == "" {
		return false, nil
	}
	msgID := ""
	if d.MessageID != "" {
		msgID = "<" + d.MessageID + ">"
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		read = false
		for _, r := range d.Recipients {
			if (r.Address == "" && token == "") || (r.Action != "failed" && r.Action != "delayed") {
				continue
			}
			ok, err := s.cfg.Bounced(ctx, tx, acct, token, msgID, r.Address, r.Status, r.Reason(), r.Hard())
			if err != nil {
				return err
			}
			read = read || ok
			if token != "" {
				break // the token names one mail to one recipient: its first report is it
			}
		}
		if !read {
			return nil
		}
		return finish(ctx, tx, in.ID, stateBounce, 0, 0)
	})
	return read, err
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// finish records what an inbox message became.
func finish(ctx context.Context, tx *store.Tx, id int64, state string, t ids.Ticket, c ids.Comment) error {
	_, err := tx.ExecContext(ctx, `UPDATE mail_inbox SET state = ?, ticket_id = ?, comment_id = ?, done_at = ?, last_error = '' WHERE id = ?`,
		state, nullInt(int64(t)), nullInt(int64(c)), micros(store.Now()), id)
	return err
}

func automatedReason(in *inboxRow, m *Message) string {
	if m.Automated != "" {
		return m.Automated
	}
	if in.MailFrom == "" || in.MailFrom == "<>" {
		return "Automated response mail, delivery failed (null return path)"
	}
	return ""
}

var authResRE = regexp.MustCompile(`\b(dmarc|dkim|spf)\s*=\s*([a-z]+)`)

// authFailed reads the first Authentication-Results header written by the trusted relay
// (authserv-id servID) and says why the message fails, "" when it does not or when no
// relay is trusted: DMARC fail, or (without a DMARC result) no passing DKIM signature
// and a failing SPF check.
func authFailed(results []string, servID string) string {
	if servID == "" {
		return ""
	}
	for _, v := range results {
		id, rest, _ := strings.Cut(v, ";")
		f := strings.Fields(id)
		if len(f) == 0 || !strings.EqualFold(f[0], servID) {
			continue
		}
		res := map[string][]string{}
		for _, mm := range authResRE.FindAllStringSubmatch(strings.ToLower(rest), -1) {
			res[mm[1]] = append(res[mm[1]], mm[2])
		}
		if slices.Contains(res["dmarc"], "fail") {
			return "Email failed DMARC authentication"
		}
		if len(res["dmarc"]) == 0 && !slices.Contains(res["dkim"], "pass") && len(res["dkim"]) > 0 &&
			(slices.Contains(res["spf"], "fail") || slices.Contains(res["spf"], "softfail")) {
			return "Email failed DKIM and SPF authentication"
		}
		return ""
	}
	return ""
}

var (
	subjectMarkerRE = regexp.MustCompile(`\[#(\d{1,12})\]`)
	msgIDRE         = regexp.MustCompile(`<([^<>\s]{1,500})>`)
)

// maxBody is the longest comment an email makes; the rest stays in the original. It
// leaves room for the note on attachments not kept (at most maxNote).
const maxBody = ticket.MaxCommentSize - 200 - maxNote

// writeTicket adds the message to the ticket it continues, or creates one, through the
// ticket write path.
func (s *Service) writeTicket(ctx context.Context, tx *store.Tx, acct *account.Account, in *inboxRow, m *Message, user *identity.User, note string) (*ticket.Result, error) {
	actor := ticket.Actor{UserID: user.ID, Role: user.Role, Name: user.Name}
	recipient, groupID, err := s.recipientOf(ctx, tx, acct.ID, in, m)
	if err != nil {
		return nil, err
	}
	ccs, err := s.ccUsers(ctx, tx, acct, m, user.Email)
	if err != nil {
		return nil, err
	}
	via := ticket.ViaFor(ticket.ViaMail)
	via.Source = map[string]any{
		"from": map[string]any{"address": user.Email, "name": m.FromName},
		"to":   map[string]any{"address": recipient, "name": ""},
		"rel":  nil,
	}
	t, err := s.thread(ctx, tx, acct.ID, in, m, user)
	if err != nil {
		return nil, err
	}
	if t != nil {
		body := TrimReply(m.Text)
		p := &ticket.Patch{Via: &via, Comment: &ticket.CommentInput{Body: limitBody(body, len(m.Attachments)) + note, AuthorID: user.ID}}
		if !user.Role.IsStaff() && (t.Status == ticket.Pending || t.Status == ticket.Solved || t.Status == ticket.Hold) {
			p.Status = ticket.Ptr(ticket.Open)
		}
		if added := newCCs(t, ccs); len(added) > 0 {
			list := append(slices.Clone(t.EmailCCIDs), added...)
			if len(list) <= ticket.MaxCCs {
				p.EmailCCIDs = &list
			}
		}
		return s.tickets.Write(ctx, tx, acct, actor, t.ID, p)
	}
	subject := m.Subject
	if strings.TrimSpace(subject) == "" {
		subject = firstLine(m.Text)
	}
	if utf8.RuneCountInString(subject) > ticket.MaxSubject {
		subject = string([]rune(subject)[:ticket.MaxSubject-1]) + "…"
	}
	p := &ticket.Patch{
		Subject:     &subject,
		RequesterID: &user.ID,
		// The sender, as read or created above: the create does not read it again.
		RequesterUser: user,
		Recipient:     &recipient,
		Via:           &via,
		Comment:       &ticket.CommentInput{Body: limitBody(m.Text, len(m.Attachments)) + note, AuthorID: user.ID},
	}
	if groupID != 0 {
		p.GroupID = &groupID
	}
	if len(ccs) > ticket.MaxCCs {
		ccs = ccs[:ticket.MaxCCs]
	}
	if len(ccs) > 0 {
		p.EmailCCIDs = &ccs
	}
	return s.tickets.Write(ctx, tx, acct, actor, 0, p)
}

func firstLine(text string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	l = strings.TrimSpace(l)
	if utf8.RuneCountInString(l) > 80 {
		l = string([]rune(l)[:79]) + "…"
	}
	if l == "" {
		l = "(no subject)"
	}
	return l
}

func limitBody(body string, attachments int) string {
	if strings.TrimSpace(body) == "" {
		if attachments > 0 {
			return fmt.Sprintf("(no text; %d attachment(s))", attachments)
		}
		return "(empty message)"
	}
	if len(body) <= maxBody {
		return body
	}
	cut := maxBody
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + "\n\n[The message was longer; the full original email is kept on the ticket.]"
}

func newCCs(t *ticket.Ticket, ccs []ids.User) []ids.User {
	var out []ids.User
	for _, u := range ccs {
		if u != t.RequesterID && !slices.Contains(t.EmailCCIDs, u) && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// recipientOf is the support address the message was written to: one of the account's
// addresses named in To or Cc (mail forwarded from an external address), else the
// address it was delivered to; and that address's default group.
func (s *Service) recipientOf(ctx context.Context, tx *store.Tx, acct ids.Account, in *inboxRow, m *Message) (string, ids.Group, error) {
	var cands []string
	for _, a := range append(slices.Clone(m.To), m.Cc...) {
		cands = append(cands, strings.ToLower(a.Address))
	}
	rcpts := strings.Fields(in.Rcpt)
	for _, r := range rcpts {
		cands = append(cands, plain(r))
	}
	for _, c := range cands {
		// The listener resolved the address it delivered to (routecache.go): its group
		// is known without a statement in the writer.
		if g, found, ok := s.routes.groupOf(acct, plain(c)); ok {
			if found {
				return plain(c), g, nil
			}
			continue
		}
		var grp sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT group_id FROM recipient_addresses WHERE account_id = ? AND email = ?`, acct, plain(c)).Scan(&grp)
		if err == nil {
			return plain(c), ids.Group(grp.Int64), nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", 0, err
		}
	}
	if len(rcpts) > 0 {
		return plain(rcpts[0]), 0, nil
	}
	return "", 0, nil
}

// plain strips a plus-address's tag: support+tkt-x@d becomes support@d.
func plain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, _, _ := strings.Cut(addr[:at], "+")
	return local + addr[at:]
}

// ccUsers finds or creates the people copied on the message (To and Cc, less the
// sender and the account's support addresses).
func (s *Service) ccUsers(ctx context.Context, tx *store.Tx, acct *account.Account, m *Message, sender string) ([]ids.User, error) {
	var out []ids.User
	for _, a := range append(slices.Clone(m.To), m.Cc...) {
		e, ok := identity.NormalizeEmail(a.Address)
		if !ok || e == sender || len(out) >= ticket.MaxCCs {
			continue
		}
		if own, err := s.isSupportAddress(ctx, tx, plain(e)); err != nil {
			return nil, err
		} else if own {
			continue
		}
		u, err := people.FindOrCreateUser(ctx, tx, acct, people.System, clean(a.Name), e, "")
		if errs.Is(err, errs.Invalid) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, u.ID) {
			out = append(out, u.ID)
		}
	}
	return out, nil
}

// thread finds the ticket a message continues, within the account it was delivered
// to: by the reply tokens in its In-Reply-To, References and recipient addresses, then
// by the Message-IDs of earlier mail of the account it answers, then by a [#id] marker
// in the subject. Whatever matched, the sender must be on the ticket (requester, CC,
// collaborator, follower) or staff of the account; a stranger's mail is never a comment
// on someone else's ticket: it becomes a new ticket. A closed ticket is not continued.
func (s *Service) thread(ctx context.Context, tx *store.Tx, acct ids.Account, in *inboxRow, m *Message, u *identity.User) (*ticket.Ticket, error) {
	var cands []ids.Ticket
	vals := []string{m.InReplyTo, m.References, in.Rcpt}
	for _, a := range append(slices.Clone(m.To), m.Cc...) {
		vals = append(vals, a.Address)
	}
	for _, tok := range mailthread.TokensIn(vals...) {
		id, ok, err := mailthread.Lookup(ctx, tx, int64(acct), tok)
		if err != nil {
			return nil, err
		}
		if ok {
			cands = append(cands, ids.Ticket(id))
		}
	}
	for _, mm := range msgIDRE.FindAllStringSubmatch(m.InReplyTo+" "+m.References, 50) {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT ticket_id FROM mail_messages WHERE account_id = ? AND message_id = ? LIMIT 1`, acct, mm[1]).Scan(&id)
		if err == nil {
			cands = append(cands, ids.Ticket(id))
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	if mm := subjectMarkerRE.FindStringSubmatch(m.Subject); mm != nil {
		if id, err := strconv.ParseInt(mm[1], 10, 64); err == nil {
			cands = append(cands, ids.Ticket(id))
		}
	}
	for _, id := range cands {
		t, err := ticket.GetForUpdate(ctx, tx, acct, id)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if t.Deleted() || t.Status == ticket.Closed {
			continue
		}
		if u.Role.IsStaff() || u.ID == t.RequesterID || slices.Contains(t.EmailCCIDs, u.ID) ||
			slices.Contains(t.CollaboratorIDs, u.ID) || slices.Contains(t.FollowerIDs, u.ID) {
			return t, nil
		}
	}
	return nil, nil
}
