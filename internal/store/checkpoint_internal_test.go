package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// The checkpointer, not the writer, checkpoints the WAL once the writer has run
// checkpointStatements statements; the writer's own automatic checkpoint is only the
// backstop at writerCheckpointPages, and what was committed reads back after Close.
func TestCheckpointerCheckpointsOffTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := db.w.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil || pages != writerCheckpointPages {
		t.Fatalf("writer's wal_autocheckpoint %d, %v; want %d", pages, err, writerCheckpointPages)
	}
	before := db.checkpoints.Load()
	for w := 0; db.written.Load() < 2*checkpointStatements; w++ {
		err := db.Write(ctx, func(tx *Tx) error {
			for i := range 20 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES (?, 'n', 'team', 1, 1)`, fmt.Sprintf("c%dx%d", w, i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The checkpointer runs on its own goroutine: wait for it (a condition, bounded).
	deadline := time.Now().Add(time.Minute)
	for db.checkpoints.Load() == before {
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint after %d statements", db.written.Load())
		}
		db.committed()
		<-time.After(checkpointEvery)
	}
	var n int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subdomain LIKE 'c%'`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("accounts %d, %v", n, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var m int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subdomain LIKE 'c%'`).Scan(&m); err != nil || m != n {
		t.Fatalf("after reopening: accounts %d, %v; want %d", m, err, n)
	}
}
