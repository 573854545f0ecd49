package ai

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"tandem/internal/ai/learn"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// keepVersions is how many model versions an account keeps; older ones are deleted
// when a new one is saved.
const keepVersions = 5

// Figures are what a training measured for one target on the held-out part of the
// history (the most recent tickets: never a random split).
type Figures struct {
	// Kind is the model chosen ("nb" or "lr"), for the best held-out figures.
	Kind string `json:"kind"`
	// Examples are the tickets trained on; Labels the distinct values.
	Examples int `json:"examples"`
	Labels   int `json:"labels"`
	// Tested is the number of held-out tickets measured (0: too few to measure).
	Tested int `json:"tested"`
	// Top1 is the held-out accuracy of the most likely value.
	Top1 float64 `json:"top1"`
	// Threshold is the lowest confidence whose predictions reach precision 0.95 on the
	// held-out tickets, and Coverage the share of them at or above it (0 when none).
	Threshold float64 `json:"threshold"`
	Coverage  float64 `json:"coverage"`
	// ECE is the expected calibration error (10 bins) after calibration.
	ECE float64 `json:"ece"`
	// Compared holds the top-1 of every model kind tried, by kind.
	Compared map[string]float64 `json:"compared,omitempty"`
	// Note says why a target has no model or why its figures are weak (few examples).
	Note string `json:"note,omitempty"`
}

// minMeasured is the fewest held-out tickets whose threshold is trusted over
// DefaultThreshold.
const minMeasured = 30

// measured is the threshold the figures vouch for (0 when measured on too few tickets).
func (f Figures) measured() float64 {
	if f.Tested < minMeasured {
		return 0
	}
	return f.Threshold
}

// Version is one stored model version and its figures.
type Version struct {
	Version   int64
	CreatedAt time.Time
	// Examples is the number of solved tickets trained on; TrainedThrough the creation
	// time of the newest of them.
	Examples       int
	TrainedThrough time.Time
	Figures        map[string]Figures
}

// blob is what ai_models.blob holds: one encoded classifier per target.
type blob struct {
	Targets      map[string][]byte
	IntentTarget string
}

// Store keeps the accounts' model versions (ai_models) and answers for the current one
// (ai.Source). It caches each account's decoded models in the process and reloads them
// when a newer version or newer settings are stored, whichever process stored them.
type Store struct {
	db    *store.DB
	mu    sync.Mutex
	cache map[ids.Account]*cached
	// bySettings is the cache a ticket write reads, behind the account's settings
	// version (models and settings are among the settings it follows), so a write
	// does not read the models' version itself.
	bySettings store.SettingsCache[*cached]
}

type cached struct {
	version  int64
	settings int64 // ai_settings.updated_at when loaded
	models   *Models
	set      *Settings
	figures  map[string]Figures
}

// NewStore returns the model store over db.
func NewStore(db *store.DB) *Store {
	return &Store{db: db, cache: map[ids.Account]*cached{}}
}

var _ Source = (*Store)(nil)

// Current returns the account's latest model set, with the thresholds in force (the
// admin's, else the measured ones); ok is false while none is trained.
func (s *Store) Current(ctx context.Context, acct ids.Account) (*Models, bool, error) {
	c, err := s.load(ctx, s.db.R(), acct)
	if err != nil || c.models == nil {
		return nil, false, err
	}
	return c.models, true, nil
}

// Triage returns what triage needs in one look-up: the settings and the latest models
// (nil while none is trained). It costs one small query when nothing changed, made
// through q: inside a write, its transaction, so that a create never waits for a second
// pooled connection (on PostgreSQL, concurrent creates could hold them all).
func (s *Store) Triage(ctx context.Context, q store.Queryer, acct ids.Account) (*Settings, *Models, error) {
	c, err := s.load(ctx, q, acct)
	if err != nil {
		return nil, nil, err
	}
	return c.set, c.models, nil
}

func (s *Store) load(ctx context.Context, q store.Queryer, acct ids.Account) (*cached, error) {
	if tx, ok := q.(*store.Tx); ok {
		return s.bySettings.Get(ctx, tx, int64(acct), func() (*cached, error) { return s.loadVersion(ctx, q, acct) })
	}
	return s.loadVersion(ctx, q, acct)
}

