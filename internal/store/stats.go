package store

import (
	"context"
	"database/sql"
	"fmt"
)

// minStatRows is the fewest rows a SQLite table must have had when ANALYZE read it for
// its planner statistics to be kept.
//
// Statistics taken of a nearly empty table mislead the planner for as long as they
// stay: on a fresh database the first `tandem serve` analyzes tables holding one row
// (the admin), sqlite_stat1 then says users and user_identities have one row each,
// and the planner answers a join of the two by scanning user_identities once for
// every user of the account (a scan of one row is as cheap as an index probe, for
// all it knows). Each inbound message's sender lookup then read every identity of
// the account once per user: with a few hundred users, 10 ms of CPU a message and 25
// tickets a second from eight SMTP connections, until PRAGMA optimize saw the tables
// grown twenty-five-fold. A table without statistics is instead planned as a large
// one whose indexes are selective, which is right for every table that is still
// small, and PRAGMA optimize analyzes it again once it is checked with more rows.
// From about a hundred rows an index probe costs the planner clearly less than a
// scan, and the statistics of small tables that stay small (600 organizations, say)
// help it order joins, so those are kept.
const minStatRows = 100

// execQueryer is what dropSmallStats needs of a connection or transaction.
type execQueryer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// dropSmallStats deletes the planner statistics of the tables ANALYZE read with fewer
// than minStatRows rows (SQLite, after PRAGMA optimize), and makes the connection
// reload what is left. Other connections load the statistics when they open.
func dropSmallStats(ctx context.Context, c execQueryer) error {
	var n int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('sqlite_stat1', 'sqlite_stat4')`).Scan(&n); err != nil {
		return fmt.Errorf("store: read planner statistics: %w", err)
	}
	if n == 0 {
		return nil
	}
	// A table's rows of sqlite_stat1 (one per index, or its own when it has none)
	// start with the entries ANALYZE counted: the table's rows for a whole index, fewer
	// for a partial one (0053's indexes of times set: none at all on a table of a
	// million tickets), so a table's size is the largest of them. Reading each row on
	// its own dropped the statistics of the whole tickets table for an empty partial
	// index, and a phrase search then cost four times the CPU.
	const small = `SELECT tbl FROM sqlite_stat1 GROUP BY tbl HAVING MAX(CAST(stat AS INTEGER)) < ?`
	if n > 1 {
		if _, err := c.ExecContext(ctx, `DELETE FROM sqlite_stat4 WHERE tbl IN (`+small+`)`, minStatRows); err != nil {
			return fmt.Errorf("store: drop small tables' statistics: %w", err)
		}
	}
	res, err := c.ExecContext(ctx, `DELETE FROM sqlite_stat1 WHERE tbl IN (`+small+`)`, minStatRows)
	if err != nil {
		return fmt.Errorf("store: drop small tables' statistics: %w", err)
	}
	if d, _ := res.RowsAffected(); d == 0 {
		return nil
	}
	// SQLite's documented way of making a connection reread sqlite_stat1.
	if _, err := c.ExecContext(ctx, `ANALYZE sqlite_schema`); err != nil {
		return fmt.Errorf("store: reload planner statistics: %w", err)
	}
	return nil
}
