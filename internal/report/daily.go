package report

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/sla"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Version is the definition of the daily aggregates: an account built at another
// version is rebuilt at startup (Backfill).
const Version = 1

// Location is the time zone an account's report days are in: the zone of its first
// business-hours schedule (the one SLA policies count in), UTC when it has none.
func Location(ctx context.Context, q store.Queryer, acct ids.Account) (*time.Location, error) {
	list, err := sla.Schedules(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 || list[0].TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := sla.LoadZone(list[0].TimeZone)
	if err != nil {
		return time.UTC, nil // a zone this build does not know: UTC, as the schedule checks reject it
	}
	return loc, nil
}

// state is an account's report_state row.
type state struct {
	version int64
	zone    string
}

// readState reads the account's state (ok false: not built).
func readState(ctx context.Context, q store.Queryer, acct ids.Account) (state, bool, error) {
	var st state
	err := q.QueryRowContext(ctx, `SELECT version, time_zone FROM report_state WHERE account_id = ?`, acct).Scan(&st.version, &st.zone)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("report: state: %w", err)
	}
	return st, true, nil
}

// states caches report_state for ticket writes on SQLite, behind the account's settings
// version (report_state is one of the settings it follows).
var states store.SettingsCache[stateRead]

type stateRead struct {
	st state
	ok bool
}

// stateForWrite is readState for a ticket write. PostgreSQL reads the row at every write
// under the account's shared advisory lock (report_state_for_write, migration 0064),
// which Rebuild takes exclusively (lockRebuild): that keeps a rebuild and the writes
// apart without a row lock on the account's state row. SQLite, with one writer, needs
// no lock and takes it from the cache.
func stateForWrite(ctx context.Context, tx *store.Tx, acct ids.Account) (state, bool, error) {
	if tx.D() == store.Postgres {
		var st state
		err := tx.QueryRowContext(ctx, `SELECT version, time_zone FROM report_state_for_write(?)`, acct).Scan(&st.version, &st.zone)
		if errors.Is(err, sql.ErrNoRows) {
			return st, false, nil
		}
		if err != nil {
			return st, false, fmt.Errorf("report: state: %w", err)
		}
		return st, true, nil
	}
	r, err := states.Get(ctx, tx, int64(acct), func() (stateRead, error) {
		st, ok, err := readState(ctx, tx, acct)
		return stateRead{st, ok}, err
	})
	return r.st, r.ok, err
}

func writeState(ctx context.Context, tx *store.Tx, acct ids.Account, zone string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO report_state (account_id, version, time_zone, built_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET version = excluded.version, time_zone = excluded.time_zone, built_at = excluded.built_at`,
		acct, Version, zone, store.Micros(store.Now()))
	if err != nil {
		return fmt.Errorf("report: state: %w", err)
	}
	return nil
}

// AfterWrite is the ticket write path's after-hook that keeps the daily aggregates: it
// computes the written ticket's facts from the rows as written (the ticket, its tags,
// its SLA targets, its rating, its shares), and adds the difference from the facts
// recorded at its last write, in the write's transaction. It must run after the hooks
// that write those rows (sharing, SLA). An account not built yet (Backfill) is left
// alone, but for a new account, whose first ticket this is: its aggregates start here.
//
// The ticket's row and tags are taken from the change, as the write stored them (the
// hooks before this one change no column the facts read), not read again: with the
// facts recorded, one statement reads what the other hooks wrote (writtenRow).
func AfterWrite(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
	bare, err := bareCreate(ctx, tx, ch)
	if err != nil {
		return err
	}
	return refreshTicket(ctx, tx, ch.Account.ID, ch.Ticket.ID, ch.Ticket, ch.Created, bare)
}

// bareCreate reports whether the change created its ticket with nothing that the facts
// read besides the ticket's row and tags: no satisfaction rating given with it, no share
// started by it (the sharing hook inserts a share for each agreement it starts, and no
// other), and no SLA target, as the account never had an SLA policy (the SLA hook
// writes targets only from policies; store.Uses, at the write's settings version, which
// the SLA hook read too). Such a ticket has no targets, rating or shares to read.
func bareCreate(ctx context.Context, tx *store.Tx, ch *ticket.Change) (bool, error) {
	if !ch.Created || ch.Rated() {
		return false, nil
	}
	if started, _ := ch.Sharing(); len(started) > 0 {
		return false, nil
	}
	sla, err := tx.Uses(ctx, int64(ch.Account.ID), store.UsesSLA)
	return err == nil && !sla, err
}

// Refresh brings one ticket's part of the aggregates up to date with its rows, in tx.
// The write path's hook calls it; so must code that changes what the reports count of a
// ticket after the ticket's write (the sharing protocol records a received ticket's share
// once the ticket is written).
func Refresh(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Ticket) error {
	return refreshTicket(ctx, tx, acct, id, nil, false, false)
}

// refreshTicket is Refresh; written, when not nil, is the ticket as its write stored it:
// its row and tags are taken from it rather than read again. created says the write
// created it: no facts are recorded for it yet; bare that it has no SLA target, rating
// or share either (bareCreate).
func refreshTicket(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Ticket, written *ticket.Ticket, created, bare bool) error {
	st, ok, err := stateForWrite(ctx, tx, acct)
	if err != nil {
		return err
	}
	if !ok {
		var other int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE account_id = ? AND id <> ? LIMIT 1) x`, acct, id).Scan(&other); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if other > 0 {
			return nil // built by Backfill
		}
		loc, err := Location(ctx, tx, acct)
		if err != nil {
			return err
		}
		if err := writeState(ctx, tx, acct, loc.String()); err != nil {
			return err
		}
		st = state{version: Version, zone: loc.String()}
	}
	loc, err := sla.LoadZone(st.zone)
	if err != nil {
		return fmt.Errorf("report: time zone %q: %w", st.zone, err)
	}
	return refresh(ctx, tx, acct, id, loc, written, created, bare)
}

