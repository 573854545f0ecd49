package kb_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/kb"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func newAccount(t *testing.T, db *store.DB, sub string, plan account.Plan) *account.Account {
	t.Helper()
	var a *account.Account
	err := db.Write(context.Background(), func(tx *store.Tx) (err error) {
		a, err = account.Create(context.Background(), tx, sub, sub, plan)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestServiceWritesHistoryAndSearch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := kb.NewService(db)
		acct := newAccount(t, db, "kbsvc", account.Team)
		other := newAccount(t, db, "kbother", account.Enterprise)
		cat, err := svc.SaveCategory(ctx, acct, 0, 0, kb.CategoryIn{Locale: "en-us", Name: ptr("Orders")})
		if err != nil {
			t.Fatal(err)
		}
		sec, err := svc.SaveSection(ctx, acct, 0, 0, kb.SectionIn{CategoryID: &cat.ID, Name: ptr("Returns")})
		if err != nil {
			t.Fatal(err)
		}
		// Nested sections need Enterprise.
		if _, err := svc.SaveSection(ctx, acct, 0, 0, kb.SectionIn{CategoryID: &cat.ID, ParentSectionID: &sec.ID, Name: ptr("Sub")}); errs.CodeOf(err) != errs.PlanRequired {
			t.Errorf("nested section on Team: %v, want plan_required", err)
		}
		a, err := svc.CreateArticle(ctx, acct, 7, kb.ArticleIn{SectionID: &sec.ID, Labels: &[]string{"returns", "Returns", " label "},
			Text: kb.TextIn{Title: ptr("How do I return an order?"), Markdown: ptr("Print the **label**.\n\n<script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">x</a><iframe src=\"https://evil\"></iframe>"), Draft: ptr(true)}})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Labels) != 2 {
			t.Errorf("labels %v: want duplicates folded", a.Labels)
		}
		tr, err := kb.GetTranslation(ctx, db.R(), acct.ID, kb.OfArticle, int64(a.ID), "en-us")
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "javascript:", "onclick", "<iframe"} {
			if strings.Contains(tr.Body, bad) {
				t.Errorf("body kept %s: %s", bad, tr.Body)
			}
		}
		if !strings.Contains(tr.Body, "<strong>label</strong>") {
			t.Errorf("markdown not rendered: %s", tr.Body)
		}
		// Drafts are found by agents only.
		anon := kb.Viewer{}
		if res, _, _ := svc.Search(ctx, acct.ID, anon, kb.Query{Text: "return"}, 0, 10); len(res) != 0 {
			t.Errorf("anonymous found a draft: %v", res)
		}
		if res, _, _ := svc.Search(ctx, acct.ID, kb.Viewer{UserID: 7, Staff: true}, kb.Query{Text: "return"}, 0, 10); len(res) != 1 {
			t.Errorf("agent search: %d results, want 1", len(res))
		}
		// Publish through the translation; the history keeps both versions.
		if _, _, err := svc.PutTranslation(ctx, acct, 8, kb.OfArticle, int64(a.ID), "en-us", kb.TextIn{Draft: ptr(false), Title: ptr("Returning an order")}); err != nil {
			t.Fatal(err)
		}
		res, total, err := svc.Search(ctx, acct.ID, anon, kb.Query{Text: "returning"}, 0, 10)
		if err != nil || total != 1 || res[0].Translation.Title != "Returning an order" {
			t.Fatalf("search after publish: %v %d %v", res, total, err)
		}
		revs, err := kb.Revisions(ctx, db.R(), acct.ID, a.ID)
		if err != nil || len(revs) != 2 {
			t.Fatalf("revisions: %v %v", revs, err)
		}
		if revs[0].ActorID != 8 || !strings.Contains(revs[0].Action, "published") || revs[1].Title != "How do I return an order?" {
			t.Errorf("history: %+v / %+v", revs[0], revs[1])
		}
		// French translation, searched with French stemming.
		if _, _, err := svc.PutTranslation(ctx, acct, 8, kb.OfArticle, int64(a.ID), "fr", kb.TextIn{Title: ptr("Retourner une commande"), Body: ptr("<p>Imprimez l'étiquette.</p>")}); err != nil {
			t.Fatal(err)
		}
		if res, _, _ := svc.Search(ctx, acct.ID, anon, kb.Query{Text: "commandes etiquettes", Locale: "fr"}, 0, 10); len(res) != 1 || res[0].Translation.Locale != "fr" {
			t.Errorf("french search: %v", res)
		}
		// Another account sees nothing of it.
		if res, _, _ := svc.Search(ctx, other.ID, kb.Viewer{Staff: true}, kb.Query{Text: "return"}, 0, 10); len(res) != 0 {
			t.Errorf("other account found %d", len(res))
		}
		if _, err := kb.GetArticle(ctx, db.R(), other.ID, a.ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("other account get: %v", err)
		}
		// Votes: one per user, replaced.
		for _, v := range []int{1, -1} {
			if _, err := svc.Vote(ctx, acct.ID, 9, a.ID, v, "unclear"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Vote(ctx, acct.ID, 0, a.ID, 1, ""); err != nil {
			t.Fatal(err)
		}
		if v, _ := kb.VotesFor(ctx, db.R(), acct.ID, a.ID); v.Count != 2 || v.Sum != 0 {
			t.Errorf("votes %+v, want 2 votes summing to 0", v)
		}
		// Deleting the category takes everything with it.
		if err := svc.Delete(ctx, acct, kb.OfCategory, int64(cat.ID)); err != nil {
			t.Fatal(err)
		}
		if res, _, _ := svc.Search(ctx, acct.ID, kb.Viewer{Staff: true}, kb.Query{Text: "return"}, 0, 10); len(res) != 0 {
			t.Errorf("deleted article still found")
		}
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	svc := kb.NewService(db)
	acct := newAccount(t, db, "kbval", account.Team)
	cat, _ := svc.SaveCategory(ctx, acct, 0, 0, kb.CategoryIn{Name: ptr("C")})
	sec, _ := svc.SaveSection(ctx, acct, 0, 0, kb.SectionIn{CategoryID: &cat.ID, Name: ptr("S")})
	for name, in := range map[string]kb.ArticleIn{
		"no title":       {SectionID: &sec.ID},
		"blank title":    {SectionID: &sec.ID, Text: kb.TextIn{Title: ptr("  ")}},
		"bad section":    {SectionID: ptr(kb.SectionID(999)), Text: kb.TextIn{Title: ptr("x")}},
		"bad visibility": {SectionID: &sec.ID, Visibility: ptr(kb.Visibility("friends")), Text: kb.TextIn{Title: ptr("x")}},
		"orgs without":   {SectionID: &sec.ID, Visibility: ptr(kb.Organizations), Text: kb.TextIn{Title: ptr("x")}},
		"bad locale":     {Locale: "not a locale", SectionID: &sec.ID, Text: kb.TextIn{Title: ptr("x")}},
	} {
		if _, err := svc.CreateArticle(ctx, acct, 0, in); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	got := kb.Diff(kb.TextLines("<p>one</p><p>two</p><p>three</p>"), kb.TextLines("<p>one</p><p>2</p><p>three</p><p>four &amp; more</p>"))
	var b strings.Builder
	for _, l := range got {
		b.WriteString(string(l.Op) + l.Text + "|")
	}
	if want := " one|-two|+2| three|+four & more|"; b.String() != want {
		t.Errorf("diff %q, want %q", b.String(), want)
	}
}

// TestIndexSeesOtherProcesses: a change made through another Service (another server
// process on the same database) is found by this one's next search.
func TestIndexSeesOtherProcesses(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		one, two := kb.NewService(db), kb.NewService(db)
		acct := newAccount(t, db, "kbprocs", account.Team)
		cat, _ := one.SaveCategory(ctx, acct, 0, 0, kb.CategoryIn{Name: ptr("C")})
		sec, _ := one.SaveSection(ctx, acct, 0, 0, kb.SectionIn{CategoryID: &cat.ID, Name: ptr("S")})
		a, err := one.CreateArticle(ctx, acct, 0, kb.ArticleIn{SectionID: &sec.ID, Text: kb.TextIn{Title: ptr("Lantern batteries")}})
		if err != nil {
			t.Fatal(err)
		}
		staff := kb.Viewer{Staff: true}
		if res, _, _ := one.Search(ctx, acct.ID, staff, kb.Query{Text: "lantern"}, 0, 5); len(res) != 1 {
			t.Fatalf("first search: %d results", len(res))
		}
		if _, _, err := two.PutTranslation(ctx, acct, 0, kb.OfArticle, int64(a.ID), "en-us", kb.TextIn{Title: ptr("Headlamp batteries")}); err != nil {
			t.Fatal(err)
		}
		if res, _, _ := one.Search(ctx, acct.ID, staff, kb.Query{Text: "headlamp"}, 0, 5); len(res) != 1 || res[0].Translation.Title != "Headlamp batteries" {
			t.Errorf("after another process's change: %v", res)
		}
		if res, _, _ := one.Search(ctx, acct.ID, staff, kb.Query{Text: "lantern"}, 0, 5); len(res) != 0 {
			t.Errorf("old title still found: %v", res)
		}
	})
}

