package sharing_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// uploadFile uploads bytes as cred and returns the upload token.
func uploadFile(t *testing.T, a *testkit.Acct, cred testkit.Cred, name string, body []byte) string {
	t.Helper()
	r := a.Do(t, cred, "POST", "/api/v2/uploads.json?filename="+url.QueryEscape(name), body).Want(t, 201)
	tok, _ := r.Obj("upload")["token"].(string)
	if tok == "" {
		t.Fatalf("upload of %s gave no token: %s", name, r.Body)
	}
	return tok
}

func testPNG(t testing.TB, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 3), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// filesOn returns the attachments of a ticket's comments whose body starts with prefix.
func filesOn(t *testing.T, a *testkit.Acct, cred testkit.Cred, ticketID int64, prefix string) (commentID int64, list []map[string]any) {
	t.Helper()
	for _, c := range a.Do(t, cred, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", ticketID), nil).Want(t, 200).List("comments") {
		if !strings.HasPrefix(fmt.Sprint(c["body"]), prefix) {
			continue
		}
		commentID = testkit.ID(c, "id")
		for _, x := range c["attachments"].([]any) {
			list = append(list, x.(map[string]any))
		}
	}
	return commentID, list
}

// waitFiles waits until the comment starting with prefix carries n attachments.
func waitFiles(t *testing.T, a *testkit.Acct, ticketID int64, prefix string, n int) (int64, []map[string]any) {
	t.Helper()
	var cid int64
	var list []map[string]any
	testkit.Eventually(t, 15*time.Second, fmt.Sprintf("%d files on %q at %s", n, prefix, a.Sub), func() bool {
		cid, list = filesOn(t, a, a.Admin, ticketID, prefix)
		return len(list) == n
	})
	return cid, list
}

// get fetches an absolute URL of an account's desk as cred.
func get(t *testing.T, a *testkit.Acct, cred testkit.Cred, raw string) *testkit.Resp {
	t.Helper()
	return a.Do(t, cred, "GET", mustPath(t, raw), nil)
}