// refresh brings one ticket's contribution to the aggregates up to date.
func refresh(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Ticket, loc *time.Location, written *ticket.Ticket, created, bare bool) error {
	var row *ticketRow
	var oldText string
	var err error
	if written == nil || !created {
		// The facts recorded are read: those the batch left to commit first (reportLater).
		if err := tx.RunLater(ctx); err != nil {
			return err
		}
	}
	if written != nil {
		if row, oldText, err = writtenRow(ctx, tx, acct, written, !created, bare); err != nil {
			return err
		}
	} else {
		rows, err := loadTickets(ctx, tx, acct, id, id)
		if err != nil {
			return err
		}
		row = rows[id]
		err = tx.QueryRowContext(ctx, `SELECT facts FROM report_ticket_facts WHERE account_id = ? AND ticket_id = ?`, acct, id).Scan(&oldText)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("report: ticket facts: %w", err)
		}
	}
	now := factsOf(row, loc)
	newText := ""
	if now != nil {
		if newText, err = encodeFacts(now); err != nil {
			return err
		}
	}
	if newText == oldText {
		return nil
	}
	old, err := decodeFacts(oldText)
	if err != nil {
		return err
	}
	delta := map[fullKey]int64{}
	old.add(delta, -1)
	now.add(delta, +1)
	// On PostgreSQL the differences are inserted as deltas, and folded into the totals
	// later (Fold); both inserts ride with the write's next statement (store.Tx.Ride:
	// in this write's path, the mail's or the live event's), not in round trips of
	// their own. SQLite adds them to the totals, and records the facts, before the
	// write commits, in one statement each for all the writes of its group-commit
	// batch (reportLater).
	if tx.D() != store.Postgres {
		tx.Later(reportKey{}, newReportLater).(*reportLater).add(acct, id, delta, newText)
		return nil
	}
	deltas, dargs, n, err := insertDeltas(acct, delta)
	if err != nil {
		return err
	}
	if deltas != "" {
		if err := tx.Ride(ctx, deltas, dargs...); err != nil {
			return fmt.Errorf("report: daily counts: %w", err)
		}
		queued(tx.DB(), n)
	}
	switch {
	case newText == "":
		err = tx.Ride(ctx, `DELETE FROM report_ticket_facts WHERE account_id = ? AND ticket_id = ?`, acct, id)
	case created:
		// A new ticket has no facts row (oldText is empty): a plain INSERT, where ON
		// CONFLICT would make the row a speculative insertion (a probe of the key, a
		// lock, a WAL record confirming the row).
		err = tx.Ride(ctx, `INSERT INTO report_ticket_facts (account_id, ticket_id, facts) VALUES (?, ?, ?)`, acct, id, newText)
	default:
		err = tx.Ride(ctx, `INSERT INTO report_ticket_facts (account_id, ticket_id, facts) VALUES (?, ?, ?)
			ON CONFLICT (account_id, ticket_id) DO UPDATE SET facts = excluded.facts`, acct, id, newText)
	}
	if err != nil {
		return fmt.Errorf("report: ticket facts: %w", err)
	}
	return nil
}

