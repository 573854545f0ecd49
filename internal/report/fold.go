package report

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"tandem/internal/store"
)

// On PostgreSQL a ticket write inserts its report count differences into
// report_daily_deltas (migration 0064; since 0084 one row a write, holding them all)
// instead of adding them to the account's shared total rows, which every write of the
// account would update: Fold moves them into the totals in the background. Readers read the totals plus the deltas (DailyCounts), so
// counts are exact at commit whether or not a fold has run.

// foldEvery is how often a server folds the deltas; foldPile is how many count
// differences this process's writes may queue before it folds sooner; foldBatch is how
// many rows of report_daily_deltas (one a write; a create's holds about seven
// differences) one fold statement moves (a fold runs statements until fewer are left).
const (
	foldEvery = time.Second
	foldPile  = 20000
	foldBatch = 10000
)

// pile counts the count differences this process's writes to one database inserted
// since its last fold there; full wakes that database's RunFolds when they pass foldPile.
type pile struct {
	n    atomic.Int64
	full chan struct{}
}

// piles holds each open database's pile (*store.DB -> *pile): a process may have
// several (tests, benchmarks), and one's writes must not hurry another's folds.
var piles sync.Map

func pileOf(db *store.DB) *pile {
	if p, ok := piles.Load(db); ok {
		return p.(*pile)
	}
	p, _ := piles.LoadOrStore(db, &pile{full: make(chan struct{}, 1)})
	return p.(*pile)
}

// queued records n count differences inserted by a write on db (its transaction may
// still roll back: the count only decides when to fold).
func queued(db *store.DB, n int) {
	p := pileOf(db)
	if p.n.Add(int64(n)) >= foldPile {
		select {
		case p.full <- struct{}{}:
		default:
		}
	}
}

// foldSQL deletes up to ? rows of report_daily_deltas and adds the sums of the
// differences they hold to the totals (shard 0) in one statement, and returns how many
// rows it deleted. The deletion and the addition commit
// together, so a reader's snapshot has each delta either in report_daily_deltas or in
// the totals, never in both or neither. A row another transaction deleted first (a
// Rebuild, or a fold without the try-lock) is skipped once that commits: it is never
// added twice. The totals are upserted in key order, as Rebuild writes them.
const foldSQL = `WITH moved AS (
    DELETE FROM report_daily_deltas WHERE ctid = ANY (ARRAY(SELECT ctid FROM report_daily_deltas LIMIT ?))
    RETURNING account_id, deltas
), sums AS (
    SELECT account_id, dim, dim_id, kind, day, k1, k2, name, SUM(n)::BIGINT AS n
    FROM (` + deltasSelect + `moved` + deltasExpand + `) d GROUP BY account_id, dim, dim_id, kind, day, k1, k2, name
), added AS (
    INSERT INTO report_daily_shards AS r (account_id, dim, dim_id, kind, day, k1, k2, name, shard, n)
    SELECT account_id, dim, dim_id, kind, day, k1, k2, name, 0, n FROM sums WHERE n <> 0
    ORDER BY account_id, dim COLLATE "C", dim_id, kind COLLATE "C", day, k1, k2, name COLLATE "C"
    ON CONFLICT (account_id, dim, dim_id, kind, day, k1, k2, name, shard) DO UPDATE SET n = r.n + EXCLUDED.n
)
SELECT COUNT(*) FROM moved`

// Fold moves the committed report count deltas into the totals (PostgreSQL; nothing to
// do on SQLite, where writes add to the totals themselves), and returns how many rows
// of report_daily_deltas it moved. Any number of processes may call it at once on one database: one at a
// time folds (a transaction-scoped try-lock), and the others return at once, having
// moved nothing. It folds in batches of foldBatch rows until fewer are left, then
// vacuums the delta table, so that its dead rows do not pile up between autovacuum's
// visits and the readers' and the next fold's scans stay short.
func Fold(ctx context.Context, db *store.DB) (int64, error) {
	if db.Dialect != store.Postgres {
		return 0, nil
	}
	pileOf(db).n.Store(0)
	var total int64
	for {
		var moved int64
		var got bool
		err := db.Write(ctx, func(tx *store.Tx) error {
			moved, got = 0, false
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('report_daily_fold'))`).Scan(&got); err != nil || !got {
				return err
			}
			return tx.QueryRowContext(ctx, foldSQL, foldBatch).Scan(&moved)
		})
		if err != nil {
			return total, fmt.Errorf("report: fold: %w", err)
		}
		total += moved
		if !got || moved < foldBatch {
			break
		}
	}
	if total > 0 {
		// Outside any transaction; SKIP_LOCKED: another process's vacuum of the table
		// is as good. The table is not truncated, which would lock out the writes'
		// inserts for a moment: its free space is reused.
		if _, err := db.R().ExecContext(ctx, `VACUUM (SKIP_LOCKED, TRUNCATE false) report_daily_deltas`); err != nil {
			return total, fmt.Errorf("report: fold: vacuum: %w", err)
		}
	}
	return total, nil
}

// RunFolds folds the report count deltas (Fold) every foldEvery, and sooner when this
// process's writes have queued foldPile rows, until ctx ends. `tandem serve` runs it as
// a worker on PostgreSQL; on SQLite it returns at once.
func RunFolds(ctx context.Context, db *store.DB, log *slog.Logger) {
	if db.Dialect != store.Postgres {
		return
	}
	full := pileOf(db).full
	defer piles.Delete(db)
	t := time.NewTicker(foldEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-full:
		}
		if _, err := Fold(ctx, db); err != nil && ctx.Err() == nil && log != nil {
			log.Error("report count fold", "err", err)
		}
	}
}
