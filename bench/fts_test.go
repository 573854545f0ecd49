package bench

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// BenchmarkFTSBatch measures what migration 0029 changed: a group-commit batch of 16
// comments (280-330 bytes) indexed in FTS5 row by row, each in its own SAVEPOINT (FTS5
// writes a segment at every savepoint), against the same rows indexed by one INSERT ...
// SELECT just before commit, under FTS5's automerge settings 4 (its default), 8 and 16.
// It reports the process's CPU time per transaction (cpu-µs/txn), steadier than wall
// time on a shared machine, and per query for three searches over the result.
//
//	go test ./bench -run '^$' -bench FTSBatch -benchtime 3000x
func BenchmarkFTSBatch(b *testing.B) {
	for _, c := range []struct {
		name      string
		savepoint bool
		automerge int
	}{{"savepoint-per-row/automerge=4", true, 4}, {"batch-at-commit/automerge=4", false, 4}, {"batch-at-commit/automerge=8", false, 8}, {"batch-at-commit/automerge=16", false, 16}} {
		b.Run(c.name, func(b *testing.B) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "fts.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			for _, q := range []string{`CREATE TABLE c (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`,
				`CREATE VIRTUAL TABLE f USING fts5(body, content = 'c', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2')`,
				fmt.Sprintf(`INSERT INTO f (f, rank) VALUES ('automerge', %d)`, c.automerge)} {
				if _, err := db.Exec(q); err != nil {
					b.Fatal(err)
				}
			}
			r := rand.New(rand.NewPCG(1, 1))
			id := 0
			exec := func(tx *sql.Tx, q string, args ...any) {
				if _, err := tx.Exec(q, args...); err != nil {
					b.Fatal(err)
				}
			}
			c0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				tx, err := db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				for range 16 {
					id++
					body := Comment(r)
					if c.savepoint {
						exec(tx, `SAVEPOINT w`)
					}
					exec(tx, `INSERT INTO c (id, body) VALUES (?, ?)`, id, body)
					if c.savepoint {
						exec(tx, `INSERT INTO f (rowid, body) VALUES (?, ?)`, id, body)
						exec(tx, `RELEASE w`)
					}
				}
				if !c.savepoint {
					exec(tx, `INSERT INTO f (rowid, body) SELECT id, body FROM c WHERE id > ?`, id-16)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(b.N), "cpu-µs/txn")
			c0 = cpuTime()
			words := []string{`"blender warranty"`, `"order"`, `"refund"`}
			for i := range 30 {
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM f WHERE f MATCH ?`, words[i%3]).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/30, "cpu-µs/query")
		})
	}
}
