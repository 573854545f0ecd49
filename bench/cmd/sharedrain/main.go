// Command sharedrain runs the sharing suite's backlog drain on PostgreSQL (two sending
// servers on one database, as benchreport's sharing suite does) several times in a row
// and prints each run's drain rate, the process's CPU per update and PostgreSQL's
// transactions per update, without the latency runs before it: a quick before/after of
// a change to the delivery path.
//
//	go run ./bench/cmd/sharedrain -postgres 'postgres://postgres@127.0.0.1:5432/DB?sslmode=disable' -runs 3
//
// Each run uses two new schemas of the database (dropped at the end).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"tandem/bench"
	"tandem/internal/store"
)

func main() {
	pg := flag.String("postgres", "", "PostgreSQL admin URL (a database of your own)")
	runs := flag.Int("runs", 3, "drains to run")
	n := flag.Int("n", 2000, "updates queued per drain")
	flag.Parse()
	if *pg == "" {
		fmt.Fprintln(os.Stderr, "sharedrain: -postgres is required")
		os.Exit(2)
	}
	if err := run(*pg, *runs, *n); err != nil {
		fmt.Fprintln(os.Stderr, "sharedrain:", err)
		os.Exit(1)
	}
}

func run(pg string, runs, n int) error {
	ctx := context.Background()
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		return err
	}
	defer admin.Close()
	var schemas []string
	defer func() {
		for _, s := range schemas {
			admin.Exec("DROP SCHEMA " + s + " CASCADE")
		}
	}()
	open := func(name string) (*store.DB, store.Options, error) {
		schema := fmt.Sprintf("drain_%s_%d", name, time.Now().UnixNano()%1e9)
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			return nil, store.Options{}, err
		}
		schemas = append(schemas, schema)
		u, err := url.Parse(pg)
		if err != nil {
			return nil, store.Options{}, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		opt := store.Options{URL: u.String(), MaxConns: 20}
		db, err := store.Open(ctx, opt)
		return db, opt, err
	}
	commits := func() (c int64) {
		admin.QueryRow(`SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&c)
		return c
	}
	fmt.Println("| run | from the first delivery | updates/s | from the restart | process CPU per update | transactions per update (queueing included) | load average |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for i := 1; i <= runs; i++ {
		a, opt, err := open("a")
		if err != nil {
			return err
		}
		second, err := store.Open(ctx, opt)
		if err != nil {
			return err
		}
		b, _, err := open("b")
		if err != nil {
			return err
		}
		load := bench.LoadAverage()
		c0 := commits()
		r, err := bench.BacklogDrain(a, b, n, second)
		c1 := commits()
		a.Close()
		second.Close()
		b.Close()
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %s | %.0f | %s | %s | %.1f | %s |\n", i, r.FromFirst.Round(time.Millisecond), float64(r.Updates)/r.FromFirst.Seconds(),
			r.Elapsed.Round(time.Millisecond), bench.Ms(r.CPU/time.Duration(r.Updates)), float64(c1-c0)/float64(r.Updates), load)
	}
	return nil
}
