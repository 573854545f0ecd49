// Package export reads the change log that incremental exports walk (Zendesk's
// /api/v2/incremental/... endpoints; docs/EXPORTS.md).
//
// Database triggers (migrations 0022 and 0041) record, for every ticket, user,
// organization and ticket audit, the number (seq) and generated timestamp (ts, unix
// seconds) of its latest change, per account; (ts, seq) orders them. Before each page
// the export reads the account's horizon: a position such that every change numbered at
// or below it is visible (its transaction has ended), and every change not yet visible
// will come out above it. A page holds only changes numbered at or below the horizon,
// so both kinds of export walk the order upwards and never skip a change committed
// while they walk:
//
//   - time-based: a page starts at a start_time (inclusive) and ends at end_time, the
//     timestamp the next page starts at, so records stamped in that last second come
//     again on the next page (Zendesk's documented boundary duplicates);
//   - cursor-based: a page starts after a signed (ts, seq) position, so nothing comes
//     twice unless it changed again.
//
// On SQLite (one writer, numbers handed out in commit order) the horizon is the
// account's export_clock row. On PostgreSQL numbers come from a sequence and commit in
// any order; the horizon is export_horizon (migration 0041), which waits for the
// account's writers that hold a number but have not finished committing.
package export

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Kind is the kind of record a change is of (the export_changes.kind column).
type Kind int

// The exported kinds.
const (
	Tickets       Kind = 1
	Users         Kind = 2
	Organizations Kind = 3
	TicketEvents  Kind = 4 // ticket audits
)

// Change is the latest change of one record.
type Change struct {
	ID  int64 // the record's id (ticket number, user, organization or audit id)
	Pos Pos
}

// Pos is a position in an account's change order.
type Pos struct {
	TS  int64 // generated timestamp, unix seconds
	Seq int64 // change number; 0 is before every change of the second TS
}

// minSettle is the least time after which a second counts as settled: no change can
// still be stamped in it. A stamp is taken by its write (SQLite) or as its transaction
// commits (PostgreSQL), so this assumes no write transaction commits later than this
// after its stamp; with the lag (a minute by default) the settle time is the lag.
// Without it a walk could not move past a full second while the clock stays in it, and
// a client that follows next_page while pages are full would ask for it forever.
const minSettle = 5 * time.Second

// DefaultLag is how far behind the present exports stay: Zendesk excludes what changed
// in the minute before a request.
const DefaultLag = time.Minute

// Exporter pages through an account's changes.
type Exporter struct {
	db *store.DB
	// lag: changes stamped within lag of now are left for a later request.
	lag time.Duration
	// settle: a second this long past is settled (see minSettle).
	settle time.Duration
	// now is the clock (tests move it).
	now func() time.Time
	// clock, when set, replaces the database's horizon (tests of the page rules, which
	// stamp changes at chosen seconds).
	clock func(ctx context.Context, acct ids.Account) (Pos, error)
	keys  sync.Map // ids.Account -> []byte
}

// New returns an exporter over db that leaves out changes stamped within lag of now
// (0 for none).
func New(db *store.DB, lag time.Duration) *Exporter {
	lag = max(lag, 0)
	return &Exporter{db: db, lag: lag, settle: max(lag, minSettle), now: time.Now}
}

// Until is the newest timestamp a request made now may return.
func (e *Exporter) Until() int64 { return e.now().Add(-e.lag).Unix() }

// Lag is how far behind the present exports stay.
func (e *Exporter) Lag() time.Duration { return e.lag }

// CheckStart refuses a start_time exports cannot serve yet: Zendesk asks for one older
// than a minute (older than the lag here).
func (e *Exporter) CheckStart(start int64) error {
	if start < 0 {
		return errs.E(errs.BadRequest, "start_time must be a Unix time in seconds, 0 or more")
	}
	if start > e.Until() {
		if e.lag > 0 {
			return errs.E(errs.BadRequest, "Too recent start_time. Use a start_time older than %s", lagText(e.lag))
		}
		return errs.E(errs.BadRequest, "start_time is in the future")
	}
	return nil
}

func lagText(d time.Duration) string {
	if d == time.Minute {
		return "a minute"
	}
	return d.String()
}

// horizon returns the account's horizon: every change numbered at or below its Seq has
// committed or rolled back, and every change not yet visible will be positioned above
// it, stamped at or after its TS. Zero when nothing of the account was ever stamped
// (SQLite).
func (e *Exporter) horizon(ctx context.Context, acct ids.Account) (Pos, error) {
	if e.clock != nil {
		return e.clock(ctx, acct)
	}
	if e.db.Dialect == store.Postgres {
		var p Pos
		if err := e.db.R().QueryRowContext(ctx, `SELECT ts, seq FROM export_horizon(?)`, acct).Scan(&p.TS, &p.Seq); err != nil {
			return Pos{}, fmt.Errorf("export: horizon: %w", err)
		}
		// The database's clock may run ahead of this process's: either bound is safe
		// to stay below, so take the lower.
		p.TS = min(p.TS, e.now().Unix())
		return p, nil
	}
	return clockRow(ctx, e.db.R(), acct)
}