// sortedKeys orders the rows to change, so that two writes always lock them in the same
// order (no deadlock on PostgreSQL).
func sortedKeys(delta map[fullKey]int64) []fullKey {
	keys := slices.Collect(maps.Keys(delta))
	slices.SortFunc(keys, func(a, b fullKey) int {
		return cmp.Or(strings.Compare(a.Dim, b.Dim), cmp.Compare(a.ID, b.ID), strings.Compare(a.Kind, b.Kind), cmp.Compare(a.Day, b.Day),
			cmp.Compare(a.K1, b.K1), cmp.Compare(a.K2, b.K2), strings.Compare(a.Name, b.Name))
	})
	return keys
}

// reportKey is the key of the reports' work left to commit (store.Tx.Later).
type reportKey struct{}

// reportLater holds what the writes of one SQLite transaction (a group-commit batch)
// change in the reports' tables, and writes it before the transaction commits: the
// differences to the daily counts, summed per account and row, and each written
// ticket's facts, the last recorded for it. The writes of a batch count the same rows
// (the day's created tickets, by channel, by group...), which then take one upsert per
// batch instead of one per write, and their facts one insert. What reads these tables
// in a write (the facts recorded at a ticket's last write, Rebuild, Build) runs the
// work first.
type reportLater struct {
	accts []ids.Account
	sums  map[ids.Account]map[fullKey]int64
	order []factsKey
	facts map[factsKey]string // "": none (the ticket is no longer counted)
}

type factsKey struct {
	acct ids.Account
	id   ids.Ticket
}

func newReportLater() store.Later {
	return &reportLater{sums: map[ids.Account]map[fullKey]int64{}, facts: map[factsKey]string{}}
}

// add adds a ticket's differences to the counts left, and leaves its facts as text.
func (w *reportLater) add(acct ids.Account, id ids.Ticket, delta map[fullKey]int64, text string) {
	sum, ok := w.sums[acct]
	if !ok {
		sum = make(map[fullKey]int64, len(delta))
		w.sums[acct] = sum
		w.accts = append(w.accts, acct)
	}
	for k, n := range delta {
		sum[k] += n
	}
	k := factsKey{acct, id}
	if _, ok := w.facts[k]; !ok {
		w.order = append(w.order, k)
	}
	w.facts[k] = text
}

// factsChunk is how many report_ticket_facts rows one statement writes (3 parameters a
// row).
const factsChunk = 500

// factsRows records tickets' facts in report_ticket_facts, factsChunk rows a statement,
// replacing those recorded.
type factsRows struct {
	vals []string
	args []any
}

// add records a ticket's facts, writing the rows held when they make a chunk.
func (r *factsRows) add(ctx context.Context, tx *store.Tx, acct ids.Account, id ids.Ticket, text string) error {
	r.vals, r.args = append(r.vals, "(?, ?, ?)"), append(r.args, acct, id, text)
	if len(r.vals) < factsChunk {
		return nil
	}
	return r.flush(ctx, tx)
}

// flush writes the rows held.
func (r *factsRows) flush(ctx context.Context, tx *store.Tx) error {
	if len(r.vals) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO report_ticket_facts (account_id, ticket_id, facts) VALUES `+strings.Join(r.vals, ", ")+`
		ON CONFLICT (account_id, ticket_id) DO UPDATE SET facts = excluded.facts`, r.args...)
	r.vals, r.args = r.vals[:0], r.args[:0]
	if err != nil {
		return fmt.Errorf("report: ticket facts: %w", err)
	}
	return nil
}

// Run adds the differences to report_daily, account by account in the order they
// came, and records the tickets' facts.
func (w *reportLater) Run(ctx context.Context, tx *store.Tx) error {
	for _, acct := range w.accts {
		if err := upsertCounts(ctx, tx, acct, w.sums[acct]); err != nil {
			return err
		}
	}
	var rows factsRows
	for _, k := range w.order {
		text := w.facts[k]
		if text == "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM report_ticket_facts WHERE account_id = ? AND ticket_id = ?`, k.acct, k.id); err != nil {
				return fmt.Errorf("report: ticket facts: %w", err)
			}
			continue
		}
		if err := rows.add(ctx, tx, k.acct, k.id, text); err != nil {
			return err
		}
	}
	return rows.flush(ctx, tx)
}

