package api_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestHelpCenterAPI drives the Help Center API as Zendesk clients do: categories,
// sections, articles created under a section, text changed through translations, the
// locale path forms, votes, labels, ranked search with snippets and offset pages.
func TestHelpCenterAPI(t *testing.T) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia)
			a := d.Account(t, "hcapi", account.Professional)
			other := d.Account(t, "hcother", account.Professional)
			ag := a.User(t, identity.Agent, "ag@hcapi.test", "Agent")
			eu := a.User(t, identity.EndUser, "eu@hcapi.test", "End User")
			anon := testkit.Anonymous

			cat := a.Do(t, ag, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "Orders", "description": "All about orders", "locale": "en-us"}}).Want(t, 201).Obj("category")
			catID := testkit.ID(cat, "id")
			a.Do(t, eu, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "X"}}).Want(t, 403)
			sec := a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", catID), map[string]any{"section": map[string]any{"name": "Returns"}}).Want(t, 201).Obj("section")
			secID := testkit.ID(sec, "id")
			if testkit.ID(sec, "category_id") != catID {
				t.Fatalf("section %v", sec)
			}
			// Nested sections are an Enterprise feature.
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", catID), map[string]any{"section": map[string]any{"name": "Sub", "parent_section_id": secID}}).Want(t, 403)

			art := a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", secID), map[string]any{"article": map[string]any{
				"title": "How do I return an order?", "body": "<p>Print the return label.</p><script>alert(1)</script>", "locale": "en-us",
				"label_names": []string{"returns"}, "user_segment_id": nil, "permission_group_id": 1}}).Want(t, 201).Obj("article")
			artID := testkit.ID(art, "id")
			if strings.Contains(art["body"].(string), "script") || art["draft"] != false || art["user_segment_id"] != nil || !strings.Contains(art["html_url"].(string), fmt.Sprintf("/hc/en-us/articles/%d-how-do-i-return-an-order", artID)) {
				t.Errorf("created article %v", art)
			}
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", secID), map[string]any{"article": map[string]any{"body": "no title"}}).Want(t, 422)
			a.Do(t, ag, "POST", "/api/v2/help_center/sections/987/articles.json", map[string]any{"article": map[string]any{"title": "x"}}).Want(t, 404)

			// Updating an article changes settings, not text (Zendesk's rule).
			up := a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/help_center/articles/%d.json", artID), map[string]any{"article": map[string]any{"title": "ignored", "promoted": true}}).Want(t, 200).Obj("article")
			if up["title"] != "How do I return an order?" || up["promoted"] != true {
				t.Errorf("update: %v", up)
			}
			// Text changes through the translation; a French one is added.
			a.Do(t, ag, "PUT", fmt.Sprintf("/api/v2/help_center/articles/%d/translations/en-us.json", artID), map[string]any{"translation": map[string]any{"title": "Returning an order"}}).Want(t, 200)
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", artID), map[string]any{"translation": map[string]any{"locale": "fr", "title": "Retourner une commande", "body": "<p>Imprimez l'étiquette de retour.</p>"}}).Want(t, 201)
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", artID), map[string]any{"translation": map[string]any{"locale": "fr", "title": "again"}}).Want(t, 422)
			if miss := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d/translations/missing.json", artID), nil).Want(t, 200); len(miss.JSON["locales"].([]any)) != 0 {
				t.Errorf("missing locales %v", miss.JSON)
			}
			fr := a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/fr/articles/%d.json", artID), nil).Want(t, 200).Obj("article")
			if fr["title"] != "Retourner une commande" || fr["locale"] != "fr" {
				t.Errorf("fr article %v", fr)
			}
			if en := a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", artID), nil).Want(t, 200).Obj("article"); en["title"] != "Returning an order" {
				t.Errorf("en article %v", en)
			}
			if list := a.Do(t, anon, "GET", "/api/v2/help_center/fr/articles.json", nil).Want(t, 200).List("articles"); len(list) != 1 || list[0]["locale"] != "fr" {
				t.Errorf("fr list %v", list)
			}
			if tr := a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", artID), nil).Want(t, 200).List("translations"); len(tr) != 2 {
				t.Errorf("translations %v", tr)
			}

			// A draft: agents see it, others do not.
			draft := a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", secID), map[string]any{"article": map[string]any{"title": "Returns policy draft", "body": "secret returns plan", "draft": true}}).Want(t, 201).Obj("article")
			a.Do(t, eu, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", testkit.ID(draft, "id")), nil).Want(t, 404)
			a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", testkit.ID(draft, "id")), nil).Want(t, 200)

			// Search ranks, highlights, pages, and never fails on odd bytes.
			res := a.Do(t, anon, "GET", "/api/v2/help_center/articles/search.json?query=returning", nil).Want(t, 200)
			hits := res.List("results")
			if len(hits) != 1 || testkit.ID(hits[0], "id") != artID || !strings.Contains(hits[0]["snippet"].(string), "<em>") && hits[0]["result_type"] != "article" {
				t.Errorf("search %s", res.Body)
			}
			if hits := a.Do(t, ag, "GET", "/api/v2/help_center/articles/search.json?query=returns&per_page=1", nil).Want(t, 200); len(hits.List("results")) != 1 || hits.JSON["count"].(float64) != 2 || hits.JSON["next_page"] == nil {
				t.Errorf("paged search %s", hits.Body)
			}
			if hits := a.Do(t, anon, "GET", "/api/v2/help_center/fr/articles/search.json?query=etiquettes", nil).Want(t, 200).List("results"); len(hits) != 1 || hits[0]["locale"] != "fr" {
				t.Errorf("fr search %v", hits)
			}
			for _, q := range []string{"%FF%FE", "%27%22%3C%3E", strings.Repeat("x", 3000), "%F0%9F%99%82"} {
				r := a.Do(t, anon, "GET", "/api/v2/help_center/articles/search.json?query="+q, nil)
				if r.Status >= 500 {
					t.Errorf("query %q: %d", q, r.Status)
				}
			}
			a.Do(t, anon, "GET", "/api/v2/help_center/articles/search.json", nil).Want(t, 400)
			if hits := other.Do(t, other.Admin, "GET", "/api/v2/help_center/articles/search.json?query=return", nil).Want(t, 200).List("results"); len(hits) != 0 {
				t.Errorf("other account found %v", hits)
			}
			other.Do(t, other.Admin, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", artID), nil).Want(t, 404)

			// Votes: signed-in users, one each.
			a.Do(t, anon, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/up.json", artID), nil).Want(t, 401)
			a.Do(t, eu, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/up.json", artID), nil).Want(t, 200)
			a.Do(t, eu, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/down.json", artID), nil).Want(t, 200)
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/up.json", artID), nil).Want(t, 200)
			got := a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", artID), nil).Obj("article")
			if got["vote_count"].(float64) != 2 || got["vote_sum"].(float64) != 0 {
				t.Errorf("votes %v / %v", got["vote_count"], got["vote_sum"])
			}
			if v := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d/votes.json", artID), nil).Want(t, 200).List("votes"); len(v) != 2 {
				t.Errorf("votes list %v", v)
			}
			// Labels.
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/labels.json", artID), map[string]any{"label": map[string]any{"name": "refunds"}}).Want(t, 201)
			if l := a.Do(t, ag, "GET", "/api/v2/help_center/articles/labels.json", nil).Want(t, 200).List("labels"); len(l) != 2 {
				t.Errorf("labels %v", l)
			}
			if list := a.Do(t, anon, "GET", "/api/v2/help_center/articles.json?label_names=refunds", nil).Want(t, 200).List("articles"); len(list) != 1 {
				t.Errorf("label filter %v", list)
			}
			// Listing by section and category; delete.
			if list := a.Do(t, ag, "GET", fmt.Sprintf("/api/v2/help_center/categories/%d/articles.json", catID), nil).Want(t, 200).List("articles"); len(list) != 2 {
				t.Errorf("category articles %v", list)
			}
			a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/help_center/sections/%d.json", secID), nil).Want(t, 204)
			a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d.json", artID), nil).Want(t, 404)
			if list := a.Do(t, anon, "GET", "/api/v2/help_center/categories.json", nil).Want(t, 200).List("categories"); len(list) != 1 || list[0]["name"] != "Orders" {
				t.Errorf("categories %v", list)
			}
		})
	}
}
