package limit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"tandem/internal/limit"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestCounters: both counters count per key and window, atomically under concurrency,
// restart a window that has run out, and forget a cleared key; the database counter is shared by every handle on the
// database, as by several processes.
func TestCounters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for name, c := range map[string]limit.Counter{"memory": limit.NewMemory(), "database": limit.NewDB(db)} {
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				var wg sync.WaitGroup
				for range 20 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, _, err := c.Hit(ctx, "k", time.Hour); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				n, ends, err := c.Count(ctx, "k")
				if err != nil || n != 20 || time.Until(ends) > time.Hour || time.Until(ends) <= 0 {
					t.Fatalf("count = %d, ends in %v, %v; want 20 within the hour", n, time.Until(ends), err)
				}
				if n, _, _ := c.Hit(ctx, "other", time.Hour); n != 1 {
					t.Fatalf("another key starts at %d", n)
				}
				if err := c.Clear(ctx, "k"); err != nil {
					t.Fatal(err)
				}
				if n, _, _ := c.Hit(ctx, "k", time.Hour); n != 1 {
					t.Fatalf("after clear: %d, want 1", n)
				}
			})
		}
		// A window that has run out starts again.
		for _, c := range []limit.Counter{limit.NewMemory(), limit.NewDB(db)} {
			_, ends, _ := c.Hit(context.Background(), "short", time.Millisecond)
			for time.Now().Before(ends) {
				// a millisecond: wait for the window to run out
			}
			if n, _, _ := c.Hit(context.Background(), "short", time.Hour); n != 1 {
				t.Fatalf("%T: a new window counts %d, want 1", c, n)
			}
		}
		// Two handles on one database (two processes) share the count.
		one, two := limit.NewDB(db), limit.NewDB(db)
		one.Hit(context.Background(), "shared", time.Hour)
		if n, _, _ := two.Hit(context.Background(), "shared", time.Hour); n != 2 {
			t.Fatalf("second process sees %d, want 2", n)
		}
	})
}