// countsChunk is how many report_daily rows one statement writes (9 parameters a row:
// far below either database's limit on parameters).
const countsChunk = 500

// upsertCounts adds the non-zero deltas to report_daily now: one multi-row upsert per
// countsChunk rows rather than one statement per row (a ticket's write changes 5 to 20
// rows), the rows in sortedKeys order.
func upsertCounts(ctx context.Context, tx *store.Tx, acct ids.Account, delta map[fullKey]int64) error {
	keys := slices.DeleteFunc(sortedKeys(delta), func(k fullKey) bool { return delta[k] == 0 })
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), countsChunk)]
		keys = keys[len(chunk):]
		args := make([]any, 0, 9*len(chunk))
		for _, k := range chunk {
			args = append(args, acct, k.Dim, k.ID, k.Kind, k.Day, k.K1, k.K2, k.Name, delta[k])
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO report_daily (account_id, dim, dim_id, kind, day, k1, k2, name, n) VALUES `+
			strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)-1)+`(?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name) DO UPDATE SET n = report_daily.n + excluded.n`, args...)
		if err != nil {
			return fmt.Errorf("report: daily counts: %w", err)
		}
	}
	return nil
}

// deltaRow is one count difference of a write's row of report_daily_deltas (JSON,
// migration 0084): every field present, as deltasExpand reads them by name.
type deltaRow struct {
	Dim  string `json:"d"`
	ID   int64  `json:"i"`
	Kind string `json:"k"`
	Day  int64  `json:"y"`
	K1   int64  `json:"a"`
	K2   int64  `json:"b"`
	Name string `json:"m"`
	N    int64  `json:"n"`
}

// A SELECT of the count differences held by a table's rows (report_daily_deltas, or
// rows deleted from it), one row a difference, in report_daily's columns:
// deltasSelect + table + deltasExpand.
const (
	deltasSelect = `SELECT w.account_id, c.d AS dim, c.i AS dim_id, c.k AS kind, c.y AS day, c.a AS k1, c.b AS k2, c.m AS name, c.n AS n FROM `
	deltasExpand = ` w, json_to_recordset(w.deltas) AS c(d TEXT, i BIGINT, k TEXT, y BIGINT, a BIGINT, b BIGINT, m TEXT, n BIGINT)`
)

// insertDeltas is the statement (with its arguments) that inserts the non-zero deltas
// into report_daily_deltas (PostgreSQL, migrations 0064 and 0084), and how many
// differences it holds; "" when there are none. refresh runs it with the facts' write.
// One plain insert of one row for all of them: no row that another write shares is
// written or locked, at the statement or at commit.
func insertDeltas(acct ids.Account, delta map[fullKey]int64) (string, []any, int, error) {
	var rows []deltaRow
	for _, k := range sortedKeys(delta) {
		if n := delta[k]; n != 0 {
			rows = append(rows, deltaRow{k.Dim, k.ID, k.Kind, k.Day, k.K1, k.K2, k.Name, n})
		}
	}
	if len(rows) == 0 {
		return "", nil, 0, nil
	}
	text, err := json.Marshal(rows)
	if err != nil {
		return "", nil, 0, fmt.Errorf("report: daily counts: %w", err)
	}
	return `INSERT INTO report_daily_deltas (account_id, deltas) VALUES (?, ?)`, []any{acct, string(text)}, len(rows), nil
}

// rebuildChunk is how many ticket ids a rebuild reads at a time.
const rebuildChunk = 20000

// Rebuild computes an account's aggregates afresh from its rows, in the account's
// current report time zone, in one transaction (writes of the account's tickets wait
// for it on PostgreSQL; SQLite has one writer anyway). It returns how many tickets it
// read.
func Rebuild(ctx context.Context, db *store.DB, acct ids.Account) (int, error) {
	var n int
	err := db.Write(ctx, func(tx *store.Tx) error {
		n = 0
		// The counts that writes before this one in its batch left to commit go in
		// first: the delete below takes them with the rest (reportLater).
		if err := tx.RunLater(ctx); err != nil {
			return fmt.Errorf("report: rebuild: %w", err)
		}
		loc, err := Location(ctx, tx, acct)
		if err != nil {
			return err
		}
		// Take the account's lock exclusively first (PostgreSQL): writes in progress finish
		// before, and later ones wait until this commits, then add their difference to
		// what it built.
		if tx.D() == store.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('report_state'), hashint8(?))`, acct); err != nil {
				return fmt.Errorf("report: rebuild: %w", err)
			}
		}
		if err := writeState(ctx, tx, acct, loc.String()); err != nil {
			return err
		}
		// The account's deltas go before its totals: a fold that is moving some of them
		// commits first (this delete waits for it), so that the totals deleted next
		// include what it added, and no later fold finds any of them.
		tables := []string{DailyTable(tx.D()), "report_ticket_facts"}
		if tx.D() == store.Postgres {
			tables = append([]string{"report_daily_deltas"}, tables...)
		}
		for _, table := range tables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE account_id = ?`, acct); err != nil {
				return fmt.Errorf("report: rebuild: %w", err)
			}
		}
		var top int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tickets WHERE account_id = ?`, acct).Scan(&top); err != nil {
			return fmt.Errorf("report: rebuild: %w", err)
		}
		sums := map[fullKey]int64{}
		for lo := int64(1); lo <= top; lo += rebuildChunk {
			rows, err := loadTickets(ctx, tx, acct, ids.Ticket(lo), ids.Ticket(lo+rebuildChunk-1))
			if err != nil {
				return err
			}
			var facts factsRows
			for _, id := range slices.Sorted(maps.Keys(rows)) {
				f := factsOf(rows[id], loc)
				if f == nil {
					continue
				}
				n++
				f.add(sums, 1)
				text, err := encodeFacts(f)
				if err != nil {
					return err
				}
				if err := facts.add(ctx, tx, acct, id, text); err != nil {
					return fmt.Errorf("report: rebuild: %w", err)
				}
			}
			if err := facts.flush(ctx, tx); err != nil {
				return fmt.Errorf("report: rebuild: %w", err)
			}
		}
		// The account's rows are this transaction's until it commits: written at once,
		// on either database.
		return upsertCounts(ctx, tx, acct, sums)
	})
	return n, err
}

