package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tandem/bench"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// seedSuite times bench.SeedRealistic loading n tickets into a fresh database, as the
// outside suite seeds its reads: the wall time, this process's CPU time and, on
// PostgreSQL, the CPU time of the database's server processes (the seeder has a
// database of its own, so every backend of it is the seeder's; they are read from
// /proc before the pool closes them) and the WAL the whole server wrote meanwhile
// (pg_current_wal_lsn: anything else writing to the server at the same time counts too).
// The PostgreSQL database is named prefix and a number.
func seedSuite(e *env, d store.Dialect, b *strings.Builder, n int, prefix string) error {
	ctx := context.Background()
	var opt store.Options
	var admin *sql.DB
	var dbname string
	if d == store.SQLite {
		opt = store.Options{Path: filepath.Join(e.tmp, "seed", "tandem.db")}
	} else {
		var err error
		if admin, err = sql.Open("pgx", e.pg); err != nil {
			return err
		}
		defer admin.Close()
		dbname = fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9)
		if _, err := admin.Exec("CREATE DATABASE " + dbname); err != nil {
			return err
		}
		defer admin.Exec("DROP DATABASE " + dbname + " WITH (FORCE)")
		u, err := url.Parse(e.pg)
		if err != nil {
			return err
		}
		u.Path = "/" + dbname
		opt = store.Options{URL: u.String()}
	}
	if _, _, err := bench.ProvisionOutside(ctx, opt, "seeded"); err != nil {
		return err
	}
	db, err := store.Open(ctx, opt)
	if err != nil {
		return err
	}
	defer db.Close()
	var acct ids.Account
	var user ids.User
	if err := db.R().QueryRowContext(ctx, `SELECT a.id, u.id FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.subdomain = 'seeded'`).Scan(&acct, &user); err != nil {
		return err
	}
	backends := func() time.Duration { return pgBackendsCPU(admin, dbname) }
	fmt.Fprintf(os.Stderr, "%s: seeding %d tickets (load average %s)...\n", d, n, bench.LoadAverage())
	load0 := bench.LoadAverage()
	walLSN := func() (lsn int64) {
		if admin != nil {
			_ = admin.QueryRow(`SELECT pg_current_wal_lsn() - '0/0'`).Scan(&lsn)
		}
		return lsn
	}
	t0, c0, p0, w0 := time.Now(), bench.SelfCPU(), backends(), walLSN()
	if err := bench.SeedRealistic(ctx, db, acct, user, n, os.Stderr); err != nil {
		return err
	}
	wall, cpu, pgCPU, wal := time.Since(t0), bench.SelfCPU()-c0, backends()-p0, walLSN()-w0
	var size string
	if d == store.SQLite {
		if fi, err := os.Stat(opt.Path); err == nil {
			size = fmt.Sprintf("%.1f GB", float64(fi.Size())/1e9)
		}
	} else {
		_ = admin.QueryRow(`SELECT pg_size_pretty(pg_database_size($1))`, dbname).Scan(&size)
	}
	b.WriteString("### Seeding (bench.SeedRealistic)\n\n| tickets | time | seeding process CPU | PostgreSQL server CPU | WAL written (whole server) | database size | load average before, after |\n|---|---|---|---|---|---|---|\n")
	server, walBytes := "-", "-"
	if d == store.Postgres {
		server, walBytes = pgCPU.Round(time.Second).String(), fmt.Sprintf("%.2f GB", float64(wal)/1e9)
	}
	fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s; %s |\n\n", n, wall.Round(time.Second), cpu.Round(time.Second), server, walBytes, size, load0, bench.LoadAverage())
	return nil
}