// TestSharedAttachments: a comment's files travel to the partner, which fetches them
// from the sender and keeps its own copy, both ways, between two servers with their own
// databases and between two accounts of one server; a redaction on either side reaches
// the other; internal notes' files stay home under public-only terms; every copy is
// served under the receiver's own visibility rules and no other account's.
func TestSharedAttachments(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		for _, same := range []bool{false, true} {
			name := string(dia) + "/two-servers"
			if same {
				name = string(dia) + "/one-server"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				desk := testkit.Start(t, dia)
				other := desk
				if !same {
					other = testkit.Start(t, dia)
				}
				a := desk.Account(t, "acme", account.Enterprise)
				b := other.Account(t, "globex", account.Enterprise)
				c := other.Account(t, "initech", account.Enterprise)
				p := connect(t, a, b, same, nil)

				photo := testPNG(t, 40, 30)
				manual := []byte("%PDF-1.4\nnot really a manual, but its bytes must arrive unchanged\n")
				tk := a.Do(t, p.agentA, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
					"subject": "Cracked housing", "comment": map[string]any{"body": "Photo of the defect", "uploads": []string{
						uploadFile(t, a, p.agentA, "defect.png", photo), uploadFile(t, a, p.agentA, "manual.pdf", manual)}},
					"requester": map[string]any{"name": "Rita Requester", "email": "rita@example.test"}}}).Want(t, 201).Obj("ticket")
				aID := testkit.ID(tk, "id")
				a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", aID), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{p.agA}}}).Want(t, 200)
				bID := p.copyOf(t, "Cracked housing")
				bComment, got := waitFiles(t, b, bID, "Photo of the defect", 2)
				byName := map[string]map[string]any{}
				for _, f := range got {
					byName[f["file_name"].(string)] = f
				}
				if f := byName["defect.png"]; f == nil || f["content_type"] != "image/png" || testkit.ID(f, "size") != int64(len(photo)) || testkit.ID(f, "width") != 40 {
					t.Fatalf("the partner's copy of the photo: %v", got)
				} else if th, _ := f["thumbnails"].([]any); len(th) != 1 {
					t.Fatalf("the partner made no thumbnail of its copy: %v", f)
				}
				for name, want := range map[string][]byte{"defect.png": photo, "manual.pdf": manual} {
					r := get(t, b, b.Admin, byName[name]["content_url"].(string)).Want(t, 200)
					if !bytes.Equal(r.Body, want) {
						t.Fatalf("%s at the partner: %d bytes differ from the %d sent", name, len(r.Body), len(want))
					}
				}

				// The partner's copy is the partner's: its agents see it, its requester-less
				// end users and other accounts do not, the sender's credentials mean nothing there.
				stranger := b.User(t, identity.EndUser, "stranger@globex.test", "Stranger")
				photoURL := byName["defect.png"]["content_url"].(string)
				get(t, b, p.agentB, photoURL).Want(t, 200)
				if r := get(t, b, stranger, photoURL); r.Status != 403 && r.Status != 404 {
					t.Fatalf("an end user of the partner fetched a file of a ticket not theirs: %d", r.Status)
				}
				if r := get(t, c, c.Admin, photoURL); r.Status != 404 {
					t.Fatalf("another account on the partner's server fetched its file: %d", r.Status)
				}
				if r, _ := other.Request(b.Sub, p.agentA, "GET", mustPath(t, photoURL), nil, nil); r.Status != 401 {
					t.Fatalf("the sender's credentials at the partner: %d, want 401", r.Status)
				}
				// The signed link the sender minted opens that file on the sender's account
				// only: another account's host does not have it.
				link := sentLink(t, a, aID, "defect.png")
				if r, _ := desk.Request(a.Sub, testkit.Anonymous, "GET", link, nil, nil); r.Status != 200 || !bytes.Equal(r.Body, photo) {
					t.Fatalf("the sender's signed link: %d", r.Status)
				}
				d := desk.Account(t, "hooli", account.Enterprise)
				if r, _ := desk.Request(d.Sub, testkit.Anonymous, "GET", link, nil, nil); r.Status != 404 {
					t.Fatalf("the sender's signed link on another account's host: %d, want 404", r.Status)
				}
				if r, _ := desk.Request(a.Sub, testkit.Anonymous, "GET", strings.Replace(link, "sig=", "sig=0", 1), nil, nil); r.Status != 404 {
					t.Fatalf("a forged signature: %d, want 404", r.Status)
				}

				// Internal notes do not travel under public-only terms, nor do their files.
				a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", aID), map[string]any{"ticket": map[string]any{
					"comment": map[string]any{"body": "Internal: the invoice", "public": false, "uploads": []string{uploadFile(t, a, p.agentA, "invoice.txt", []byte("cost price 12.00"))}}}}).Want(t, 200)
				// The partner answers with a file of its own: it reaches the sender.
				b.Do(t, p.agentB, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", bID), map[string]any{"ticket": map[string]any{
					"comment": map[string]any{"body": "Replacement label", "uploads": []string{uploadFile(t, b, p.agentB, "label.txt", []byte("RMA 4411"))}}}}).Want(t, 200)
				_, back2 := waitFiles(t, a, aID, "Replacement label", 1)
				if back2[0]["file_name"] != "label.txt" || string(get(t, a, a.Admin, back2[0]["content_url"].(string)).Want(t, 200).Body) != "RMA 4411" {
					t.Fatalf("the partner's file at the sender: %v", back2)
				}
				p.waitDrained(t)
				waitFilesDrained(t, desk, other)
				if cid, _ := filesOn(t, b, b.Admin, bID, "Internal: the invoice"); cid != 0 {
					t.Fatal("an internal note travelled under public-only terms")
				}
				var fetched int
				other.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sharing_attachment_fetches WHERE account_id = ? AND file_name = 'invoice.txt'`, b.ID).Scan(&fetched)
				if fetched != 0 {
					t.Fatal("the receiver was told about a file of an internal note")
				}

				// A redaction at the sender reaches the partner's copy...
				photoID := attachmentID(t, a, aID, "Photo of the defect", "defect.png")
				a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/attachments/%d/redact", aID, commentOf(t, a, aID, "Photo of the defect"), photoID), nil).Want(t, 200)
				testkit.Eventually(t, 15*time.Second, "the partner's copy to be redacted", func() bool {
					_, list := filesOn(t, b, b.Admin, bID, "Photo of the defect")
					for _, f := range list {
						if f["file_name"] == "redacted.txt" && testkit.ID(f, "size") == 0 {
							return true
						}
					}
					return false
				})
				if r := get(t, b, b.Admin, photoURL).Want(t, 200); len(r.Body) != 0 {
					t.Fatalf("the partner still serves %d bytes of a redacted file", len(r.Body))
				}
				// ...and one at the partner reaches the sender.
				labelB := attachmentID(t, b, bID, "Replacement label", "label.txt")
				b.Do(t, p.agentB, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/attachments/%d/redact", bID, commentOf(t, b, bID, "Replacement label"), labelB), nil).Want(t, 200)
				testkit.Eventually(t, 15*time.Second, "the sender's copy to be redacted", func() bool {
					_, list := filesOn(t, a, a.Admin, aID, "Replacement label")
					return len(list) == 1 && list[0]["file_name"] == "redacted.txt"
				})
				p.waitDrained(t)
				// Nothing was fetched twice, and the copies survive an unshare.
				var copies int
				other.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM attachments WHERE account_id = ? AND comment_id = ? AND parent_id = 0`, b.ID, bComment).Scan(&copies)
				if copies != 2 {
					t.Fatalf("the partner holds %d files for a comment with 2", copies)
				}
				a.Do(t, p.agentA, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", aID), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{}}}).Want(t, 200)
				p.waitDrained(t)
				_, list := filesOn(t, b, b.Admin, bID, "Photo of the defect")
				if len(list) != 2 || string(get(t, b, b.Admin, fileNamed(list, "manual.pdf")["content_url"].(string)).Want(t, 200).Body) != string(manual) {
					t.Fatalf("after unshare the partner's files: %v", list)
				}
			})
		}
	}
}

func mustPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func fileNamed(list []map[string]any, name string) map[string]any {
	for _, f := range list {
		if f["file_name"] == name {
			return f
		}
	}
	return nil
}

func commentOf(t *testing.T, a *testkit.Acct, ticketID int64, prefix string) int64 {
	cid, _ := filesOn(t, a, a.Admin, ticketID, prefix)
	if cid == 0 {
		t.Fatalf("no comment %q on ticket %d at %s", prefix, ticketID, a.Sub)
	}
	return cid
}

func attachmentID(t *testing.T, a *testkit.Acct, ticketID int64, prefix, name string) int64 {
	_, list := filesOn(t, a, a.Admin, ticketID, prefix)
	if f := fileNamed(list, name); f != nil {
		return testkit.ID(f, "id")
	}
	t.Fatalf("no file %s on %q at %s", name, prefix, a.Sub)
	return 0
}

// sentLink returns the path of the signed link the sender put on the wire for a file
// (from its outbox), to check what the link opens and where.
func sentLink(t *testing.T, a *testkit.Acct, ticketID int64, name string) string {
	t.Helper()
	var body string
	a.Desk.DB.R().QueryRowContext(t.Context(), `SELECT body FROM sharing_outbox WHERE account_id = ? AND ticket_id = ? AND kind = 'create' ORDER BY id LIMIT 1`, a.ID, ticketID).Scan(&body)
	i := strings.Index(body, "/attachments/")
	for i >= 0 {
		end := strings.IndexByte(body[i:], '"')
		link := body[i : i+end]
		if strings.Contains(link, "/"+name+"?") {
			return link
		}
		next := strings.Index(body[i+1:], "/attachments/")
		if next < 0 {
			break
		}
		i += 1 + next
	}
	t.Fatalf("no link to %s in the share sent: %.300s", name, body)
	return ""
}

// waitFilesDrained waits until no desk has a partner file left to fetch.
func waitFilesDrained(t *testing.T, desks ...*testkit.Desk) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, "partner files to be fetched", func() bool {
		for _, d := range desks {
			if !d.Srv.Sharing.FilesDrained(t.Context()) {
				return false
			}
		}
		return true
	})
}
