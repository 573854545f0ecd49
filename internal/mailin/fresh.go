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
type freshRows struct {
	mu    sync.Mutex
	rows  map[int64]*inboxRow
	bytes int
}

// Bounds of the handoff: a worker far behind (no back-pressure) reads its messages.
const (
	maxFreshRows  = 256
	maxFreshBytes = 8 << 20
)

// put hands row over, unless the handoff is full.
func (f *freshRows) put(row *inboxRow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.rows) >= maxFreshRows || f.bytes+len(row.Raw) > maxFreshBytes {
		return
	}
	if f.rows == nil {
		f.rows = map[int64]*inboxRow{}
	}
	f.rows[row.ID] = row
	f.bytes += len(row.Raw)
}

// take returns and forgets the row with id, nil when it was not handed over.
func (f *freshRows) take(id int64) *inboxRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rows[id]
	if r != nil {
		delete(f.rows, id)
		f.bytes -= len(r.Raw)
	}
	return r
}

// drop forgets the rows with ids (their transaction did not commit).
func (f *freshRows) drop(ids ...int64) {
	for _, id := range ids {
		f.take(id)
	}
}
