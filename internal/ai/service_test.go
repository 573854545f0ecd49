package ai_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/jobs"
	"tandem/internal/testkit"
)

// TestBackgroundTraining: an account that solved at least retrain_after tickets since
// its last training is trained once, whichever of two processes looks first, as a
// job_status; with nothing new solved since, neither trains again. On SQLite and
// PostgreSQL.
func TestBackgroundTraining(t *testing.T) {
	eachDesk(t, func(t *testing.T, d *testkit.Desk) {
		ctx := context.Background()
		a := d.Account(t, "acme", account.Enterprise)
		for i := range 30 {
			prio, text := "urgent", "the site is down, nothing loads"
			if i%2 == 1 {
				prio, text = "low", "small typo on the about page"
			}
			a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprint(text, " ", i), "status": "solved", "priority": prio,
				"comment": map[string]any{"body": text}}}).Want(t, 201)
		}
		a.Do(t, a.Admin, "PUT", "/api/v2/ai/settings.json", map[string]any{"ai_settings": map[string]any{"targets": []string{ai.TargetPriority}, "retrain_after": 10}}).Want(t, 200)
		log := slog.New(slog.DiscardHandler)
		one, two := ai.New(d.DB, jobs.NewRunner(d.DB, log), log, ai.Config{}), ai.New(d.DB, jobs.NewRunner(d.DB, log), log, ai.Config{})
		n1, err := one.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n2, err := two.Tick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n1+n2 != 1 {
			t.Fatalf("trainings started: %d and %d, want one in all", n1, n2)
		}
		testkit.Eventually(t, 30*time.Second, "background model", func() bool {
			_, ok, err := one.Store.Latest(ctx, a.ID)
			return ok && err == nil
		})
		testkit.Eventually(t, 30*time.Second, "job finished", func() bool {
			var state string
			err := d.DB.R().QueryRowContext(ctx, `SELECT status FROM job_statuses WHERE account_id = ? AND job_type = ?`, a.ID, ai.JobTrain).Scan(&state)
			return err == nil && jobs.Finished(state)
		})
		if n, err := two.Tick(ctx); err != nil || n != 0 {
			t.Errorf("nothing new solved: %d trainings (%v)", n, err)
		}
	})
}
