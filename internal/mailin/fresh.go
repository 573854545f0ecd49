package mailin

import "sync"

// freshRows are the inbox rows the listener of this process has just stored, handed to
// the worker so that it does not read back what it was given a moment before (a read of
// the message, up to inRowLimit bytes, for every message). SQLite only: the process is
// the only one, so every row stored is processed here. A row is put in the transaction
// that inserts it, before it commits (no claim sees it before then), and taken back if
// that transaction does not commit; the worker takes it when it processes the message
// the first time (a retry reads the row, with its attempts). A full handoff keeps
// nothing more: those messages are read, as before.
//
// A row id whose transaction did not commit may be given to another row (SQLite reuses
// it) before the failed write has taken its row back: putting a row replaces whatever
// was kept under its id, full or not, and the worker takes a row only when it is the
// one it claimed (same account, sender and thread key), else it reads the row.
type freshRows struct {
	mu    sync.Mutex
	rows  map[int64]freshRow
	bytes int
}

// freshRow is a row handed over, with the thread key the listener stored with it.
type freshRow struct {
	row    *inboxRow
	thread string
}

// Bounds of the handoff: a worker far behind (no back-pressure) reads its messages.
const (
	maxFreshRows  = 256
	maxFreshBytes = 8 << 20
)

// put hands row, stored with thread key thread, over, unless the handoff is full; what
// was kept under its id is forgotten either way.
func (f *freshRows) put(row *inboxRow, thread string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forget(row.ID)
	if len(f.rows) >= maxFreshRows || f.bytes+len(row.Raw) > maxFreshBytes {
		return
	}
	if f.rows == nil {
		f.rows = map[int64]freshRow{}
	}
	f.rows[row.ID] = freshRow{row: row, thread: thread}
	f.bytes += len(row.Raw)
}

// take returns and forgets the row of the claimed message c, nil when it was not
// handed over or what was kept under its id is not that message.
func (f *freshRows) take(c claimed) *inboxRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[c.id]
	f.forget(c.id)
	if !ok || r.row.AccountID != c.acct || r.row.MailFrom != c.from || r.thread != c.thread {
		return nil
	}
	return r.row
}

// drop forgets the rows with ids (their transaction did not commit).
func (f *freshRows) drop(ids ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.forget(id)
	}
}

// forget removes what is kept under id (f.mu held).
func (f *freshRows) forget(id int64) {
	if r, ok := f.rows[id]; ok {
		delete(f.rows, id)
		f.bytes -= len(r.row.Raw)
	}
}
