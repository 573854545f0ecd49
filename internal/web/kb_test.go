package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// kbArticle creates a help center article through the API and returns its id.
func kbArticle(t *testing.T, f *fixture, section int64, article map[string]any) int64 {
	t.Helper()
	return testkit.ID(f.acct.Do(t, f.admin, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", section), map[string]any{"article": article}).Want(t, 201).Obj("article"), "id")
}

func kbSection(t *testing.T, f *fixture) int64 {
	t.Helper()
	cat := testkit.ID(f.acct.Do(t, f.admin, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "Camping gear"}}).Want(t, 201).Obj("category"), "id")
	return testkit.ID(f.acct.Do(t, f.admin, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", cat), map[string]any{"section": map[string]any{"name": "Tents"}}).Want(t, 201).Obj("section"), "id")
}

// withToken gives a fixture user an API token.
func withToken(t *testing.T, f *fixture, c testkit.Cred) testkit.Cred {
	t.Helper()
	ctx := context.Background()
	err := f.desk.DB.Write(ctx, func(tx *store.Tx) (err error) {
		c.Token, err = identity.CreateToken(ctx, tx, f.acct.ID, ids.User(c.UserID), "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestKnowledgeBaseVisibility checks every article visibility against every role on
// every surface: the article page, the section page, the help center search page, the
// request form's suggestions, and the API's article, list and search endpoints.
func TestKnowledgeBaseVisibility(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, dia)
			sec := kbSection(t, f)
			// Each article carries a word of its own, so a search for it finds it alone.
			arts := []struct {
				name    string
				word    string
				article map[string]any
			}{
				{"everyone", "zebraone", map[string]any{"visibility": "everyone"}},
				{"signed_in", "zebratwo", map[string]any{"visibility": "signed_in"}},
				{"organizations", "zebrathree", map[string]any{"visibility": "organizations", "organization_ids": []int64{f.initech}}},
				{"agents", "zebrafour", map[string]any{"visibility": "agents"}},
				{"draft", "zebrafive", map[string]any{"visibility": "everyone", "draft": true}},
			}
			ids := map[string]int64{}
			for _, a := range arts {
				a.article["title"] = "Tent pegs " + a.word
				a.article["body"] = "<p>How to use tent pegs, " + a.word + " edition.</p>"
				ids[a.name] = kbArticle(t, f, sec, a.article)
			}
			type role struct {
				name string
				cred testkit.Cred
				may  map[string]bool
			}
			roles := []role{
				{"anonymous", testkit.Anonymous, map[string]bool{"everyone": true}},
				{"alice (Initech)", f.alice, map[string]bool{"everyone": true, "signed_in": true, "organizations": true}},
				{"carol (Umbrella)", f.carol, map[string]bool{"everyone": true, "signed_in": true}},
				{"agent", f.agent, map[string]bool{"everyone": true, "signed_in": true, "organizations": true, "agents": true, "draft": true}},
			}
			for _, r := range roles {
				var web *client
				api := r.cred
				if r.cred.Email != "" {
					web = f.signedIn(t, r.cred)
					api = withToken(t, f, r.cred)
				} else {
					web = newClient(t, f.desk, f.acct.Sub)
				}
				section := web.get(fmt.Sprintf("/hc/en-us/sections/%d", sec)).want(t, 200)
				var form string
				if r.cred.Email != "" {
					form = web.get("/hc/requests/new").want(t, 200).Body
				}
				apiList := string(f.acct.Do(t, api, "GET", "/api/v2/help_center/articles.json", nil).Want(t, 200).Body)
				for _, a := range arts {
					may := r.may[a.name]
					id := ids[a.name]
					seen := map[string]bool{}
					p := web.get(fmt.Sprintf("/hc/en-us/articles/%d-tent-pegs", id))
					seen["page"] = p.Status == 200 && strings.Contains(p.Body, a.word)
					seen["section page"] = strings.Contains(section.Body, a.word)
					seen["search page"] = strings.Contains(web.get("/hc/search?query="+a.word).Body, fmt.Sprintf("/articles/%d-", id)) // the page repeats the query
					seen["api article"] = f.acct.Do(t, api, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", id), nil).Status == 200
					seen["api list"] = strings.Contains(apiList, a.word)
					seen["api search"] = strings.Contains(string(f.acct.Do(t, api, "GET", "/api/v2/help_center/articles/search.json?query="+a.word, nil).Want(t, 200).Body), a.word)
					if form != "" {
						seen["suggestions"] = strings.Contains(web.get("/hc/suggest?subject=tent+"+a.word).Body, a.word)
					} else {
						seen["suggestions"] = may // the request form needs signing in
					}
					for surface, got := range seen {
						if got != may {
							t.Errorf("%s, %s article, %s: seen %v, want %v", r.name, a.name, surface, got, may)
						}
					}
				}
			}
		})
	}
}

// TestKnowledgeBasePages walks the help center and agent workspace: article pages with
// breadcrumbs, canonical link, related articles and "Was this article helpful?", the
// sitemap, sanitised bodies, the editor's preview, drafts, publishing and history, the
// ticket sidebar's suggestions and recorded links, "Create article from this ticket",
// and deflection measured on the request form.
func TestKnowledgeBasePages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, store.SQLite)
	sec := kbSection(t, f)
	pole := kbArticle(t, f, sec, map[string]any{"title": "Replacing a snapped tent pole", "body": `<p>A snapped pole is covered by the warranty.</p><script>alert(1)</script><a href="javascript:alert(1)" onclick="x()">x</a><iframe src="https://evil.test"></iframe>`})
	kbArticle(t, f, sec, map[string]any{"title": "Tent pole sizes", "body": "<p>Our poles come in three sizes.</p>"})
	secret := kbArticle(t, f, sec, map[string]any{"title": "Internal pole stock levels", "body": "<p>agents only</p>", "visibility": "agents"})

	anon := newClient(t, f.desk, f.acct.Sub)
	p := anon.get(fmt.Sprintf("/hc/en-us/articles/%d", pole)).want(t, 200)
	p.has(t, "Replacing a snapped tent pole", `rel="canonical" href="http://acme.localhost:`, fmt.Sprintf("/hc/en-us/articles/%d-replacing-a-snapped-tent-pole", pole),
		`aria-label="Breadcrumbs"`, "Camping gear", "Tents", "Related articles", "Tent pole sizes", "Was this article helpful?", "Updated")
	p.hasNot(t, "<script>alert", "javascript:", "onclick", "<iframe", "Internal pole stock")
	anon.get("/hc").want(t, 200).has(t, "Camping gear", "Replacing a snapped tent pole").hasNot(t, "Internal pole stock")
	anon.get("/hc/en-us").want(t, 200).has(t, "Camping gear")
	anon.get("/hc/search?query=snaped+pole").want(t, 200).has(t, "Replacing a snapped tent pole", "<em>")
	for _, q := range []string{"%FF%FE", "%3Cscript%3E", strings.Repeat("pole+", 400)} {
		if got := anon.get("/hc/search?query=" + q); got.Status != 200 {
			t.Errorf("search %q: %d", q, got.Status)
		}
	}
	sm := anon.get("/hc/sitemap.xml").want(t, 200)
	sm.has(t, "<urlset", fmt.Sprintf("/hc/en-us/articles/%d-replacing-a-snapped-tent-pole", pole)).hasNot(t, fmt.Sprintf("/articles/%d-", secret))
	anon.get("/hc/en-us/articles/999999").want(t, 404)
	anon.get("/hc/xx yy/articles/1").want(t, 404)

	// "Was this article helpful?": no, with a reason.
	anon.post(fmt.Sprintf("/hc/en-us/articles/%d/vote", pole), url.Values{"helpful": {"no"}, "reason": {"Which size do I need?"}}).want(t, 303)
	var reason string
	if err := f.desk.DB.R().QueryRowContext(context.Background(), `SELECT reason FROM kb_votes WHERE account_id = ? AND article_id = ?`, f.acct.ID, pole).Scan(&reason); err != nil || reason != "Which size do I need?" {
		t.Errorf("vote reason %q %v", reason, err)
	}

	// Deflection: one session answered by an article, one submitted anyway.
	alice := f.signedIn(t, f.alice)
	form := alice.get("/hc/requests/new").want(t, 200)
	ds := regexpFind(t, form.Body, `name="ds" value="([0-9a-f]+)"`)
	alice.get("/hc/suggest?ds="+ds+"&subject=my+tent+pole+snapped").want(t, 200).has(t, "Replacing a snapped tent pole", "This answered my question")
	alice.post("/hc/answered", url.Values{"ds": {ds}, "article_id": {fmt.Sprint(pole)}}).want(t, 303)
	form = alice.get("/hc/requests/new")
	ds2 := regexpFind(t, form.Body, `name="ds" value="([0-9a-f]+)"`)
	alice.get("/hc/suggest?ds="+ds2+"&subject=tent+pole").want(t, 200)
	alice.post("/hc/requests", url.Values{"ds": {ds2}, "subject": {"Tent pole"}, "description": {"Still broken"}}).want(t, 303)
	admin := f.signedIn(t, f.admin)
	admin.get("/admin/deflection").want(t, 200).has(t, "<td>2</td>", "<td>1</td>")

	// The agent workspace: preview, draft, publish, history with a diff.
	agent := f.signedIn(t, f.agent)
	agent.get("/agent/kb").want(t, 200).has(t, "Replacing a snapped tent pole", "1 no")
	agent.post("/agent/kb/preview", url.Values{"markdown": {"**bold** <script>alert(1)</script> [x](javascript:alert(1))"}}).want(t, 200).has(t, "<strong>bold</strong>").hasNot(t, "<script", "javascript:")
	created := agent.post("/agent/kb/articles", url.Values{"title": {"Drying a wet tent"}, "markdown": {"Dry it **before** storing."}, "section_id": {fmt.Sprint(sec)}, "visibility": {"everyone"}, "action": {"draft"}}).want(t, 303)
	edit := created.Location
	anon.get("/hc/search?query=wet+tent").hasNot(t, "Drying a wet tent")
	agent.post(strings.Split(edit, "?")[0], url.Values{"title": {"Drying a wet tent"}, "markdown": {"Dry it **completely** before storing."}, "locale": {"en-us"}, "section_id": {fmt.Sprint(sec)}, "visibility": {"everyone"}, "action": {"publish"}}).want(t, 303)
	anon.get("/hc/search?query=wet+tent").has(t, "Drying a wet tent")
	page := agent.get(edit).want(t, 200).has(t, "History", "published")
	rev := regexpFind(t, page.Body, `/revisions/([0-9]+)">`)
	agent.get(strings.Split(edit, "?")[0]+"/revisions/"+rev).want(t, 200).has(t, "diff-del", "Dry it before storing.", "diff-add", "Dry it completely before storing.")
	agent.post("/agent/kb/articles", url.Values{"title": {""}, "section_id": {fmt.Sprint(sec)}, "action": {"draft"}}).want(t, 422)

	// Ticket sidebar: suggestions for the ticket, an inserted link recorded, a phrasing
	// learned when the ticket is solved.
	side := agent.get(fmt.Sprintf("/agent/tickets/%d/kb/suggest", f.ticket)).want(t, 200)
	side.has(t, "Replacing a snapped tent pole", "data-kb-link=", "Create article from this ticket")
	link := regexpFind(t, side.Body, `data-kb-link="([^"]+)"`)
	f.acct.Do(t, f.admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", f.ticket), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "Internal: customer is grumpy", "public": false}}}).Want(t, 200)
	agentAPI := withToken(t, f, f.agent)
	f.acct.Do(t, agentAPI, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", f.ticket), map[string]any{"ticket": map[string]any{"status": "solved", "comment": map[string]any{"body": "See [the article](" + link + ")"}}}).Want(t, 200)
	var links, phrasings int
	q := f.desk.DB.R()
	_ = q.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM kb_article_links WHERE account_id = ? AND ticket_id = ? AND article_id = ? AND comment_id > 0`, f.acct.ID, f.ticket, pole).Scan(&links)
	_ = q.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM kb_phrasings WHERE account_id = ? AND article_id = ?`, f.acct.ID, pole).Scan(&phrasings)
	if links != 1 || phrasings != 1 {
		t.Errorf("links %d, phrasings %d; want 1 and 1", links, phrasings)
	}
	agent.get(fmt.Sprintf("/agent/tickets/%d/kb/new", f.ticket)).want(t, 200).has(t, "Tent pole snapped", "The pole snapped on the first night.").hasNot(t, "grumpy")
	alice.get(fmt.Sprintf("/agent/tickets/%d/kb/suggest", f.ticket)).want(t, 403)
}
