package api_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// TestArticleAttachments: agents attach files to articles (Zendesk's multipart form, or
// the raw file), and who may list, show and download them is who may read the article:
// every role and another account, for a public, a signed-in-only and an agents-only
// article; a deleted file's bytes go with it; a file over the limit is refused.
func TestArticleAttachments(t *testing.T) {
	t.Parallel()
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			d := testkit.Start(t, dia, func(c *server.Config) { c.Files.MaxFileSize = 64 << 10 })
			a := d.Account(t, "kbfiles", account.Professional)
			other := d.Account(t, "kbother", account.Professional)
			ag := a.User(t, identity.Agent, "ag@kbfiles.test", "Agent")
			eu := a.User(t, identity.EndUser, "eu@kbfiles.test", "End User")
			anon := testkit.Anonymous

			cat := a.Do(t, ag, "POST", "/api/v2/help_center/categories.json", map[string]any{"category": map[string]any{"name": "Products"}}).Want(t, 201).Obj("category")
			sec := a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/categories/%d/sections.json", testkit.ID(cat, "id")), map[string]any{"section": map[string]any{"name": "Manuals"}}).Want(t, 201).Obj("section")
			article := func(title, visibility string) int64 {
				art := map[string]any{"title": title, "body": "<p>" + title + "</p>", "locale": "en-us"}
				if visibility != "" {
					art["visibility"] = visibility
				}
				return testkit.ID(a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/sections/%d/articles.json", testkit.ID(sec, "id")), map[string]any{"article": art}).Want(t, 201).Obj("article"), "id")
			}
			pub, signedIn, agents := article("Stove manual", ""), article("Dealer price list", "signed_in"), article("Internal repair notes", "agents")

			// Zendesk's form: inline first, then the file.
			form := func(name string, inline bool, data []byte) (string, []byte) {
				var b bytes.Buffer
				w := multipart.NewWriter(&b)
				w.WriteField("inline", fmt.Sprint(inline))
				fw, _ := w.CreateFormFile("file", name)
				fw.Write(data)
				w.Close()
				return w.FormDataContentType(), b.Bytes()
			}
			post := func(cred testkit.Cred, acct *testkit.Acct, id int64, name string, inline bool, data []byte) *testkit.Resp {
				ct, body := form(name, inline, data)
				r, err := d.Request(acct.Sub, cred, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json", id), body, http.Header{"Content-Type": {ct}})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			manual := []byte("Trail stove manual\nStep 1: unfold the legs.\n")
			m := post(ag, a, pub, "manual.txt", false, manual).Want(t, 201).Obj("article_attachment")
			if m["file_name"] != "manual.txt" || testkit.ID(m, "article_id") != pub || m["inline"] != false || testkit.ID(m, "size") != int64(len(manual)) ||
				!strings.HasSuffix(m["content_url"].(string), fmt.Sprintf("/hc/article_attachments/%d/manual.txt", testkit.ID(m, "id"))) {
				t.Fatalf("article attachment %v", m)
			}
			post(ag, a, pub, "diagram.png", true, pngBytesKB(t)).Want(t, 201)
			prices := a.Do(t, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json?filename=prices.txt", signedIn), []byte("dealer price 40.00")).Want(t, 201).Obj("article_attachment")
			notes := post(ag, a, agents, "notes.txt", false, []byte("use the 4 mm key")).Want(t, 201).Obj("article_attachment")

			// Who may add: agents of the account only; a file over the limit is refused.
			post(eu, a, pub, "x.txt", false, []byte("x")).Want(t, 403)
			post(anon, a, pub, "x.txt", false, []byte("x")).Want(t, 401)
			post(other.Admin, other, pub, "x.txt", false, []byte("x")).Want(t, 404)
			if r := post(ag, a, pub, "big.bin", false, make([]byte, 100<<10)); r.Status != 413 || !strings.Contains(string(r.Body), "limit") {
				t.Fatalf("a file over the limit: %d %s", r.Status, r.Body)
			}
			var noFile bytes.Buffer
			mw := multipart.NewWriter(&noFile)
			mw.WriteField("inline", "false")
			mw.Close()
			if r, _ := d.Request(a.Sub, ag, "POST", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json", pub), noFile.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}}); r.Status != 422 {
				t.Fatalf("a form without a file: %d", r.Status)
			}

			// Who may see: per article visibility, role and account.
			type row struct {
				who     string
				acct    *testkit.Acct
				cred    testkit.Cred
				article int64
				file    map[string]any
				see     bool
			}
			for _, c := range []row{
				{"anonymous, public", a, anon, pub, m, true},
				{"end user, public", a, eu, pub, m, true},
				{"anonymous, signed-in only", a, anon, signedIn, prices, false},
				{"end user, signed-in only", a, eu, signedIn, prices, true},
				{"end user, agents only", a, eu, agents, notes, false},
				{"agent, agents only", a, ag, agents, notes, true},
				{"another account, public", other, other.Admin, pub, m, false},
				{"another account, agents only", other, other.Admin, agents, notes, false},
			} {
				list := c.acct.Do(t, c.cred, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments.json", c.article), nil)
				show := c.acct.Do(t, c.cred, "GET", fmt.Sprintf("/api/v2/help_center/articles/attachments/%d.json", testkit.ID(c.file, "id")), nil)
				u, _ := url.Parse(c.file["content_url"].(string))
				content := c.acct.Do(t, c.cred, "GET", u.Path, nil)
				if c.see && (list.Status != 200 || show.Status != 200 || len(list.List("article_attachments")) == 0) {
					t.Errorf("%s: list %d, show %d; want both", c.who, list.Status, show.Status)
				}
				if !c.see && (list.Status != 404 || show.Status != 404) {
					t.Errorf("%s: list %d, show %d; want 404", c.who, list.Status, show.Status)
				}
				// The web download needs a session for anything but public articles, so
				// only the anonymous and other-account rows are checked there.
				if c.cred == anon || c.acct == other {
					if want := map[bool]int{true: 200, false: 404}[c.see]; content.Status != want {
						t.Errorf("%s: content %d, want %d", c.who, content.Status, want)
					}
				}
			}
			r := a.Do(t, anon, "GET", "/hc/article_attachments/"+fmt.Sprint(testkit.ID(m, "id"))+"/manual.txt", nil).Want(t, 200)
			if !bytes.Equal(r.Body, manual) || r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("download: %q %v", r.Body, r.Header)
			}
			if in := a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments/inline.json", pub), nil).Want(t, 200).List("article_attachments"); len(in) != 1 || in[0]["file_name"] != "diagram.png" {
				t.Fatalf("inline list %v", in)
			}
			if bl := a.Do(t, anon, "GET", fmt.Sprintf("/api/v2/help_center/articles/%d/attachments/block.json", pub), nil).Want(t, 200).List("article_attachments"); len(bl) != 1 || bl[0]["file_name"] != "manual.txt" {
				t.Fatalf("block list %v", bl)
			}
			// The article page lists its (block) files.
			page := a.Do(t, anon, "GET", fmt.Sprintf("/hc/en-us/articles/%d", pub), nil).Want(t, 200)
			if !bytes.Contains(page.Body, []byte("/hc/article_attachments/")) || !bytes.Contains(page.Body, []byte("manual.txt")) {
				t.Fatal("the article page does not list its file")
			}

			// Deleting: agents only; the bytes go with the last use.
			a.Do(t, eu, "DELETE", fmt.Sprintf("/api/v2/help_center/articles/attachments/%d.json", testkit.ID(m, "id")), nil).Want(t, 403)
			a.Do(t, ag, "DELETE", fmt.Sprintf("/api/v2/help_center/articles/attachments/%d.json", testkit.ID(m, "id")), nil).Want(t, 204)
			a.Do(t, anon, "GET", "/hc/article_attachments/"+fmt.Sprint(testkit.ID(m, "id"))+"/manual.txt", nil).Want(t, 404)
			var blobs int
			d.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM blobs WHERE account_id = ? AND size = ?`, a.ID, len(manual)).Scan(&blobs)
			if blobs != 0 {
				t.Fatal("the deleted file's blob is still counted")
			}
		})
	}
}

// pngBytesKB is a small real PNG.
func pngBytesKB(t *testing.T) []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
}
