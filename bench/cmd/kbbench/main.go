// Command kbbench measures the knowledge base: ranking quality on BANKING77 (precision@1
// and hit@3 of test.csv messages against one article per intent, with and without the
// train.csv messages as learned phrasings) and, with -n articles in one account, search
// and article page latency on SQLite and, when -postgres is given, PostgreSQL. It prints
// Markdown for docs/BENCHMARKS.extra.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"tandem/bench"
	"tandem/internal/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kbbench:", err)
		os.Exit(1)
	}
}

func run() error {
	data := flag.String("data", "bench/testdata/banking77", "the BANKING77 copy with articles.tsv")
	n := flag.Int("n", 10000, "articles in the account for the latency runs (0 skips them)")
	dur := flag.Duration("d", 10*time.Second, "how long each latency run lasts")
	pg := flag.String("postgres", os.Getenv("TANDEM_BENCH_POSTGRES"), "a PostgreSQL URL (a fresh database) to measure it too")
	flag.Parse()
	arts, train, test, err := bench.LoadBanking77(*data)
	if err != nil {
		return err
	}
	fmt.Printf("Machine: %s. Measured %s (say whether anything else ran on the machine).\n\n", bench.Machine(), time.Now().UTC().Format("2006-01-02"))
	fmt.Printf("#### Ranking quality: BANKING77, %d articles (one per intent), %d test.csv messages\n\n", len(arts), len(test))
	fmt.Println("| indexed | precision@1 | hit@3 | ranking time per query |")
	fmt.Println("|---|---|---|---|")
	for _, r := range bench.KBQuality(arts, train, test) {
		fmt.Printf("| %s | %.3f | %.3f | %s |\n", r.Name, r.P1, r.Hit3, r.PerQueryAvg)
	}
	if *n == 0 {
		return nil
	}
	fmt.Printf("\n#### Latency with %d articles in one account (one client, %s per run)\n\n", *n, *dur)
	fmt.Println("| database | seed (kb.Service) | first search (index build) | search p50 | search p99 | article page p50 | article page p99 |")
	fmt.Println("|---|---|---|---|---|---|---|")
	type target struct {
		name string
		opt  store.Options
	}
	dir, err := os.MkdirTemp("", "kbbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	targets := []target{{"SQLite", store.Options{Path: filepath.Join(dir, "kb.db")}}}
	if *pg != "" {
		targets = append(targets, target{"PostgreSQL", store.Options{URL: *pg}})
	}
	for _, t := range targets {
		db, err := store.Open(context.Background(), t.opt)
		if err != nil {
			return err
		}
		r, err := bench.KBSpeed(db, *n, arts, train, test, *dur)
		db.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", t.name, r.Seed.Round(time.Millisecond), bench.Ms(r.FirstBuild), bench.Ms(r.Search.P50), bench.Ms(r.Search.P99), bench.Ms(r.Page.P50), bench.Ms(r.Page.P99))
	}
	return nil
}