// Backfill builds the aggregates of every account that has none, or whose aggregates
// are of another version or in another time zone than the account's now (its first
// schedule's zone changed). The server runs it at startup (`tandem serve`), and
// `tandem reports-rebuild` runs it on demand. Until an account is built its reports are
// computed from rows (exact, slower).
func Backfill(ctx context.Context, db *store.DB, log *slog.Logger) error {
	var accts []ids.Account
	err := each(ctx, db.R(), `SELECT id FROM accounts ORDER BY id`, nil, func(sc store.Row) error {
		var id ids.Account
		if err := sc.Scan(&id); err != nil {
			return err
		}
		accts = append(accts, id)
		return nil
	})
	if err != nil {
		return err
	}
	for _, acct := range accts {
		fresh, err := Fresh(ctx, db.R(), acct)
		if err != nil {
			return err
		}
		if fresh {
			continue
		}
		start := time.Now()
		n, err := Rebuild(ctx, db, acct)
		if err != nil {
			return fmt.Errorf("report: backfill account %d: %w", acct, err)
		}
		if log != nil {
			log.Info("report aggregates built", "account", acct, "tickets", n, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

// Fresh reports whether an account's aggregates are built, at this version, in its
// current report time zone.
func Fresh(ctx context.Context, q store.Queryer, acct ids.Account) (bool, error) {
	st, ok, err := readState(ctx, q, acct)
	if err != nil || !ok {
		return false, err
	}
	loc, err := Location(ctx, q, acct)
	if err != nil {
		return false, err
	}
	return st.version == Version && st.zone == loc.String(), nil
}
