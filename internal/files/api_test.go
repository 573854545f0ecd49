package files_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/files"
	"tandem/internal/identity"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// The attachments surface end to end: a real server on loopback, real databases (both
// dialects), files on disk.

// fixture is one desk with two accounts and the users the tests act as.
type fixture struct {
	desk                     *testkit.Desk
	filesDir                 string
	acme, other              *testkit.Acct
	admin, agent, restricted testkit.Cred
	requester, stranger      testkit.Cred
	otherAdmin               testkit.Cred
}

const smallLimit = 256 << 10 // the desk's per-file limit: 256 KiB

// eachFixture runs f on a fresh fixture per database dialect.
func eachFixture(t *testing.T, f func(t *testing.T, fx *fixture)) {
	storetest.Each(t, func(t *testing.T, db *store.DB) { f(t, newFixture(t, db)) })
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	dir := t.TempDir()
	desk := testkit.StartDB(t, db, func(c *server.Config) {
		c.FilesDir = dir
		c.Files.MaxFileSize = smallLimit
		c.Files.AccountQuota = 1 << 20
	})
	f := &fixture{desk: desk, filesDir: dir}
	f.acme = desk.Account(t, "acme", account.Enterprise)
	f.other = desk.Account(t, "other", account.Enterprise)
	f.admin = f.acme.Admin
	f.otherAdmin = f.other.Admin
	f.agent = f.acme.User(t, identity.Agent, "agent@acme.test", "Agent")
	f.restricted = f.acme.User(t, identity.Agent, "assigned@acme.test", "Assigned only")
	if err := desk.DB.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET ticket_restriction = 'assigned' WHERE account_id = ? AND id = ?`, f.acme.ID, f.restricted.UserID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f.requester = f.acme.User(t, identity.EndUser, "customer@example.com", "Customer")
	f.stranger = f.acme.User(t, identity.EndUser, "stranger@example.com", "Stranger")
	return f
}

// upload posts raw bytes to /api/v2/uploads as cred.
func upload(t *testing.T, a *testkit.Acct, cred testkit.Cred, name string, body io.Reader, extra string) *testkit.Resp {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+a.Desk.Addr+"/api/v2/uploads.json?filename="+url.QueryEscape(name)+extra, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = a.Desk.Host(a.Sub)
	req.Header.Set("Content-Type", "application/binary")
	if cred.Token != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred.Email+"/token:"+cred.Token)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &testkit.Resp{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	return out
}

func pngBytes(t testing.TB, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// blobFiles lists the blob files on disk (the temporary directory excluded).
func blobFiles(t *testing.T, dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// download fetches a URL of the desk (an absolute content_url) as cred.
func download(t *testing.T, a *testkit.Acct, cred testkit.Cred, rawURL string) *testkit.Resp {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Desk.Request(a.Sub, cred, "GET", u.RequestURI(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func attachmentOf(r *testkit.Resp) map[string]any {
	up := r.Obj("upload")
	a, _ := up["attachment"].(map[string]any)
	return a
}

// ticketWith creates a ticket as cred with one comment carrying uploads.
// TestAttachmentsAPI runs the surface's tests in order on one desk per database (a
// desk on PostgreSQL costs seconds to start): the upload flow, isolation, hostile files,
// then tokens, expiry and quota, which expire every pending upload.
func TestAttachmentsAPI(t *testing.T) {
	t.Parallel()
	eachFixture(t, func(t *testing.T, f *fixture) {
		t.Run("upload attach download", func(t *testing.T) { uploadAttachDownload(t, f) })
		t.Run("isolation", func(t *testing.T) { attachmentIsolation(t, f) })
		t.Run("hostile files", func(t *testing.T) { hostileFiles(t, f) })
		t.Run("tokens expiry quota", func(t *testing.T) { uploadTokensAndExpiry(t, f) })
	})
}

func ticketWith(t *testing.T, f *fixture, public bool, tokens ...string) (ticketID, commentID int64) {
	t.Helper()
	r := f.acme.Do(t, f.admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Broken kettle", "requester_id": f.requester.UserID, "assignee_id": f.admin.UserID,
		"comment": map[string]any{"body": "see the photo", "public": public, "uploads": tokens}}}).Want(t, 201)
	tk := r.Obj("ticket")
	ev := r.Obj("audit")["events"].([]any)[0].(map[string]any)
	if ev["type"] != "Comment" {
		t.Fatalf("first event %v", ev)
	}
	return testkit.ID(tk, "id"), testkit.ID(ev, "id")
}

func uploadAttachDownload(t *testing.T, f *fixture) {
	img := pngBytes(t, 400, 300)
	r := upload(t, f.acme, f.agent, "kettle.png", bytes.NewReader(img), "").Want(t, 201)
	up := r.Obj("upload")
	tok, _ := up["token"].(string)
	a := attachmentOf(r)
	if tok == "" || a["file_name"] != "kettle.png" || a["content_type"] != "image/png" || a["size"] != float64(len(img)) ||
		a["width"] != float64(400) || a["height"] != float64(300) || a["malware_scan_result"] != "not_scanned" || up["expires_at"] == nil {
		t.Fatalf("upload = %v", up)
	}
	thumbs, _ := a["thumbnails"].([]any)
	if len(thumbs) != 1 || thumbs[0].(map[string]any)["width"] != float64(160) {
		t.Fatalf("thumbnails = %v", a["thumbnails"])
	}
	// A second file under the same token.
	r2 := upload(t, f.acme, f.agent, "notes.txt", strings.NewReader("plain notes\n"), "&token="+tok).Want(t, 201)
	if n := len(r2.Obj("upload")["attachments"].([]any)); n != 2 {
		t.Fatalf("token holds %d attachments, want 2", n)
	}
	// Only the uploader may use the token.
	f.acme.Do(t, f.admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "x",
		"comment": map[string]any{"body": "b", "uploads": []string{tok}}}}).Want(t, 422)

	r = f.acme.Do(t, f.agent, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Broken kettle", "requester_id": f.requester.UserID,
		"comment": map[string]any{"body": "see the photo", "uploads": []string{tok}}}}).Want(t, 201)
	tid := testkit.ID(r.Obj("ticket"), "id")
	ev := r.Obj("audit")["events"].([]any)[0].(map[string]any)
	if atts := ev["attachments"].([]any); len(atts) != 2 {
		t.Fatalf("audit comment attachments = %v", ev["attachments"])
	}
	// Used tokens are spent.
	f.acme.Do(t, f.agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tid), map[string]any{"ticket": map[string]any{
		"comment": map[string]any{"body": "again", "uploads": []string{tok}}}}).Want(t, 422)

	cs := f.acme.Do(t, f.requester, "GET", fmt.Sprintf("/api/v2/requests/%d/comments.json", tid), nil).Want(t, 200).List("comments")
	atts, _ := cs[0]["attachments"].([]any)
	if len(atts) != 2 {
		t.Fatalf("request comment attachments = %v", cs[0]["attachments"])
	}
	att := atts[0].(map[string]any)
	dl := download(t, f.acme, f.requester, att["content_url"].(string)).Want(t, 200)
	if !bytes.Equal(dl.Body, img) {
		t.Fatal("downloaded bytes differ")
	}
	h := dl.Header
	if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
		!strings.HasPrefix(h.Get("Content-Disposition"), "inline") || h.Get("Content-Type") != "image/png" {
		t.Fatalf("image headers: %v", h)
	}
	txt := download(t, f.acme, f.agent, atts[1].(map[string]any)["content_url"].(string)).Want(t, 200)
	if !strings.HasPrefix(txt.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("text file disposition %q", txt.Header.Get("Content-Disposition"))
	}
	f.acme.Do(t, f.agent, "GET", fmt.Sprintf("/api/v2/attachments/%d.json", testkit.ID(att, "id")), nil).Want(t, 200)

	// End users upload on their requests too.
	eu := upload(t, f.acme, f.requester, "receipt.png", bytes.NewReader(pngBytes(t, 20, 10)), "").Want(t, 201)
	etok := eu.Obj("upload")["token"].(string)
	f.acme.Do(t, f.requester, "PUT", fmt.Sprintf("/api/v2/requests/%d.json", tid), map[string]any{"request": map[string]any{
		"comment": map[string]any{"body": "my receipt", "uploads": []string{etok}}}}).Want(t, 200)

	// Redaction replaces the file and records who did it.
	cid := testkit.ID(cs[0], "id")
	rr := f.acme.Do(t, f.agent, "PUT", fmt.Sprintf("/api/v2/tickets/%d/comments/%d/attachments/%d/redact.json", tid, cid, testkit.ID(att, "id")), nil).Want(t, 200)
	ra := rr.Obj("attachment")
	if ra["file_name"] != "redacted.txt" || ra["size"] != float64(0) || ra["redacted_by_id"] != float64(f.agent.UserID) || ra["deleted"] != true {
		t.Fatalf("redacted = %v", ra)
	}
	if b := download(t, f.acme, f.agent, att["content_url"].(string)).Want(t, 200).Body; len(b) != 0 {
		t.Fatalf("redacted file still has %d bytes", len(b))
	}
	audits := f.acme.Do(t, f.agent, "GET", fmt.Sprintf("/api/v2/tickets/%d/audits.json", tid), nil).Want(t, 200)
	if !strings.Contains(string(audits.Body), "AttachmentRedactionEvent") {
		t.Fatal("no audit records the redaction")
	}
	// The image's bytes and its thumbnail are gone from disk; notes.txt and
	// receipt.png stay (receipt.png's thumbnail is the very same PNG, so the two
	// share one blob: deduplication).
	if n := len(blobFiles(t, f.filesDir)); n != 2 {
		t.Fatalf("blob files after redaction: %v, want 2", blobFiles(t, f.filesDir))
	}
}

// TestMalwareRefused uploads through a desk scanning with a real clamd: EICAR is
// refused with malware_found and leaves nothing; a clean file says it was scanned.
func TestMalwareRefused(t *testing.T) {
	t.Parallel()
	spec := files.StartClamd(t)
	db := storetest.Open(t, store.SQLite)
	dir := t.TempDir()
	desk := testkit.StartDB(t, db, func(c *server.Config) { c.FilesDir = dir; c.Clamd = spec })
	a := desk.Account(t, "acme", account.Enterprise)
	r := upload(t, a, a.Admin, "eicar.com", bytes.NewReader(files.EICAR()), "").Want(t, 422)
	if !strings.Contains(string(r.Body), "malware_found") || !strings.Contains(string(r.Body), "Tandem.Test.EICAR") {
		t.Fatalf("refusal does not say why: %s", r.Body)
	}
	if left := blobFiles(t, dir); len(left) != 0 {
		t.Fatalf("an infected file left blobs: %v", left)
	}
	ok := upload(t, a, a.Admin, "fine.txt", strings.NewReader("a clean file"), "").Want(t, 201)
	if got := attachmentOf(ok)["malware_scan_result"]; got != "malware_not_found" {
		t.Fatalf("malware_scan_result = %v", got)
	}
}
