package sim

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/jobs"
	"tandem/internal/kb"
	"tandem/internal/rules"
	"tandem/internal/store"
)

// The states of a stored simulation.
const (
	Running  = "running"
	Finished = "finished"
	Failed   = "failed"
)

// JobType is the job_status type of a simulation started through the API.
const JobType = "ai_simulation"

// Simulation is a stored run of the replay (ai_simulations).
type Simulation struct {
	ID        int64
	Account   ids.Account
	UserID    ids.User
	JobID     string
	Status    string
	From, To  time.Time // the window asked for (zero: the default)
	Report    *Report   // nil until finished
	Error     string
	CreatedAt time.Time
	// FinishedAt is zero while running.
	FinishedAt time.Time
}

// Service runs simulations on an account's history and stores their reports. It is
// also the ai.Gate: the evidence for an intent is the latest finished report's.
type Service struct {
	db      *store.DB
	history ai.History
	kb      *kb.Service
}

// NewService returns the simulations service.
func NewService(db *store.DB, h ai.History, k *kb.Service) *Service {
	return &Service{db: db, history: h, kb: k}
}

var _ ai.Gate = (*Service)(nil)

// maxWindow bounds a requested window's length (ten years).
const maxWindow = 10 * 366 * 24 * time.Hour

// CheckWindow validates a requested window: both ends optional, from before to.
func CheckWindow(from, to time.Time) error {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return errs.Invalidf("from", "InvalidValue", "must be before to")
	}
	if !from.IsZero() && !to.IsZero() && to.Sub(from) > maxWindow {
		return errs.Invalidf("to", "InvalidValue", "the window is longer than ten years")
	}
	return nil
}

// InputFor reads what a replay of the account needs: its solved tickets up to the
// window's end, its articles, its macros and the AI settings (targets, tag set,
// intent target).
func (s *Service) InputFor(ctx context.Context, acct *account.Account, from, to time.Time) (Input, error) {
	in := Input{From: from, To: to}
	set, err := ai.LoadSettings(ctx, s.db.R(), acct.ID)
	if err != nil {
		return in, err
	}
	in.IntentTarget = set.IntentTarget
	for _, t := range set.Targets {
		switch t {
		case ai.TargetTags, ai.TargetArticle:
			// Tags are replayed per tag of the set; articles are ranked, not classified.
		default:
			in.Targets = append(in.Targets, t)
		}
	}
	if set.Has(ai.TargetTags) {
		in.TagSet = set.TagSet
	}
	if len(in.Targets) > 0 && in.IntentTarget != "" && !set.Has(in.IntentTarget) {
		in.Targets = append(in.Targets, in.IntentTarget)
	}
	if len(in.Targets) > 0 && !set.Has(ai.TargetMacro) {
		in.Targets = append(in.Targets, ai.TargetMacro)
	}
	if in.Records, err = s.history.Solved(ctx, acct.ID, time.Time{}, to); err != nil {
		return in, err
	}
	q := s.db.R()
	arts, err := kb.Articles(ctx, q, acct.ID, kb.ArticleFilter{})
	if err != nil {
		return in, err
	}
	trans, err := kb.TranslationsOf(ctx, q, acct.ID, kb.OfArticle)
	if err != nil {
		return in, err
	}
	for _, a := range arts {
		t := kb.Pick(trans[int64(a.ID)], a.SourceLocale, a.SourceLocale)
		if t == nil || t.Draft {
			continue
		}
		in.Articles = append(in.Articles, Article{ID: int64(a.ID), Locale: t.Locale, Title: t.Title, Body: s.kb.PlainText(t.Body)})
	}
	macros, err := rules.Macros(ctx, q, acct.ID)
	if err != nil {
		return in, err
	}
	in.Macros = map[string]Macro{}
	for _, m := range macros {
		mm := Macro{Title: m.Title}
		if res := rules.ApplyMacro(ctx, q, acct, m, nil, 0, nil); res.Comment != nil {
			mm.Body = res.Comment.Body
		}
		in.Macros[strconv.FormatInt(m.ID, 10)] = mm
	}
	return in, nil
}

