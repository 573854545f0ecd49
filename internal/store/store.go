// Package store opens Tandem's database (SQLite embedded, or PostgreSQL for scale-out),
// applies the embedded migrations, and gives the rest of the code a small, portable
// surface over database/sql: queries are written with ? placeholders and rebound for
// PostgreSQL in one place, and transactions are explicit values passed down to helpers.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"modernc.org/sqlite"             // registers the "sqlite" driver; its Error carries the result code
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL dialect of a database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open Tandem database. On SQLite it holds one writer connection (so write
// transactions queue in Go, never on SQLITE_BUSY) and a pool of read-only connections;
// on PostgreSQL both are the same pool.
type DB struct {
	Dialect Dialect
	w       *sql.DB
	r       *sql.DB
	rebinds sync.Map // query string -> rebound query string (PostgreSQL)
	onces   sync.Map // key -> *sync.Once (Once)
	// wstmts and rstmts cache prepared statements on SQLite (nil on PostgreSQL).
	wstmts, rstmts *stmtCache
	// wq feeds the group-commit goroutine on SQLite (nil on PostgreSQL).
	wq    chan *writeReq
	wdone chan struct{}
	// guarded counts down the batches the committer still runs with a savepoint per
	// write (group.go); only the committer goroutine uses it.
	guarded int
	// ftsPending: the schema notes rows to full-text index at commit (ftsqueue.go).
	ftsPending atomic.Bool
	// commits and reads count write transactions and read queries (SQLite), for the
	// trimmer (trim.go); trimStop and trimDone stop it. written counts the statements
	// run on the writer (SQLite; the group commit's savepoints included), for benchmarks.
	commits, reads, written atomic.Int64
	// alone counts the group commit's batches of a single write (group.go).
	alone              atomic.Int64
	trimStop, trimDone chan struct{}
	// retries counts transactions WriteRetry ran again (retry.go).
	retries atomic.Int64
	// heavy holds a token for each long read running (ReadHeavy; SQLite only, nil on
	// PostgreSQL).
	heavy chan struct{}
}

// Options configures Open.
type Options struct {
	// URL is either a postgres:// URL or empty for SQLite.
	URL string
	// Path is the SQLite file (used when URL is empty).
	Path string
	// MaxConns bounds the PostgreSQL pool (default 20).
	MaxConns int
}

// Open opens (creating if needed) the database and applies pending migrations.
func Open(ctx context.Context, opt Options) (*DB, error) {
	db, err := open(opt)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenNoMigrate opens the database without applying migrations.
func OpenNoMigrate(opt Options) (*DB, error) { return open(opt) }

func open(opt Options) (*DB, error) {
	if strings.HasPrefix(opt.URL, "postgres://") || strings.HasPrefix(opt.URL, "postgresql://") {
		cfg, err := pgx.ParseConfig(opt.URL)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		// JIT compilation off unless the URL asks for it (jit=on): PostgreSQL compiles
		// any statement whose estimated cost passes jit_above_cost, which a search's
		// probe of a common phrase does at a million tickets, and spent more time
		// compiling than running it (41 ms with JIT, 19 without; docs/BENCHMARKS.md,
		// quiet window of 2026-12-07). Tandem's statements are short.
		if _, ok := cfg.RuntimeParams["jit"]; !ok {
			cfg.RuntimeParams["jit"] = "off"
		}
		pool := stdlib.OpenDB(*cfg)
		n := opt.MaxConns
		if n <= 0 {
			n = 20
		}
		pool.SetMaxOpenConns(n)
		pool.SetMaxIdleConns(n)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := pool.PingContext(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("store: connect postgres: %w", err)
		}
		return &DB{Dialect: Postgres, w: pool, r: pool}, nil
	}
	if opt.URL != "" && !strings.HasPrefix(opt.URL, "sqlite:") {
		return nil, fmt.Errorf("store: unsupported database URL %q (want postgres://... or sqlite:PATH)", opt.URL)
	}
	path := opt.Path
	if p, ok := strings.CutPrefix(opt.URL, "sqlite:"); ok && p != "" {
		path = p
	}
	if path == "" {
		return nil, errors.New("store: no SQLite path given")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create data dir: %w", err)
		}
	}
	// Memory (issue 16): SQLite's page caches live outside the Go heap (GOMEMLIMIT does not
	// see them) and a connection keeps its cache while it lives. A cached page costs
	// about twice cache_size's reckoning: SQLite's allocator here rounds each page with
	// its header (a little over 4 KB) up to an 8 KB slot, so 8,000 KB of cache_size
	// held 18 MB. The writer's cache (writerCacheKiB) is emptied when no write has
	// committed for trimEvery (trimmer below); each reader keeps readerCacheKiB (the
	// operating system caches the file for all of them, and a reader's cache is dropped
	// anyway whenever another connection has written since its last read); readers idle
	// for readerIdle are closed, which frees their caches and statements, and so are all
	// idle readers once the database is quiet (trimmer). There is no
	// soft_heap_limit: this build of SQLite keeps no memory statistics
	// (SQLITE_DEFAULT_MEMSTATUS=0), and without them SQLite ignores the limit.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+fmt.Sprintf("&_pragma=cache_size(-%d)", writerCacheKiB)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer must exist (and have switched the file to WAL) before readers open it.
	if _, err := w.Exec("SELECT 1"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// Planner statistics: without them SQLite may answer ORDER BY ... LIMIT by walking
	// an ordered index through a whole account. Optimize (SQLite's recommended form for
	// long-lived connections) refreshes them where they are missing or stale; Optimize
	// is also run periodically by the server.
	if _, err := w.Exec("PRAGMA optimize=0x10002"); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: optimize sqlite %s: %w", path, err)
	}
	// Not those of tables still nearly empty, though (stats.go).
	if err := dropSmallStats(context.Background(), w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+fmt.Sprintf("&_pragma=cache_size(-%d)", readerCacheKiB)+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(readers())
	r.SetMaxIdleConns(readers())
	r.SetConnMaxIdleTime(readerIdle)
	r.SetConnMaxLifetime(0)
	db := &DB{Dialect: SQLite, w: w, r: r, wstmts: newStmtCache(w), rstmts: newStmtCache(r), heavy: make(chan struct{}, heavyReaders())}
	if err := db.detectPending(context.Background()); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	db.startCommitter()
	db.startTrimmer()
	return db, nil
}

// The page caches' sizes in KiB (PRAGMA cache_size), how long a read connection may
// stay idle before it is closed, and how long the writer must have been idle before its
// cache is emptied.
const (
	writerCacheKiB = 32000
	readerCacheKiB = 2000
	readerIdle     = 30 * time.Second
	trimEvery      = 10 * time.Second
)

// readers is the size of the read pool: two connections per processor the Go runtime
// uses, at least 4. SQLite's reads are CPU work once the file is in the operating
// system's cache, so more connections than that only queue on the processors while
// each holds its own cache, statements and schema (about 1 MB at least, up to some 15
// MB after large searches).
func readers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// heavyReaders is how many long reads (ReadHeavy: searches) may hold read connections
// at once: half the pool, so that the other half always serves the quick reads (a
// ticket, a list page, the background workers' polls). With every connection held by
// a search of tens of milliseconds, a read of a fraction of a millisecond waited for
// one of them to end.
func heavyReaders() int { return max(1, readers()/2) }

// Close closes every connection.
func (db *DB) Close() error {
	db.stopTrimmer()
	db.stopCommitter()
	if db.wstmts != nil {
		db.wstmts.close()
		db.rstmts.close()
	}
	err := db.w.Close()
	if db.r != db.w {
		if err2 := db.r.Close(); err == nil {
			err = err2
		}
	}
	return err
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// Stats returns the writer pool's statistics.
func (db *DB) Stats() sql.DBStats { return db.w.Stats() }

// Rebind turns ? placeholders into the dialect's form ($1, $2, ... on PostgreSQL).
// Question marks inside single-quoted literals are left alone.
func (db *DB) Rebind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	if v, ok := db.rebinds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	db.rebinds.Store(q, out)
	return out
}

// Row is what a scan function reads: a *sql.Row or the current row of *sql.Rows.
type Row = interface{ Scan(...any) error }

// ScanAll reads every row of a query's result with scan, closing the rows; it takes the
// query's own error so that a call reads ScanAll(q.QueryContext(...)).
func ScanAll[T any](rows *sql.Rows, err error, scan func(Row) (*T, error)) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Each runs query on q and calls row for each row of its result, closing the rows; it
// stops at the first error, row's or the query's.
func Each(ctx context.Context, q Queryer, query string, args []any, row func(Row) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Queryer is what read helpers need: a DB or a transaction.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	// D returns the dialect, for the few queries that differ.
	D() Dialect
}

// Tx is a transaction that rebinds placeholders for its dialect.
type Tx struct {
	tx *sql.Tx
	db *DB
	// stmts is the statement cache of the pool the transaction runs on (SQLite).
	stmts *stmtCache
	// shared marks a transaction that several writes share (group commit): their
	// statements must not be interruptible, see group.go.
	shared bool
	// afterCommit runs after a successful commit (e.g. wake the outbox worker).
	afterCommit []func()
	// bound holds the cached statements bound to this SQL transaction, shared by the
	// writes of a group-commit batch (SQLite; nil on PostgreSQL, which has no stmts).
	bound *boundStmts
	// write marks a write transaction (its AfterCommit functions run).
	write bool
	// pins, pinAcct and pinVersion: the settings version read once for a ticket write
	// (settings.go).
	pins                int
	pinAcct, pinVersion int64
	// later is the work left to run before commit (later.go), shared by the writes of
	// a group-commit batch run without savepoints; nil in a read.
	later *laterWork
	// riding marks a PostgreSQL write transaction, where Ride leaves its statements in
	// riders (ride.go) until the next statement; rideErr is the error of riders run on
	// their own, which fails the transaction.
	riding  bool
	riders  []rider
	rideErr error
}

// boundStmts are prepared statements bound to one SQL transaction. Binding
// (sql.Tx.StmtContext) allocates a statement that lives until the transaction ends, so
// a query run by each write of a batch, or several times in one write, is bound once
// per transaction instead of at every run.
type boundStmts struct {
	mu sync.Mutex
	m  map[*sql.Stmt]*sql.Stmt
}

// newBound returns an empty set of bound statements, or nil where nothing is cached.
func newBound(c *stmtCache) *boundStmts {
	if c == nil {
		return nil
	}
	return &boundStmts{m: map[*sql.Stmt]*sql.Stmt{}}
}

// D returns the dialect.
func (tx *Tx) D() Dialect { return tx.db.Dialect }

// DB is the database the transaction runs on.
func (tx *Tx) DB() *DB { return tx.db }

// ctx is the context statements run with: not cancellable in a shared transaction.
func (tx *Tx) ctx(ctx context.Context) context.Context {
	if tx.shared {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// stmt returns the transaction's handle on the cached prepared statement for q, or nil.
func (tx *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	if tx.stmts == tx.db.wstmts {
		tx.db.written.Add(1)
	}
	st := tx.stmts.get(q)
	if st == nil {
		return nil
	}
	b := tx.bound
	b.mu.Lock()
	defer b.mu.Unlock()
	if bs := b.m[st]; bs != nil {
		return bs
	}
	bs := tx.tx.StmtContext(ctx, st)
	b.m[st] = bs
	return bs
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = tx.ctx(ctx)
	tx.beforeStatement(ctx)
	q = tx.db.Rebind(q)
	if st := tx.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a single-row query in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = tx.ctx(ctx)
	tx.beforeStatement(ctx)
	q = tx.db.Rebind(q)
	if st := tx.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, q, args...)
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = tx.ctx(ctx)
	tx.beforeStatement(ctx)
	q = tx.db.Rebind(q)
	if st := tx.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, q, args...)
}

// beforeStatement runs the riders left (ride.go) before a statement that does not
// carry them. Their error is kept for the transaction (the statement then fails too:
// PostgreSQL runs nothing more in a failed transaction).
func (tx *Tx) beforeStatement(ctx context.Context) {
	if len(tx.riders) > 0 {
		if err := tx.runRiders(ctx); err != nil && tx.rideErr == nil {
			tx.rideErr = err
		}
	}
}

// AfterCommit registers f to run once the transaction has committed.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

// Reader is the read pool with rebinding, usable wherever a Queryer is.
type Reader struct{ db *DB }

// D returns the dialect.
func (r Reader) D() Dialect { return r.db.Dialect }

// QueryContext runs a read query.
func (r Reader) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = r.db.Rebind(q)
	if r.db.rstmts != nil {
		r.db.reads.Add(1)
		if st := r.db.rstmts.prepare(ctx, q); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return r.db.r.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a single-row read query.
func (r Reader) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	q = r.db.Rebind(q)
	if r.db.rstmts != nil {
		r.db.reads.Add(1)
		if st := r.db.rstmts.prepare(ctx, q); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return r.db.r.QueryRowContext(ctx, q, args...)
}

// ExecContext is not allowed on the read pool on SQLite (query_only); it goes to the writer.
func (r Reader) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.db.w.ExecContext(ctx, r.db.Rebind(q), args...)
}

// R returns the read side of the database.
func (db *DB) R() Reader { return Reader{db} }

// Write runs f in a write transaction and commits it if f returns nil.
func (db *DB) Write(ctx context.Context, f func(tx *Tx) error) error {
	if db.wq == nil {
		return db.writeOne(ctx, f)
	}
	req := &writeReq{ctx: ctx, f: f, done: make(chan error, 1)}
	select {
	case db.wq <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

// Queued is how many writes wait for the SQLite committer (group.go): 0 on PostgreSQL,
// whose writes do not queue. Tests read it to know that writes will share a batch.
func (db *DB) Queued() int { return len(db.wq) }

// Read runs f in a read-only snapshot (a consistent view across several queries).
func (db *DB) Read(ctx context.Context, f func(tx *Tx) error) error {
	sqlTx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.Dialect == Postgres})
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	db.reads.Add(1)
	err = f(&Tx{tx: sqlTx, db: db, stmts: db.rstmts, bound: newBound(db.rstmts)})
	_ = sqlTx.Rollback()
	if db.rstmts != nil {
		// Prepare the queries first seen in the snapshot, as the writer does after each
		// transaction: reads that always run in snapshots are parsed once, not each time.
		db.rstmts.flush(context.WithoutCancel(ctx))
	}
	return err
}

// ReadHeavy runs f as Read does, for a read that may take long (a search), in its turn
// (Heavy).
func (db *DB) ReadHeavy(ctx context.Context, f func(tx *Tx) error) error {
	done, err := db.Heavy(ctx)
	if err != nil {
		return err
	}
	defer done()
	return db.Read(ctx, f)
}

// Heavy waits for the turn of a read that may take long (a search) and returns the
// function that ends it: on SQLite at most heavyReaders of them hold read connections
// at once, and the others wait here, not for a connection that a quick read needs (see
// heavyReaders). SQLite's reads are CPU work, so queueing them beyond the processors
// costs them nothing in throughput. On PostgreSQL there is no turn to wait for.
func (db *DB) Heavy(ctx context.Context) (done func(), err error) {
	if db.heavy == nil {
		return func() {}, nil
	}
	select {
	case db.heavy <- struct{}{}:
		return func() { <-db.heavy }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("store: wait for a read connection: %w", ctx.Err())
	}
}

// ErrNoRows is sql.ErrNoRows, re-exported so callers need not import database/sql.
var ErrNoRows = sql.ErrNoRows

// Now returns the current time truncated to microseconds, the precision stored.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Micros converts a time to the stored form (unix microseconds; 0 for the zero time).
func Micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Time converts a stored value back (the zero time for 0).
func Time(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// In returns "?,?,?" with n placeholders, for IN lists.
func In(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return strings.Repeat("?,", n-1) + "?"
}

// IsUniqueViolation reports whether err is a unique-constraint violation (a unique index or
// a primary key) on either dialect, recognised by the driver's error code, never by its text.
func IsUniqueViolation(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code == pgUniqueViolation
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// pgUniqueViolation is PostgreSQL's SQLSTATE for unique_violation.
const pgUniqueViolation = "23505"

// UniqueConstraint names the unique index or constraint that err violated, when err is a
// unique violation (see IsUniqueViolation).
//
// On PostgreSQL the name is the index or constraint name the server reports
// (users_external_id). SQLite reports no index name for an index on plain columns, only
// the columns, and its error carries no structured field for them; so on SQLite the name
// is the column list of the message, "users.account_id, users.external_id_lower" (or the
// index name when SQLite gives one, for an index on expressions). The message is read
// only as this last resort, and only after the error code has said what the error is.
// Callers that want to know which rule was broken should therefore match on a column
// name that appears in both forms (external_id), not on a whole name.
func UniqueConstraint(err error) (name string, ok bool) {
	if !IsUniqueViolation(err) {
		return "", false
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.ConstraintName, true
	}
	se, _ := errors.AsType[*sqlite.Error](err)
	msg := se.Error()
	const marker = " constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return "", true
	}
	name = msg[i+len(marker):]
	if j := strings.LastIndex(name, " ("); j >= 0 { // modernc appends " (2067)"
		name = name[:j]
	}
	if rest, found := strings.CutPrefix(name, "index '"); found {
		name = strings.TrimSuffix(rest, "'")
	}
	return name, true
}

// UniqueViolationOn reports whether err is a unique violation of a constraint that
// covers column: the index name on PostgreSQL, the column list on SQLite (which does not
// report index names), so callers name a column, e.g. "external_id".
func UniqueViolationOn(err error, column string) bool {
	name, ok := UniqueConstraint(err)
	return ok && strings.Contains(name, column)
}

// Lock takes a lock on key until the transaction ends. Find-or-create code calls it
// before looking up what it may create, so two transactions creating the same thing
// (a requester by email, a partner's person) do not both insert it. PostgreSQL uses an
// advisory lock; SQLite's single writer already serialises write transactions.
func (tx *Tx) Lock(ctx context.Context, key string) error {
	if tx.db.Dialect != Postgres {
		return nil
	}
	tx.beforeStatement(ctx)
	_, err := tx.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, key)
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", key, err)
	}
	return nil
}

// Optimize refreshes the query planner's statistics where they are stale (SQLite; a
// no-op on PostgreSQL, whose autovacuum does it).
func (db *DB) Optimize(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		// All tables, as at open (0x10000): one whose statistics were dropped while it
		// was small (stats.go) is analyzed again once it has grown, whether or not this
		// connection's queries used it since.
		if _, err := tx.tx.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
			return err
		}
		return dropSmallStats(ctx, tx.tx)
	})
}

// Once runs f the first time it is called with key on this handle; a concurrent call
// with the same key waits until f has returned. For work due once per process and
// database, such as releasing leases left by a process that died (SQLite, where one
// process owns the file), when several of the process's workers start at once.
func (db *DB) Once(key string, f func()) {
	o, _ := db.onces.LoadOrStore(key, new(sync.Once))
	o.(*sync.Once).Do(f)
}
