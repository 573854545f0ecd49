package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestSettingsCacheSeesOtherProcess: a value cached behind the settings version is
// reloaded at the next write after another process (another store.DB on the same
// database) changes a setting, is not reloaded while nothing changed, and never keeps
// what a write that rolled back saw.
func TestSettingsCacheSeesOtherProcess(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			opt := storetest.Options(t, d)
			a, err := store.Open(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := store.Open(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			var acct int64
			if err := b.Write(ctx, func(tx *store.Tx) error {
				if err := tx.QueryRowContext(ctx, `INSERT INTO accounts (subdomain, name, plan, created_at, updated_at) VALUES ('s', 's', 'team', 1, 1) RETURNING id`).Scan(&acct); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO ticket_fields (account_id, type, title, key, created_at, updated_at) VALUES (?, 'text', 'A', 'a', 1, 1)`, acct)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var cache store.SettingsCache[string]
			loads := 0
			get := func(tx *store.Tx) (string, error) {
				return cache.Get(ctx, tx, acct, func() (string, error) {
					loads++
					rows, err := tx.QueryContext(ctx, `SELECT title FROM ticket_fields WHERE account_id = ? ORDER BY id`, acct)
					if err != nil {
						return "", err
					}
					defer rows.Close()
					var titles []string
					for rows.Next() {
						var s string
						if err := rows.Scan(&s); err != nil {
							return "", err
						}
						titles = append(titles, s)
					}
					return strings.Join(titles, ","), rows.Err()
				})
			}
			want := func(step, title string, wantLoads int) {
				t.Helper()
				var got string
				if err := a.Write(ctx, func(tx *store.Tx) error {
					unpin, err := tx.PinSettings(ctx, acct)
					if err != nil {
						return err
					}
					defer unpin()
					got, err = get(tx)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if got != title || loads != wantLoads {
					t.Fatalf("%s: got %q after %d loads, want %q after %d", step, got, loads, title, wantLoads)
				}
			}
			want("first write", "A", 1)
			want("nothing changed", "A", 1)
			if err := b.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE ticket_fields SET title = 'B' WHERE account_id = ?`, acct)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			want("changed by the other process", "B", 2)
			refused := errors.New("refused")
			if err := a.Write(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_fields (account_id, type, title, key, created_at, updated_at) VALUES (?, 'text', 'C', 'c', 1, 1)`, acct); err != nil {
					return err
				}
				if got, err := get(tx); err != nil || got != "B,C" {
					t.Errorf("inside the write: %q, %v", got, err)
				}
				return refused
			}); !errors.Is(err, refused) {
				t.Fatal(err)
			}
			want("after a rolled-back write", "B", 3)
			want("again", "B", 3)
			if err := b.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `DELETE FROM ticket_fields WHERE account_id = ?`, acct)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			want("deleted by the other process", "", 4)
		})
	}
}