// Run replays the account's history now and stores the report (the CLI's path).
func (s *Service) Run(ctx context.Context, acct *account.Account, user ids.User, from, to time.Time) (*Simulation, error) {
	sm, err := s.create(ctx, acct.ID, user, "", from, to)
	if err != nil {
		return nil, err
	}
	return s.execute(ctx, acct, sm)
}

// Start records a simulation and runs it as a job; it returns the job as recorded and
// the simulation's id.
func (s *Service) Start(ctx context.Context, runner *jobs.Runner, acct *account.Account, user ids.User, from, to time.Time) (*jobs.Status, int64, error) {
	if err := CheckWindow(from, to); err != nil {
		return nil, 0, err
	}
	sm, err := s.create(ctx, acct.ID, user, "", from, to)
	if err != nil {
		return nil, 0, err
	}
	st, err := runner.Start(ctx, jobs.Spec{Account: acct.ID, User: user, Type: JobType, Total: 1}, func(ctx context.Context, j *jobs.Job) jobs.Result {
		if err := s.setJob(ctx, acct.ID, sm.ID, j.ID()); err != nil {
			j.Log().ErrorContext(ctx, "simulation job id", "err", err)
		}
		done, err := s.execute(ctx, acct, sm)
		if err != nil {
			j.Log().ErrorContext(ctx, "simulation", "simulation", sm.ID, "err", err)
			return jobs.Result{Failed: "The simulation failed: " + publicError(err)}
		}
		return jobs.Result{Done: 1, Results: []map[string]any{{"id": done.ID, "status": done.Status, "replayed": done.Report.Replayed}}}
	})
	if err != nil {
		_ = s.finish(context.WithoutCancel(ctx), acct.ID, sm.ID, nil, "The job could not start: "+publicError(err))
		return nil, 0, err
	}
	return st, sm.ID, nil
}

// publicError is what a user may read of a failure.
func publicError(err error) string {
	if errors.Is(err, ErrNoHistory) {
		return "there are too few solved tickets to replay."
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "an internal error (see the server's log)."
}

// execute runs a recorded simulation and stores its outcome.
func (s *Service) execute(ctx context.Context, acct *account.Account, sm *Simulation) (*Simulation, error) {
	in, err := s.InputFor(ctx, acct, sm.From, sm.To)
	var rep *Report
	if err == nil {
		rep, err = Run(ctx, in)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	msg := ""
	if err != nil {
		msg = publicError(err)
		if ctx.Err() != nil {
			msg = "stopped when the server shut down."
		}
	}
	if ferr := s.finish(fctx, acct.ID, sm.ID, rep, msg); ferr != nil {
		return nil, ferr
	}
	if err != nil {
		return nil, err
	}
	return s.Get(fctx, acct.ID, sm.ID)
}

func (s *Service) create(ctx context.Context, acct ids.Account, user ids.User, job string, from, to time.Time) (*Simulation, error) {
	sm := &Simulation{Account: acct, UserID: user, JobID: job, Status: Running, From: from, To: to, CreatedAt: store.Now()}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO ai_simulations (account_id, user_id, job_id, status, window_from, window_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			acct, user, job, Running, micros(from), micros(to), store.Micros(sm.CreatedAt)).Scan(&sm.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("sim: record simulation: %w", err)
	}
	return sm, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Micros(t)
}

func (s *Service) setJob(ctx context.Context, acct ids.Account, id int64, job string) error {
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ai_simulations SET job_id = ? WHERE account_id = ? AND id = ?`, job, acct, id)
		return err
	})
}

func (s *Service) finish(ctx context.Context, acct ids.Account, id int64, rep *Report, failure string) error {
	status, report := Finished, any(nil)
	if rep != nil {
		b, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("sim: encode report: %w", err)
		}
		report = string(b)
	}
	if failure != "" || rep == nil {
		status = Failed
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE ai_simulations SET status = ?, report = ?, error = ?, finished_at = ? WHERE account_id = ? AND id = ?`,
			status, report, failure, store.Micros(store.Now()), acct, id)
		if err != nil {
			return fmt.Errorf("sim: store report: %w", err)
		}
		return nil
	})
}