// TestEmptyFollowsArticles: Empty (which lets the acknowledgement mail skip reading its
// reader's organizations) says an account has no articles until one is written, and
// again once it is deleted, whether asked in a write transaction (through the cached
// knowledge-base version) or on the read pool.
func TestEmptyFollowsArticles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := kb.NewService(db)
		acct := newAccount(t, db, "kbempty", account.Team)
		other := newAccount(t, db, "kbfull", account.Team)
		want := func(a *account.Account, empty bool) {
			t.Helper()
			if got, err := svc.Empty(ctx, db.R(), a.ID); err != nil || got != empty {
				t.Errorf("%s: read pool: empty %v (%v), want %v", a.Subdomain, got, err, empty)
			}
			err := db.Write(ctx, func(tx *store.Tx) error {
				got, err := svc.Empty(ctx, tx, a.ID)
				if err == nil && got != empty {
					t.Errorf("%s: in a write: empty %v, want %v", a.Subdomain, got, empty)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		want(acct, true)
		want(other, true)
		cat, err := svc.SaveCategory(ctx, other, 0, 0, kb.CategoryIn{Locale: "en-us", Name: ptr("Orders")})
		if err != nil {
			t.Fatal(err)
		}
		sec, err := svc.SaveSection(ctx, other, 0, 0, kb.SectionIn{CategoryID: &cat.ID, Name: ptr("Returns")})
		if err != nil {
			t.Fatal(err)
		}
		a, err := svc.CreateArticle(ctx, other, 7, kb.ArticleIn{SectionID: &sec.ID, Text: kb.TextIn{Title: ptr("Returns"), Markdown: ptr("Print the label.")}})
		if err != nil {
			t.Fatal(err)
		}
		want(other, false)
		want(acct, true)
		if err := svc.Delete(ctx, other, kb.OfArticle, int64(a.ID)); err != nil {
			t.Fatal(err)
		}
		want(other, true)
	})
}