// clockRow reads the account's export_clock row: the horizon where numbers are handed
// out in commit order (SQLite).
func clockRow(ctx context.Context, q store.Queryer, acct ids.Account) (Pos, error) {
	var p Pos
	err := q.QueryRowContext(ctx, `SELECT ts, seq FROM export_clock WHERE account_id = ?`, acct).Scan(&p.TS, &p.Seq)
	if errors.Is(err, store.ErrNoRows) {
		return Pos{}, nil
	}
	if err != nil {
		return Pos{}, fmt.Errorf("export: clock: %w", err)
	}
	return p, nil
}

// after reads up to n changes of kind positioned after p, stamped no later than until
// and numbered no higher than h, in order. It is one range scan of export_changes_walk.
func after(ctx context.Context, q store.Queryer, acct ids.Account, kind Kind, p Pos, until, h int64, n int) ([]Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT row_id, ts, seq FROM export_changes
		WHERE account_id = ? AND kind = ? AND (ts, seq) > (?, ?) AND ts <= ? AND seq <= ?
		ORDER BY ts, seq LIMIT ?`, acct, int(kind), p.TS, p.Seq, until, h, n)
	if err != nil {
		return nil, fmt.Errorf("export: page: %w", err)
	}
	return scanChanges(rows)
}

// at reads every change of kind stamped in the second ts and numbered no higher than
// h, in order.
func at(ctx context.Context, q store.Queryer, acct ids.Account, kind Kind, ts, h int64) ([]Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT row_id, ts, seq FROM export_changes
		WHERE account_id = ? AND kind = ? AND ts = ? AND seq <= ? ORDER BY seq`, acct, int(kind), ts, h)
	if err != nil {
		return nil, fmt.Errorf("export: second: %w", err)
	}
	return scanChanges(rows)
}

