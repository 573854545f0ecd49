package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/kb"
	"tandem/internal/kb/rank"
	"tandem/internal/store"
)

// The knowledge base benchmark: ranking quality on BANKING77 (one article per intent,
// testdata/banking77) and search and article page latency with 10,000 articles.

// KBArticle is a benchmark article: the intent it answers, its title and body.
type KBArticle struct{ Intent, Title, Body string }

// KBQuery is a customer message and the intent it belongs to.
type KBQuery struct{ Text, Intent string }

// LoadBanking77 reads the articles and the train and test messages from dir.
func LoadBanking77(dir string) (arts []KBArticle, train, test []KBQuery, err error) {
	raw, err := os.ReadFile(filepath.Join(dir, "articles.tsv"))
	if err != nil {
		return nil, nil, nil, err
	}
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, nil, nil, fmt.Errorf("articles.tsv line %d: want 3 fields", i+1)
		}
		arts = append(arts, KBArticle{f[0], f[1], f[2]})
	}
	read := func(name string) ([]KBQuery, error) {
		fh, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		rows, err := csv.NewReader(fh).ReadAll()
		if err != nil {
			return nil, err
		}
		var out []KBQuery
		for _, r := range rows[1:] {
			out = append(out, KBQuery{r[0], r[1]})
		}
		return out, nil
	}
	if train, err = read("train.csv"); err != nil {
		return nil, nil, nil, err
	}
	test, err = read("test.csv")
	return arts, train, test, err
}

// KBQualityResult is the ranking quality of one way of indexing the articles.
type KBQualityResult struct {
	Name        string
	P1, Hit3    float64
	Queries     int
	PerQueryAvg time.Duration
}

// KBQuality ranks every test message against the articles indexed three ways: titles
// only, titles and bodies, and titles, bodies and the train messages as learned
// phrasings (what linking solved tickets to their article gives). Precision@1 is the
// share of messages whose intent's article ranks first, hit@3 in the first three.
func KBQuality(arts []KBArticle, train, test []KBQuery) []KBQualityResult {
	phr := map[string][]string{}
	for _, q := range train {
		phr[q.Intent] = append(phr[q.Intent], q.Text)
	}
	configs := []struct {
		name string
		doc  func(i int, a KBArticle) rank.Doc
	}{
		{"title only (baseline)", func(i int, a KBArticle) rank.Doc { return rank.Doc{ID: int64(i), Locale: "en-us", Title: a.Title} }},
		{"title + body", func(i int, a KBArticle) rank.Doc {
			return rank.Doc{ID: int64(i), Locale: "en-us", Title: a.Title, Body: a.Body}
		}},
		{"title + body + learned phrasings (train.csv)", func(i int, a KBArticle) rank.Doc {
			return rank.Doc{ID: int64(i), Locale: "en-us", Title: a.Title, Body: a.Body, Phrasings: phr[a.Intent]}
		}},
	}
	var out []KBQualityResult
	for _, c := range configs {
		docs := make([]rank.Doc, len(arts))
		for i, a := range arts {
			docs[i] = c.doc(i, a)
		}
		ix := rank.Build(docs)
		var p1, h3 int
		start := time.Now()
		for _, q := range test {
			hits, _ := ix.Search(rank.Query{Text: q.Text, Lang: rank.English, Limit: 3})
			for k, h := range hits[:min(3, len(hits))] {
				if arts[h.ID].Intent == q.Intent {
					if k == 0 {
						p1++
					}
					h3++
					break
				}
			}
		}
		n := float64(len(test))
		out = append(out, KBQualityResult{Name: c.name, P1: float64(p1) / n, Hit3: float64(h3) / n, Queries: len(test), PerQueryAvg: time.Since(start) / time.Duration(len(test))})
	}
	return out
}

// KBSpeedResult is search and page latency with many articles in one account.
type KBSpeedResult struct {
	Articles   int
	Seed       time.Duration
	FirstBuild time.Duration // the first search, which builds the account's index
	Search     Stats
	Page       Stats
}

// KBSpeed fills an account with n articles (the BANKING77 articles, each repeated with
// a variant number and a few train messages in its body, so texts differ), then
// measures kb.Service.Search for test messages (the path behind the help center, the
// API and the sidebar: visibility filter, version check, ranking, snippets) and the
// help center's article page over HTTP, one client each, for the duration.
func KBSpeed(db *store.DB, n int, arts []KBArticle, train, test []KBQuery, d time.Duration) (KBSpeedResult, error) {
	ctx := context.Background()
	res := KBSpeedResult{Articles: n}
	desk, err := StartDesk(db)
	if err != nil {
		return res, err
	}
	defer desk.Stop()
	c, err := desk.NewAccount("kbbench", account.Enterprise)
	if err != nil {
		return res, err
	}
	acct, err := desk.Srv.Accounts.BySubdomain(ctx, "kbbench")
	if err != nil {
		return res, err
	}
	svc := desk.Srv.KB
	name := "Banking"
	cat, err := svc.SaveCategory(ctx, acct, 0, 0, kb.CategoryIn{Name: &name})
	if err != nil {
		return res, err
	}
	sec, err := svc.SaveSection(ctx, acct, 0, 0, kb.SectionIn{CategoryID: &cat.ID, Name: &name})
	if err != nil {
		return res, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	var first kb.ArticleID
	for i := range n {
		a := arts[i%len(arts)]
		title := fmt.Sprintf("%s (%d)", a.Title, i/len(arts)+1)
		body := "<p>" + a.Body + "</p>"
		for range 3 {
			body += "<p>" + train[rng.IntN(len(train))].Text + "</p>"
		}
		art, err := svc.CreateArticle(ctx, acct, 0, kb.ArticleIn{SectionID: &sec.ID, Text: kb.TextIn{Title: &title, Body: &body}})
		if err != nil {
			return res, err
		}
		if i == 0 {
			first = art.ID
		}
	}
	res.Seed = time.Since(start)
	t0 := time.Now()
	if _, _, err := svc.Search(ctx, acct.ID, kb.Viewer{}, kb.Query{Text: "card", Locale: "en-us"}, 0, 10); err != nil {
		return res, err
	}
	res.FirstBuild = time.Since(t0)
	res.Search = Load(1, d, func(_, i int) error {
		_, _, err := svc.Search(ctx, acct.ID, kb.Viewer{}, kb.Query{Text: test[i%len(test)].Text, Locale: "en-us"}, 0, 10)
		return err
	})
	path := fmt.Sprintf("/hc/en-us/articles/%d", first)
	if st, err := c.Do("GET", path, nil, nil); err != nil || st != 200 {
		return res, fmt.Errorf("article page: %d %v", st, err)
	}
	res.Page = Load(1, d, func(_, _ int) error {
		st, err := c.Do("GET", path, nil, nil)
		if err == nil && st != 200 {
			err = fmt.Errorf("status %d", st)
		}
		return err
	})
	return res, nil
}
