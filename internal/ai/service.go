package ai

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/jobs"
	"tandem/internal/store"
)

// JobTrain is the job_status type of a training.
const JobTrain = "ai_train_models"

// Config tunes the AI service. The zero value is usable.
type Config struct {
	// Every is how often the background worker looks for accounts with enough newly
	// solved tickets to train again (default 5 minutes).
	Every time.Duration
	// Lease is how long a training may run before another process may start one for
	// the same account (default 15 minutes).
	Lease time.Duration
}

// Service is the AI layer's models half: the model store, triage, training on demand
// and in the background (once per account across processes).
type Service struct {
	db      *store.DB
	Store   *Store
	History *DBHistory
	Trainer *Trainer
	Triage  *Triage
	jobs    *jobs.Runner
	log     *slog.Logger
	cfg     Config
	holder  string
}

// New returns the AI service.
func New(db *store.DB, runner *jobs.Runner, log *slog.Logger, cfg Config) *Service {
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Minute
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 15 * time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	st := NewStore(db)
	h := &DBHistory{db: db}
	return &Service{db: db, Store: st, History: h, Trainer: NewTrainer(h, st), Triage: NewTriage(st, log), jobs: runner, log: log, cfg: cfg, holder: hex.EncodeToString(b)}
}

// ErrTraining is returned by StartTraining while a training of the account runs.
var ErrTraining = errs.E(errs.Conflict, "A training of this account's models is already running.")

// StartTraining starts a training of the account's models as a job and returns its
// status. Only one training per account runs at a time across every process.
func (s *Service) StartTraining(ctx context.Context, acct ids.Account, by ids.User) (*jobs.Status, error) {
	set, err := LoadSettings(ctx, s.db.R(), acct)
	if err != nil {
		return nil, err
	}
	if len(set.Targets) == 0 {
		return nil, errs.Invalidf("targets", "BlankValue", "choose what the AI learns (targets) before training")
	}
	ok, err := s.claim(ctx, acct)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrTraining
	}
	st, err := s.jobs.Start(ctx, jobs.Spec{Account: acct, User: by, Type: JobTrain, Total: 1}, func(ctx context.Context, j *jobs.Job) jobs.Result {
		defer s.release(acct)
		res, err := s.Trainer.Train(ctx, acct, func(done, total int) { j.Progress(ctx, done, total) })
		if err != nil {
			if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
				return jobs.Result{Failed: e.Error()}
			}
			j.Log().ErrorContext(ctx, "ai training", "err", err)
			return jobs.Result{Failed: "The training failed; the previous models stay in use."}
		}
		return jobs.Result{Done: len(res.Figures), Total: len(res.Figures), Results: []any{map[string]any{"version": res.Version, "examples": res.Examples, "targets": res.Figures}},
			Note: fmt.Sprintf("model version %d trained on %d solved tickets", res.Version, res.Examples)}
	})
	if err != nil {
		s.release(acct)
		return nil, err
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ai_settings SET training_job = ? WHERE account_id = ? AND training_holder = ?`, st.ID, acct, s.holder)
		return err
	}); err != nil {
		s.log.WarnContext(ctx, "ai: record training job", "err", err)
	}
	return st, nil
}

// claim takes the account's training lease if nobody holds it.
func (s *Service) claim(ctx context.Context, acct ids.Account) (bool, error) {
	won := false
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		now := store.Now()
		res, err := tx.ExecContext(ctx, `UPDATE ai_settings SET training_holder = ?, training_until = ?, training_job = '', trained_at = ? WHERE account_id = ? AND training_until < ?`,
			s.holder, store.Micros(now.Add(s.cfg.Lease)), store.Micros(now), acct, store.Micros(now))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		won = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("ai: claim training: %w", err)
	}
	return won, nil
}

// release gives the lease back when a training ends.
func (s *Service) release(acct ids.Account) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ai_settings SET training_until = 0 WHERE account_id = ? AND training_holder = ?`, acct, s.holder)
		return err
	})
	if err != nil {
		s.log.Warn("ai: release training", "account", acct, "err", err)
	}
}

// Run is the background worker: every Config.Every it trains the accounts that have
// solved at least their retrain_after tickets since their last training.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTimer(s.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("ai: background training", "err", err)
		}
		t.Reset(s.cfg.Every)
	}
}

// Tick starts a training for each account due one and returns how many it started.
func (s *Service) Tick(ctx context.Context) (int, error) {
	type due struct {
		acct  ids.Account
		after int
		since int64
	}
	var list []due
	now := store.Micros(store.Now())
	err := eachRow(ctx, s.db.R(), `SELECT account_id, retrain_after, trained_at FROM ai_settings WHERE targets <> '[]' AND retrain_after > 0 AND training_until < ? ORDER BY account_id`, []any{now}, func(sc store.Row) error {
		var d due
		if err := sc.Scan(&d.acct, &d.after, &d.since); err != nil {
			return err
		}
		list = append(list, d)
		return nil
	})
	if err != nil {
		return 0, err
	}
	started := 0
	for _, d := range list {
		var n int
		if err := s.db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ? AND status IN ('solved', 'closed') AND deleted_at = 0 AND solved_at > ?`, d.acct, d.since).Scan(&n); err != nil {
			return started, fmt.Errorf("ai: newly solved tickets: %w", err)
		}
		if n < d.after {
			continue
		}
		_, err := s.StartTraining(ctx, d.acct, 0)
		switch {
		case errors.Is(err, ErrTraining), errs.CodeOf(err) == errs.Invalid:
			continue // another process took it, or the settings changed meanwhile
		case errors.Is(err, jobs.ErrStopping):
			return started, nil
		case err != nil:
			return started, err
		}
		started++
	}
	return started, nil
}