func scanChanges(rows interface {
	Next() bool
	Scan(...any) error
	Close() error
	Err() error
}) ([]Change, error) {
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.ID, &c.Pos.TS, &c.Pos.Seq); err != nil {
			return nil, fmt.Errorf("export: scan: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TimePage is a page of a time-based export.
type TimePage struct {
	Changes []Change
	// EndTime is the start_time of the next request: no change not on this page or an
	// earlier one is stamped before it.
	EndTime     int64
	EndOfStream bool
}

// Time reads the page of a time-based export starting at start (inclusive).
//
// A page holds up to perPage changes; the next one starts at the timestamp of the
// last, so the changes of that second come again (boundary duplicates, as Zendesk's
// do). When a whole page falls in one second the page holds every change of that
// second instead, so that the walk moves on.
func (e *Exporter) Time(ctx context.Context, acct ids.Account, kind Kind, start int64, perPage int) (TimePage, error) {
	q := e.db.R()
	until := e.Until()
	// The horizon first: whatever is not visible after this read is stamped at or
	// after it, and the page reads only what is numbered below it.
	c, err := e.horizon(ctx, acct)
	if err != nil {
		return TimePage{}, err
	}
	rows, err := after(ctx, q, acct, kind, Pos{TS: start}, until, c.Seq, perPage+1)
	if err != nil {
		return TimePage{}, err
	}
	if len(rows) <= perPage {
		// Everything up to the horizon is on this page. The next may start at the
		// horizon's second (or just past the lag), since nothing unseen can be stamped
		// below either.
		end := max(start, min(c.TS, until+1))
		if len(rows) > 0 {
			end = max(end, rows[len(rows)-1].Pos.TS)
		}
		return TimePage{Changes: rows, EndTime: end, EndOfStream: true}, nil
	}
	page := rows[:perPage]
	last := page[len(page)-1].Pos.TS
	if page[0].Pos.TS < last {
		return TimePage{Changes: page, EndTime: last}, nil
	}
	// The whole page is one second: take all of it, and move past it when nothing can
	// still be stamped in it: the horizon had left it, or a later change below the
	// horizon was visible, before it was read (so every change of the second had
	// committed, and the read sees them all), or the second has settled. Only what was
	// read before the second may decide: a later read can see a commit that the
	// second's read did not.
	closed := last < c.TS || rows[perPage].Pos.TS > last || e.now().Add(-e.settle).Unix() > last
	page, err = at(ctx, q, acct, kind, last, c.Seq)
	if err != nil {
		return TimePage{}, err
	}
	more, err := after(ctx, q, acct, kind, Pos{TS: last + 1}, until, c.Seq, 1)
	if err != nil {
		return TimePage{}, err
	}
	end := last
	if closed {
		end = last + 1
	}
	return TimePage{Changes: page, EndTime: end, EndOfStream: len(more) == 0}, nil
}

// CursorPage is a page of a cursor-based export.
type CursorPage struct {
	Changes []Change
	// After is where the next page starts (the last change's position, or the
	// request's own when the page is empty).
	After       Pos
	EndOfStream bool
}

// StartPos is the position a cursor-based export started at start_time begins after.
func StartPos(start int64) Pos { return Pos{TS: start} }

// Cursor reads the page of a cursor-based export after p.
func (e *Exporter) Cursor(ctx context.Context, acct ids.Account, kind Kind, p Pos, perPage int) (CursorPage, error) {
	c, err := e.horizon(ctx, acct)
	if err != nil {
		return CursorPage{}, err
	}
	rows, err := after(ctx, e.db.R(), acct, kind, p, e.Until(), c.Seq, perPage+1)
	if err != nil {
		return CursorPage{}, err
	}
	out := CursorPage{Changes: rows, After: p, EndOfStream: len(rows) <= perPage}
	if !out.EndOfStream {
		out.Changes = rows[:perPage]
	}
	if n := len(out.Changes); n > 0 {
		out.After = out.Changes[n-1].Pos
	}
	return out, nil
}

// Cursors are base64url of ts, seq (8 bytes each, big-endian), kind (1 byte) and the
// first 16 bytes of an HMAC-SHA256 of those and the account, keyed with the account's
// export key. A cursor edited, made up, or taken to another account or export is refused.
const (
	cursorBody = 17
	cursorMAC  = 16
)

var errCursor = errs.E(errs.BadRequest, "The cursor is not valid: pass after_cursor from the previous page unchanged")

// EncodeCursor returns the cursor for position p of the account's export of kind.
func (e *Exporter) EncodeCursor(ctx context.Context, acct ids.Account, kind Kind, p Pos) (string, error) {
	key, err := e.key(ctx, acct)
	if err != nil {
		return "", err
	}
	b := make([]byte, cursorBody, cursorBody+cursorMAC)
	binary.BigEndian.PutUint64(b[0:], uint64(p.TS))
	binary.BigEndian.PutUint64(b[8:], uint64(p.Seq))
	b[16] = byte(kind)
	b = append(b, mac(key, acct, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeCursor returns the position a cursor of the account's export of kind names.
func (e *Exporter) DecodeCursor(ctx context.Context, acct ids.Account, kind Kind, s string) (Pos, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorBody+cursorMAC {
		return Pos{}, errCursor
	}
	key, err := e.key(ctx, acct)
	if err != nil {
		return Pos{}, err
	}
	if !hmac.Equal(b[cursorBody:], mac(key, acct, b[:cursorBody])) || Kind(b[16]) != kind {
		return Pos{}, errCursor
	}
	p := Pos{TS: int64(binary.BigEndian.Uint64(b[0:])), Seq: int64(binary.BigEndian.Uint64(b[8:]))}
	if p.TS < 0 || p.Seq < 0 {
		return Pos{}, errCursor
	}
	return p, nil
}

func mac(key []byte, acct ids.Account, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	var a [8]byte
	binary.BigEndian.PutUint64(a[:], uint64(acct))
	h.Write(a[:])
	h.Write(body)
	return h.Sum(nil)[:cursorMAC]
}

// key returns the account's cursor key, creating it on first use. The key lives in the
// database so that every server process accepts the cursors of the others.
func (e *Exporter) key(ctx context.Context, acct ids.Account) ([]byte, error) {
	if k, ok := e.keys.Load(acct); ok {
		return k.([]byte), nil
	}
	var secret string
	err := e.db.R().QueryRowContext(ctx, `SELECT secret FROM export_keys WHERE account_id = ?`, acct).Scan(&secret)
	if errors.Is(err, store.ErrNoRows) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("export: key: %w", err)
		}
		err = e.db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO export_keys (account_id, secret) VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING`, acct, hex.EncodeToString(fresh)); err != nil {
				return err
			}
			// Another process may have created it first: use whichever is stored.
			return tx.QueryRowContext(ctx, `SELECT secret FROM export_keys WHERE account_id = ?`, acct).Scan(&secret)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("export: key: %w", err)
	}
	k, err := hex.DecodeString(secret)
	if err != nil {
		return nil, fmt.Errorf("export: key of account %d: %w", acct, err)
	}
	e.keys.Store(acct, k)
	return k, nil
}
