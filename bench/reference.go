package bench

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the raw SQLite reference uses the driver directly
)

// Reference is a physical reference measured beside the benchmarks: what the database
// itself does with the rows of one ticket create, without Tandem.
type Reference struct {
	// What names how it was measured, for the report.
	What string
	// PerSecond is transactions (one ticket + comment + text index row each) per second.
	PerSecond float64
}

// refSchema is the rows of a ticket create without Tandem: a ticket with its main
// indexes, a comment, and a full-text row for both.
const refSchema = `
CREATE TABLE IF NOT EXISTS t (account_id BIGINT NOT NULL, id BIGINT NOT NULL, subject TEXT NOT NULL, description TEXT NOT NULL,
	status TEXT NOT NULL, tags TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (account_id, id));
CREATE INDEX IF NOT EXISTS t_updated ON t (account_id, updated_at, id);
CREATE INDEX IF NOT EXISTS t_status ON t (account_id, status, updated_at);
CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, account_id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS c_ticket ON c (account_id, ticket_id, id);
CREATE VIRTUAL TABLE IF NOT EXISTS f USING fts5(subject, body, tokenize = 'unicode61 remove_diacritics 2');
`

// SQLiteReference runs, for d, transactions of one ticket + one comment + one FTS5 row
// through one connection to a fresh database file in dir, in WAL mode with
// synchronous=NORMAL as Tandem runs, statements prepared once.
func SQLiteReference(dir string, d time.Duration) (Reference, error) {
	path := filepath.Join(dir, "reference.db")
	defer os.Remove(path)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return Reference{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(refSchema); err != nil {
		return Reference{}, err
	}
	insT, err := db.Prepare(`INSERT INTO t (account_id, id, subject, description, status, tags, created_at, updated_at) VALUES (1, ?, ?, ?, 'new', ?, ?, ?)`)
	if err != nil {
		return Reference{}, err
	}
	insC, err := db.Prepare(`INSERT INTO c (account_id, ticket_id, body, created_at) VALUES (1, ?, ?, ?) RETURNING id`)
	if err != nil {
		return Reference{}, err
	}
	insF, err := db.Prepare(`INSERT INTO f (rowid, subject, body) VALUES (?, ?, ?)`)
	if err != nil {
		return Reference{}, err
	}
	r := rand.New(rand.NewPCG(7, 7))
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		id := int64(n + 1)
		subj, body, at := Subject(r, id), Comment(r), time.Now().UnixMicro()
		tx, err := db.Begin()
		if err != nil {
			return Reference{}, err
		}
		var cid int64
		if _, err = tx.Stmt(insT).Exec(id, subj, body, `["delivery","bench"]`, at, at); err == nil {
			if err = tx.Stmt(insC).QueryRow(id, body, at).Scan(&cid); err == nil {
				_, err = tx.Stmt(insF).Exec(cid, subj, body)
			}
		}
		if err != nil {
			_ = tx.Rollback()
			return Reference{}, err
		}
		if err := tx.Commit(); err != nil {
			return Reference{}, err
		}
		n++
	}
	return Reference{What: "raw SQLite: one ticket + comment + FTS5 row per transaction, one connection, prepared statements, WAL, synchronous=NORMAL", PerSecond: float64(n) / time.Since(start).Seconds()}, nil
}

// pgRefSchema is refSchema for PostgreSQL: the text index is a GIN index over a stored
// tsvector, as Tandem's.
const pgRefSchema = `
CREATE TABLE %[1]s.t (account_id BIGINT NOT NULL, id BIGINT NOT NULL, subject TEXT NOT NULL, description TEXT NOT NULL,
	status TEXT NOT NULL, tags TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
	tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('simple', subject), 'A') || setweight(to_tsvector('simple', description), 'B')) STORED,
	PRIMARY KEY (account_id, id));
CREATE INDEX ON %[1]s.t (account_id, updated_at, id);
CREATE INDEX ON %[1]s.t (account_id, status, updated_at);
CREATE INDEX ON %[1]s.t USING GIN (tsv);
CREATE TABLE %[1]s.c (id BIGSERIAL PRIMARY KEY, account_id BIGINT NOT NULL, ticket_id BIGINT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,
	tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED);
CREATE INDEX ON %[1]s.c (account_id, ticket_id, id);
CREATE INDEX ON %[1]s.c USING GIN (tsv);
CREATE SEQUENCE %[1]s.ids;
`

// PostgresReference measures the same transaction on PostgreSQL at url from clients
// connections for d: with pgbench (a script of the transaction, prepared) when it is
// installed, else from Go through one connection. It works in a schema of its own,
// dropped at the end.
func PostgresReference(url string, clients int, d time.Duration) (Reference, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return Reference{}, err
	}
	defer db.Close()
	schema := fmt.Sprintf("bench_ref_%d", time.Now().UnixNano()%1e9)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		return Reference{}, err
	}
	defer db.Exec("DROP SCHEMA " + schema + " CASCADE")
	if _, err := db.Exec(fmt.Sprintf(pgRefSchema, schema)); err != nil {
		return Reference{}, err
	}
	r := rand.New(rand.NewPCG(7, 7))
	body := Comment(r)
	subj := Subject(r, 1)
	txSQL := fmt.Sprintf(`INSERT INTO %[1]s.t (account_id, id, subject, description, status, tags, created_at, updated_at) VALUES (1, nextval('%[1]s.ids'), '%[2]s', '%[3]s', 'new', '["delivery","bench"]', 1, 1);
INSERT INTO %[1]s.c (account_id, ticket_id, body, created_at) VALUES (1, currval('%[1]s.ids'), '%[3]s', 1);`, schema, subj, body)
	if pgbench, err := exec.LookPath("pgbench"); err == nil {
		script := filepath.Join(os.TempDir(), schema+".sql")
		if err := os.WriteFile(script, []byte("BEGIN;\n"+txSQL+"\nCOMMIT;\n"), 0o600); err != nil {
			return Reference{}, err
		}
		defer os.Remove(script)
		secs := max(1, int(d.Round(time.Second)/time.Second))
		out, err := exec.Command(pgbench, "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(secs), "-f", script, url).CombinedOutput()
		if err != nil {
			return Reference{}, fmt.Errorf("pgbench: %v: %s", err, out)
		}
		m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			return Reference{}, fmt.Errorf("pgbench: no tps in %s", out)
		}
		tps, _ := strconv.ParseFloat(string(m[1]), 64)
		return Reference{What: fmt.Sprintf("pgbench, %d clients, -M prepared: BEGIN; INSERT ticket (GIN-indexed tsvector); INSERT comment (GIN-indexed tsvector); COMMIT", clients), PerSecond: tps}, nil
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		return Reference{}, err
	}
	defer conn.Close()
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := conn.ExecContext(context.Background(), "BEGIN;\n"+txSQL+"\nCOMMIT;"); err != nil {
			return Reference{}, err
		}
		n++
	}
	return Reference{What: "pgbench not installed: the same SQL from Go through one connection", PerSecond: float64(n) / time.Since(start).Seconds()}, nil
}

// Ratio formats a rate as a multiple of the reference.
func Ratio(rate float64, ref Reference) string {
	if ref.PerSecond <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(rate/ref.PerSecond, 'f', 2, 64) + "×"
}