const cols = `id, account_id, user_id, job_id, status, window_from, window_to, report, error, created_at, finished_at`

func scan(row interface{ Scan(...any) error }, withReport bool) (*Simulation, error) {
	var sm Simulation
	var from, to, created, finished int64
	var report sql.NullString
	if err := row.Scan(&sm.ID, &sm.Account, &sm.UserID, &sm.JobID, &sm.Status, &from, &to, &report, &sm.Error, &created, &finished); err != nil {
		return nil, err
	}
	if from != 0 {
		sm.From = store.Time(from)
	}
	if to != 0 {
		sm.To = store.Time(to)
	}
	sm.CreatedAt = store.Time(created)
	if finished != 0 {
		sm.FinishedAt = store.Time(finished)
	}
	if report.Valid && withReport {
		sm.Report = new(Report)
		if err := json.Unmarshal([]byte(report.String), sm.Report); err != nil {
			return nil, fmt.Errorf("sim: decode report %d: %w", sm.ID, err)
		}
	}
	return &sm, nil
}

// Get returns a simulation of the account with its report (NotFound otherwise).
func (s *Service) Get(ctx context.Context, acct ids.Account, id int64) (*Simulation, error) {
	sm, err := scan(s.db.R().QueryRowContext(ctx, `SELECT `+cols+` FROM ai_simulations WHERE account_id = ? AND id = ?`, acct, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("There is no simulation %d.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sim: get: %w", err)
	}
	return sm, nil
}

// List returns the account's simulations, newest first, without their reports.
func (s *Service) List(ctx context.Context, acct ids.Account, limit int) ([]*Simulation, error) {
	rows, err := s.db.R().QueryContext(ctx, `SELECT `+cols+` FROM ai_simulations WHERE account_id = ? ORDER BY id DESC LIMIT `+strconv.Itoa(max(1, limit)), acct)
	if err != nil {
		return nil, fmt.Errorf("sim: list: %w", err)
	}
	defer rows.Close()
	var out []*Simulation
	for rows.Next() {
		sm, err := scan(rows, false)
		if err != nil {
			return nil, fmt.Errorf("sim: list: %w", err)
		}
		out = append(out, sm)
	}
	return out, rows.Err()
}

// Latest returns the account's latest finished simulation; ok is false when it has none.
func (s *Service) Latest(ctx context.Context, acct ids.Account) (sm *Simulation, ok bool, err error) {
	sm, err = scan(s.db.R().QueryRowContext(ctx, `SELECT `+cols+` FROM ai_simulations WHERE account_id = ? AND status = ? ORDER BY id DESC LIMIT 1`, acct, Finished), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sim: latest: %w", err)
	}
	return sm, true, nil
}

// Evidence implements ai.Gate: what the latest finished simulation measured for the
// intent value of target. ok is false when no finished simulation replayed that
// intent target or that value.
func (s *Service) Evidence(ctx context.Context, acct ids.Account, target, value string) (ai.Evidence, bool, error) {
	sm, ok, err := s.Latest(ctx, acct)
	if err != nil || !ok {
		return ai.Evidence{}, false, err
	}
	rep := sm.Report
	if rep == nil || rep.IntentTarget != target {
		return ai.Evidence{}, false, nil
	}
	row := rep.Intent(value)
	if row == nil {
		return ai.Evidence{}, false, nil
	}
	return ai.Evidence{SimulationID: sm.ID, FinishedAt: sm.FinishedAt, Target: target, Value: value, Threshold: rep.Resolution.Threshold,
		Precision: row.Precision, Tickets: row.Tickets, Answered: row.Answered}, true, nil
}
