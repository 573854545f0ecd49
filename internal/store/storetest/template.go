package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"tandem/internal/store"
)

// templateLock is the advisory lock key under which one process at a time builds the
// template database (test binaries of several packages start at once).
const templateLock = 724202

var template struct {
	mu   sync.Mutex
	name string
}

// templateName builds the template (once per process, or again after another process
// dropped it: stale is the name found missing) and returns its name.
func templateName(base, stale string) (string, error) {
	template.mu.Lock()
	defer template.mu.Unlock()
	if template.name == "" || template.name == stale {
		name, err := buildTemplate(base)
		if err != nil {
			return "", err
		}
		template.name = name
	}
	return template.name, nil
}

// migratedCopy returns options for a new PostgreSQL database copied from the migrated
// template, dropped at cleanup.
func migratedCopy(t testing.TB) store.Options {
	t.Helper()
	base := PostgresURL()
	if base == "" {
		Options(t, store.Postgres) // skips, or fails in CI, saying why
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("t_%d_%d_%s", os.Getpid(), time.Now().Unix(), hex.EncodeToString(b[:]))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	tpl := ""
	for attempt := 0; ; attempt++ {
		if tpl, err = templateName(base, tpl); err != nil {
			t.Fatalf("postgres template database: %v", err)
		}
		_, err = admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + tpl)
		var pe *pgconn.PgError
		if err == nil || attempt == 2 || !errors.As(err, &pe) || pe.Code != "3D000" {
			break
		}
		// Another checkout's tests (other migrations) removed it: build it again.
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	// The copy is dropped after the test without the test waiting for it: on PostgreSQL
	// 15 every DROP DATABASE forces a checkpoint, which takes seconds on a busy machine.
	// Copies a test binary had no time to drop are dropped by a later one (sweep).
	t.Cleanup(func() { go drop(base, name) })
	return store.Options{URL: databaseURL(t, base, name), MaxConns: 10}
}

// drop removes a test database.
func drop(base, name string) {
	a, err := sql.Open("pgx", base)
	if err != nil {
		return
	}
	defer a.Close()
	_, _ = a.Exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)")
}

// sweep drops, in the background, the test databases of test processes that have
// ended: a name records the creating process and time (t_PID_UNIX_RAND), and only
// copies older than an hour whose process is gone on this machine are dropped.
func sweep(ctx context.Context, conn *sql.Conn, base string) {
	rows, err := conn.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%\\_%\\_%'")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var s string
		if rows.Scan(&s) != nil {
			continue
		}
		var pid, unix int64
		var rest string
		if n, _ := fmt.Sscanf(strings.ReplaceAll(s, "_", " "), "t %d %d %s", &pid, &unix, &rest); n != 3 {
			continue
		}
		if time.Since(time.Unix(unix, 0)) < time.Hour || processAlive(int(pid)) {
			continue
		}
		stale = append(stale, s)
	}
	rows.Close()
	go func() {
		for _, s := range stale {
			drop(base, s)
		}
	}()
}

// processAlive reports whether a process with the id runs on this machine.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// migrationsHash names the dialect's migrations by their contents (16 hex digits), so
// that a changed migration gets a new template.
func migrationsHash(d store.Dialect) (string, error) {
	ms, err := store.Migrations(d)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%d %s %d\n%s\n", m.Version, m.Name, len(m.SQL), m.SQL)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// databaseURL is base with its database set to name and test session settings.
func databaseURL(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TANDEM_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	q := u.Query()
	// As in Options: test sessions do not wait for the WAL flush at commit.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// buildTemplate makes sure a database migrated with the current migrations exists and
// returns its name, which is derived from the migrations' contents so that a changed
// migration gets a new template. It is built under another name and renamed when
// complete, so no process ever copies a half-migrated template.
func buildTemplate(base string) (string, error) {
	hash, err := migrationsHash(store.Postgres)
	if err != nil {
		return "", err
	}
	name := "tandem_tpl_" + hash
	ctx := context.Background()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", templateLock) //nolint:errcheck
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		return "", err
	}
	sweep(ctx, conn, base)
	if n > 0 {
		return name, nil
	}
	building := pgx.Identifier{name + "_building"}.Sanitize()
	if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name + "_building"
	db, err := store.Open(ctx, store.Options{URL: u.String(), MaxConns: 2})
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	db.Close()
	// No connections to the template from now on (autovacuum included), so copies of it
	// never wait for one.
	for _, q := range []string{
		"ALTER DATABASE " + building + " RENAME TO " + name,
		"ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return "", err
		}
	}
	// Templates of other migrations are left from earlier runs, or belong to another
	// checkout's tests running now (a branch with a new migration): remove those made
	// more than a day ago. A database's PG_VERSION file dates from its creation (reading
	// it needs a superuser; without one nothing is removed).
	rows, err := conn.QueryContext(ctx, `SELECT datname FROM pg_database
		WHERE datname LIKE 'tandem\_tpl\_%' AND datname <> $1
		AND (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '1 day'`, name)
	if err == nil {
		var old []string
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				old = append(old, s)
			}
		}
		rows.Close()
		for _, s := range old {
			id := pgx.Identifier{s}.Sanitize()
			_, _ = conn.ExecContext(ctx, "ALTER DATABASE "+id+" IS_TEMPLATE false")
			_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)")
		}
	}
	return name, nil
}
