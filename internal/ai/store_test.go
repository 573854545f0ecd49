package ai_test

import (
	"context"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/learn"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func newAccount(t *testing.T, db *store.DB, sub string) *account.Account {
	t.Helper()
	var a *account.Account
	err := db.Write(context.Background(), func(tx *store.Tx) (err error) {
		a, err = account.Create(context.Background(), tx, sub, sub, account.Enterprise)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func tinyModel(t *testing.T, a, b string) *learn.Classifier {
	t.Helper()
	c, err := learn.Train([]learn.Example{{Text: "card arrive", Label: a}, {Text: "card late", Label: a}, {Text: "password reset", Label: b}, {Text: "forgot password", Label: b}}, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAIUser: the account's AI user is created once, on first use, through the people
// write path: an agent with no email and no password, one per account.
func TestAIUser(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acme, globex := newAccount(t, db, "aiuser1"), newAccount(t, db, "aiuser2")
		var first, again, other int64
		for _, c := range []struct {
			acct *account.Account
			dst  *int64
		}{{acme, &first}, {acme, &again}, {globex, &other}} {
			err := db.Write(ctx, func(tx *store.Tx) error {
				a, err := ai.Actor(ctx, tx, c.acct)
				*c.dst = int64(a.UserID)
				if err == nil && (a.Role != identity.Agent || a.Name != ai.UserName) {
					t.Errorf("actor %+v", a)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if first == 0 || first != again || other == first {
			t.Fatalf("AI users: %d, %d, other account %d", first, again, other)
		}
		u, err := identity.Get(ctx, db.R(), acme.ID, ids.User(first))
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "" || u.PasswordHash != "" || u.Role != identity.Agent || !u.Active {
			t.Errorf("AI user %+v: want an agent nobody signs in as", u)
		}
		if _, err := identity.Get(ctx, db.R(), globex.ID, ids.User(first)); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("acme's AI user seen from globex: %v", err)
		}
	})
}

// TestModelStore: versions per account, the latest served to every process (a second
// Store stands for another serve process on the same database), settings changes seen
// at once, old versions pruned, other accounts never served.
func TestModelStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acme, globex := newAccount(t, db, "aistore1"), newAccount(t, db, "aistore2")
		one, two := ai.NewStore(db), ai.NewStore(db)
		if _, ok, err := one.Current(ctx, acme.ID); ok || err != nil {
			t.Fatalf("before training: ok %v err %v", ok, err)
		}
		m := &ai.Models{Targets: map[string]*learn.Classifier{ai.TargetPriority: tinyModel(t, "high", "low")}}
		figs := map[string]ai.Figures{ai.TargetPriority: {Kind: "nb", Examples: 4, Threshold: 0.7}}
		v1, err := one.Save(ctx, acme.ID, m, figs, 4, time.Now())
		if err != nil || v1 != 1 {
			t.Fatalf("save: %d %v", v1, err)
		}
		got, ok, err := two.Current(ctx, acme.ID)
		if err != nil || !ok || got.Version != 1 || got.Thresholds[ai.TargetPriority] != 0.7 {
			t.Fatalf("other process: %+v %v %v", got, ok, err)
		}
		if p := got.Targets[ai.TargetPriority].Top("my card is late", 0); p.Label != "high" {
			t.Errorf("served model predicts %+v", p)
		}
		if _, ok, _ := two.Current(ctx, globex.ID); ok {
			t.Fatal("globex served acme's model")
		}
		// A newer version saved by one process is what the other serves next.
		m2 := &ai.Models{Targets: map[string]*learn.Classifier{ai.TargetPriority: tinyModel(t, "urgent", "normal")}}
		if _, err := two.Save(ctx, acme.ID, m2, figs, 4, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := one.Current(ctx, acme.ID); got.Version != 2 || got.Targets[ai.TargetPriority].Top("card late", 0).Label != "urgent" {
			t.Fatalf("after a new version: %d", got.Version)
		}
		// The admin's threshold overrides the measured one, at once.
		err = db.Write(ctx, func(tx *store.Tx) error {
			return ai.SaveSettings(ctx, tx, &ai.Settings{Account: acme.ID, Targets: []string{ai.TargetPriority}, Thresholds: map[string]float64{ai.TargetPriority: 0.8}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := one.Current(ctx, acme.ID); got.Thresholds[ai.TargetPriority] != 0.8 {
			t.Fatalf("threshold %v after settings", got.Thresholds)
		}
		for range 6 {
			if _, err := one.Save(ctx, acme.ID, m2, figs, 4, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		vs, err := one.Versions(ctx, acme.ID)
		if err != nil || len(vs) != 5 || vs[0].Version != 8 || vs[0].Figures[ai.TargetPriority].Kind != "nb" {
			t.Fatalf("versions %d (%v)", len(vs), err)
		}
		if vs, _ := one.Versions(ctx, globex.ID); len(vs) != 0 {
			t.Fatalf("globex has %d versions", len(vs))
		}
	})
}

// TestSettingsValidation: unknown targets, thresholds out of range, tags without a tag
// set and an intent target outside the targets are refused with the field named.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acme := newAccount(t, db, "aiset1")
		for name, s := range map[string]ai.Settings{
			"unknown target":     {Targets: []string{"colour"}},
			"text custom field":  {Targets: []string{"custom_field_999"}},
			"threshold too low":  {Targets: []string{ai.TargetGroup}, Thresholds: map[string]float64{ai.TargetGroup: 0.2}},
			"threshold too high": {Targets: []string{ai.TargetGroup}, Thresholds: map[string]float64{ai.TargetGroup: 1.5}},
			"tags without a set": {Targets: []string{ai.TargetTags}},
			"intent not chosen":  {Targets: []string{ai.TargetGroup}, IntentTarget: ai.TargetPriority},
		} {
			s.Account = acme.ID
			err := db.Write(ctx, func(tx *store.Tx) error { return ai.SaveSettings(ctx, tx, &s) })
			if errs.CodeOf(err) != errs.Invalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		s, err := ai.LoadSettings(ctx, db.R(), acme.ID)
		if err != nil || len(s.Targets) != 0 || s.RetrainAfter != ai.DefaultRetrainAfter {
			t.Fatalf("after refusals: %+v %v", s, err)
		}
	})
}
