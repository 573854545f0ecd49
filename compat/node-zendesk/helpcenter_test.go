package nodezendesk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestNodeZendeskHelpCenter: node-zendesk's help center clients (categories, sections,
// articles, translations, search, labels, votes, article attachments) read and write
// Tandem's Help Center API unchanged.
func TestNodeZendeskHelpCenter(t *testing.T) {
	node := needNode(t)
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia, func(c *server.Config) { c.DefaultAccount = "acme" })
			a := d.Account(t, "acme", account.Professional)
			ag := a.User(t, identity.Agent, "agent@acme.test", "Agnes")
			cat := testkit.ID(a.Do(t, ag, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "Orders"}}).Want(t, 201).Obj("category"), "id")
			sec := testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", cat), map[string]any{"section": map[string]any{"name": "Returns"}}).Want(t, 201).Obj("section"), "id")
			art := testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", sec), map[string]any{"article": map[string]any{
				"title": "How do I return an order?", "body": "<p>Print the return label and drop the parcel at any post office.</p>", "label_names": []string{"returns"}}}).Want(t, 201).Obj("article"), "id")
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/translations.json", art), map[string]any{"translation": map[string]any{"locale": "fr", "title": "Retourner une commande", "body": "<p>Imprimez l'étiquette.</p>"}}).Want(t, 201)
			att := testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json?filename=label.txt", art), []byte("RETURN LABEL")).Want(t, 201).Obj("article_attachment"), "id")
			a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json?filename=box.png&inline=true", art), []byte("\x89PNG\r\n\x1a\nnot really")).Want(t, 201)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "helpcenter.js")
			cmd.Env = append(os.Environ(), "ZD_URL=http://"+d.Addr+"/api/v2/help_center", "ZD_USER="+ag.Email, "ZD_TOKEN="+ag.Token,
				fmt.Sprintf("ZD_ARTICLE=%d", art), fmt.Sprintf("ZD_SECTION=%d", sec), fmt.Sprintf("ZD_ATTACHMENT=%d", att))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			if err != nil {
				t.Fatalf("node helpcenter.js: %v\n%s", err, stderr.String())
			}
			var got struct {
				Categories, Sections, Articles, SectionArticles, Search []int64
				FrArticles, Translations, Labels, Attachments, Block    []string
				Inline                                                  []string
				Shown                                                   struct {
					ID      int64
					Title   string
					HTMLURL string `json:"html_url"`
				}
				Vote       int
				Attachment struct {
					ID         int64
					ArticleID  int64  `json:"article_id"`
					ContentURL string `json:"content_url"`
				}
				AfterDelete int
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("output %q: %v", raw, err)
			}
			one := []int64{art}
			if !slices.Equal(got.Categories, []int64{cat}) || !slices.Equal(got.Sections, []int64{sec}) || !slices.Equal(got.Articles, one) || !slices.Equal(got.SectionArticles, one) {
				t.Errorf("lists: %s", raw)
			}
			if !slices.Equal(got.FrArticles, []string{"fr"}) || len(got.Translations) != 2 || !slices.Equal(got.Search, one) || !slices.Equal(got.Labels, []string{"returns"}) || got.Vote != 1 {
				t.Errorf("locales, search, labels, votes: %s", raw)
			}
			if got.Shown.ID != art || got.Shown.Title != "How do I return an order?" || !strings.Contains(got.Shown.HTMLURL, fmt.Sprintf("/hc/en-us/articles/%d-", art)) {
				t.Errorf("show: %+v", got.Shown)
			}
			if len(got.Attachments) != 2 || !slices.Equal(got.Block, []string{"label.txt"}) || !slices.Equal(got.Inline, []string{"box.png"}) ||
				got.Attachment.ID != att || got.Attachment.ArticleID != art || got.AfterDelete != 1 {
				t.Errorf("article attachments: %s", raw)
			}
			// The content_url node-zendesk was given serves the file.
			path := got.Attachment.ContentURL[strings.Index(got.Attachment.ContentURL, "/hc/"):]
			if r := a.Do(t, testkit.Anonymous, "GET", path, nil); r.Status != 404 {
				t.Errorf("a deleted article file is still served: %d", r.Status)
			}
		})
	}
}