// loadVersion returns the account's cached models and settings, after one query that
// tells whether they are current.
func (s *Store) loadVersion(ctx context.Context, q store.Queryer, acct ids.Account) (*cached, error) {
	var version, settingsAt int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(version) FROM ai_models WHERE account_id = ?), 0), COALESCE((SELECT updated_at FROM ai_settings WHERE account_id = ?), 0)`,
		acct, acct).Scan(&version, &settingsAt)
	if err != nil {
		return nil, fmt.Errorf("ai: model version: %w", err)
	}
	s.mu.Lock()
	c := s.cache[acct]
	s.mu.Unlock()
	if c != nil && c.version == version && c.settings == settingsAt {
		return c, nil
	}
	set, err := LoadSettings(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	c = &cached{version: version, settings: settingsAt, set: set}
	if version > 0 {
		if c.models, c.figures, err = s.decode(ctx, q, acct, version, set); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	if old := s.cache[acct]; old == nil || old.version <= version {
		s.cache[acct] = c
	}
	s.mu.Unlock()
	return c, nil
}

func (s *Store) decode(ctx context.Context, q store.Queryer, acct ids.Account, version int64, set *Settings) (*Models, map[string]Figures, error) {
	var raw []byte
	var figs string
	var at int64
	err := q.QueryRowContext(ctx, `SELECT blob, figures, created_at FROM ai_models WHERE account_id = ? AND version = ?`, acct, version).Scan(&raw, &figs, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil // pruned between the two reads: the next call sees the newer one
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ai: load model %d: %w", version, err)
	}
	var b blob
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&b); err != nil {
		return nil, nil, fmt.Errorf("ai: model %d of account %d: %w", version, acct, err)
	}
	figures := map[string]Figures{}
	if err := json.Unmarshal([]byte(figs), &figures); err != nil {
		return nil, nil, fmt.Errorf("ai: figures of model %d of account %d: %w", version, acct, err)
	}
	m := &Models{Version: version, TrainedAt: store.Time(at), Targets: map[string]*learn.Classifier{}, Thresholds: map[string]float64{}, IntentTarget: set.IntentTarget}
	if m.IntentTarget == "" {
		m.IntentTarget = b.IntentTarget
	}
	for name, enc := range b.Targets {
		c, err := learn.Unmarshal(enc)
		if err != nil {
			return nil, nil, fmt.Errorf("ai: model %d of account %d, target %s: %w", version, acct, name, err)
		}
		m.Targets[name] = c
		m.Thresholds[name] = set.Threshold(baseTarget(name), figures[name].measured())
	}
	return m, figures, nil
}

// Save stores a new version of the account's models with their figures and returns it.
// Only the latest keepVersions versions are kept.
func (s *Store) Save(ctx context.Context, acct ids.Account, m *Models, figures map[string]Figures, examples int, through time.Time) (int64, error) {
	b := blob{Targets: map[string][]byte{}, IntentTarget: m.IntentTarget}
	for name, c := range m.Targets {
		enc, err := c.MarshalBinary()
		if err != nil {
			return 0, err
		}
		b.Targets[name] = enc
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(b); err != nil {
		return 0, fmt.Errorf("ai: encode models: %w", err)
	}
	figs, err := json.Marshal(figures)
	if err != nil {
		return 0, fmt.Errorf("ai: encode figures: %w", err)
	}
	var version int64
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, fmt.Sprintf("ai-models-%d", acct)); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM ai_models WHERE account_id = ?`, acct).Scan(&version); err != nil {
			return fmt.Errorf("ai: next model version: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ai_models (account_id, version, blob, figures, examples, trained_through, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			acct, version, buf.Bytes(), string(figs), examples, store.Micros(through), store.Micros(store.Now())); err != nil {
			return fmt.Errorf("ai: save models: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ai_models WHERE account_id = ? AND version <= ?`, acct, version-keepVersions); err != nil {
			return fmt.Errorf("ai: prune models: %w", err)
		}
		return nil
	})
	return version, err
}

// Versions lists the account's stored model versions, newest first, with their figures.
func (s *Store) Versions(ctx context.Context, acct ids.Account) ([]Version, error) {
	rs, err := s.db.R().QueryContext(ctx, `SELECT version, created_at, examples, trained_through, figures FROM ai_models WHERE account_id = ? ORDER BY version DESC`, acct)
	if err != nil {
		return nil, fmt.Errorf("ai: model versions: %w", err)
	}
	defer rs.Close()
	var out []Version
	for rs.Next() {
		var v Version
		var at, through int64
		var figs string
		if err := rs.Scan(&v.Version, &at, &v.Examples, &through, &figs); err != nil {
			return nil, fmt.Errorf("ai: model versions: %w", err)
		}
		v.CreatedAt, v.TrainedThrough = store.Time(at), store.Time(through)
		if err := json.Unmarshal([]byte(figs), &v.Figures); err != nil {
			return nil, fmt.Errorf("ai: figures of model %d: %w", v.Version, err)
		}
		out = append(out, v)
	}
	return out, rs.Err()
}

// Latest returns the newest version's summary; ok is false while none is trained.
func (s *Store) Latest(ctx context.Context, acct ids.Account) (v Version, ok bool, err error) {
	vs, err := s.Versions(ctx, acct)
	if err != nil || len(vs) == 0 {
		return Version{}, false, err
	}
	return vs[0], true, nil
}

// baseTarget is the settings' name of a model's target: "tags:NAME" models are the
// tags target's.
func baseTarget(name string) string {
	if len(name) > 5 && name[:5] == "tags:" {
		return TargetTags
	}
	return name
}

// TargetNames returns the model's target names in a stable order.
func (m *Models) TargetNames() []string {
	out := make([]string, 0, len(m.Targets))
	for n := range m.Targets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
