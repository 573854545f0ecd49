package ai_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/ai"
	"tandem/internal/ai/learn"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// banking77 reads a BANKING77 split (testdata/banking77, CC BY 4.0: see its README).
func banking77(tb testing.TB, split string) [][2]string {
	tb.Helper()
	f, err := os.Open("testdata/banking77/" + split + ".csv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][2]string, 0, len(rows))
	for _, r := range rows[1:] {
		out = append(out, [2]string{r[0], r[1]})
	}
	return out
}

// BenchmarkTriageCreate measures what triage adds to a ticket's creation: tickets from
// BANKING77's test set are created through the write path on SQLite with and without
// the triage hook (a 77-intent logistic regression on a drop-down field, trained on
// the training set), and the p50/p99 of each are reported, with those of the triage
// hook itself (prediction, the AI user, applying and recording): what triage adds.
func BenchmarkTriageCreate(b *testing.B) {
	ctx := context.Background()
	train, test := banking77(b, "train"), banking77(b, "test")
	db := storetest.Open(b, store.SQLite)
	var acct *account.Account
	var field ticket.Field
	var requester identity.User
	err := db.Write(ctx, func(tx *store.Tx) (err error) {
		if acct, err = account.Create(ctx, tx, "bench", "Bench", account.Enterprise); err != nil {
			return err
		}
		requester = identity.User{AccountID: acct.ID, Name: "Rita", Email: "rita@bench.test", Role: identity.EndUser}
		if err := identity.Insert(ctx, tx, &requester); err != nil {
			return err
		}
		field = ticket.Field{AccountID: acct.ID, Type: "tagger", Title: "Intent", Active: true}
		seen := map[string]bool{}
		for _, r := range train {
			if !seen[r[1]] {
				seen[r[1]] = true
				field.Options = append(field.Options, ticket.FieldOption{Name: r[1], Value: r[1]})
			}
		}
		return ticket.SaveField(ctx, tx, &field)
	})
	if err != nil {
		b.Fatal(err)
	}
	ex := make([]learn.Example, len(train))
	for i, r := range train {
		ex[i] = learn.Example{Text: r[0], Label: r[1]}
	}
	c, err := learn.Train(ex, learn.Options{Kind: learn.Logistic, Epochs: 3})
	if err != nil {
		b.Fatal(err)
	}
	target := ai.CustomFieldTarget(field.ID)
	st := ai.NewStore(db)
	if _, err := st.Save(ctx, acct.ID, &ai.Models{Targets: map[string]*learn.Classifier{target: c}}, map[string]ai.Figures{}, len(ex), time.Now()); err != nil {
		b.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return ai.SaveSettings(ctx, tx, &ai.Settings{Account: acct.ID, Triage: true, Targets: []string{target}, IntentTarget: target, Thresholds: map[string]float64{target: 0.6}})
	}); err != nil {
		b.Fatal(err)
	}
	plain, triaged := ticket.NewService(db), ticket.NewService(db)
	tg := ai.NewTriage(st, nil)
	var hook []time.Duration
	triaged.Before(func(ctx context.Context, tx *store.Tx, ch *ticket.Change) error {
		start := time.Now()
		err := tg.BeforeWrite(ctx, tx, ch)
		hook = append(hook, time.Since(start))
		return err
	})
	triaged.After(tg.AfterWrite)
	actor := ticket.Actor{UserID: requester.ID, Role: identity.EndUser}
	create := func(svc *ticket.Service, i int) time.Duration {
		start := time.Now()
		if _, err := svc.Create(ctx, acct, actor, &ticket.Patch{Subject: ticket.Ptr("Help"), Comment: &ticket.CommentInput{Body: test[i%len(test)][0]}}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	const n = 400
	var off, on []time.Duration
	for b.Loop() {
		create(triaged, 0) // the AI user and the cache, once
		off, on, hook = off[:0], on[:0], hook[:0]
		for i := range n {
			off = append(off, create(plain, i))
			on = append(on, create(triaged, i))
		}
	}
	q := func(d []time.Duration, p float64) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(off, 0.5), "p50-ms-without")
	b.ReportMetric(q(on, 0.5), "p50-ms-with")
	b.ReportMetric(q(off, 0.99), "p99-ms-without")
	b.ReportMetric(q(on, 0.99), "p99-ms-with")
	b.ReportMetric(q(hook, 0.5), "p50-ms-hook")
	b.ReportMetric(q(hook, 0.99), "p99-ms-hook")
	var applied int
	_ = db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_predictions WHERE account_id = ? AND applied = ?`, acct.ID, true).Scan(&applied)
	b.Logf("%d tickets each way; applied predictions: %d", n, applied)
}

// synthHistory makes n tickets from BANKING77's training texts (each text several
// times with a different order number, greeting and signature, so the vocabulary grows
// as a real history's does), labelled with the intent, a group (one per 8 intents), a
// priority and tags.
func synthHistory(tb testing.TB, n int) []ai.Record {
	train := banking77(tb, "train")
	intents := map[string]int{}
	greet := []string{"Hi,", "Hello team,", "Good morning.", "Hey", "Bonjour,", ""}
	sign := []string{"Thanks", "Regards, Sam", "Cheers", "Sent from my phone", "", "Best, Alex"}
	out := make([]ai.Record, n)
	for i := range out {
		r := train[i%len(train)]
		ix, ok := intents[r[1]]
		if !ok {
			ix = len(intents)
			intents[r[1]] = ix
		}
		text := fmt.Sprintf("%s %s order %d. %s", greet[i%len(greet)], r[0], 100000+i*7919%900000, sign[(i/7)%len(sign)])
		prio := []string{"low", "normal", "normal", "high"}[(ix+i%3)%4]
		tags := []string{fmt.Sprint("team", ix%5)}
		if strings.Contains(r[1], "card") {
			tags = append(tags, "cards")
		}
		out[i] = ai.Record{CreatedAt: time.Unix(int64(i), 0), Subject: "", Body: text,
			Labels: map[string][]string{"custom_field_1": {r[1]}, ai.TargetGroup: {fmt.Sprint(1 + ix/8)}, ai.TargetPriority: {prio}, ai.TargetTags: tags}}
	}
	return out
}
