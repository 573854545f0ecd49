package sharing_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/sharing/wire"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// hostile is a partner desk that speaks just enough of the protocol to get an agreement
// accepted, then serves what a test asks for under /files/.
type hostile struct {
	port   string
	mu     sync.Mutex
	hits   map[string]int
	served atomic.Int64 // bytes of /files/huge written before the receiver hung up
	files  map[string]func(w http.ResponseWriter, hit int)
}

func startHostile(t *testing.T) *hostile {
	t.Helper()
	h := &hostile{hits: map[string]int{}, files: map[string]func(http.ResponseWriter, int){}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, h.port, _ = net.SplitHostPort(ln.Addr().String())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if uuid, ok := strings.CutPrefix(r.URL.Path, "/sharing/agreements/"); ok {
			// Confirms any invitation it is asked about, and any answer to one.
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"uuid": uuid, "name": "Evil Corp", "status": "pending"})
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/files/")
		h.mu.Lock()
		h.hits[name]++
		hit, f := h.hits[name], h.files[name]
		h.mu.Unlock()
		if !ok || f == nil {
			http.NotFound(w, r)
			return
		}
		f(w, hit)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

func (h *hostile) url(path string) string { return "http://evil.localhost:" + h.port + path }

func (h *hostile) hitsOf(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[name]
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestHostilePartnerFiles: a partner that announces files and serves garbage, too much,
// the wrong type, errors, or points at another host gets none of it stored; what it
// serves honestly is stored once, retried through the delivery queue when it fails for a
// while, and nothing is left behind of what was refused.
func TestHostilePartnerFiles(t *testing.T) {
	for _, dia := range storetest.Dialects() {
		t.Run(string(dia), func(t *testing.T) {
			t.Parallel()
			const limit = 256 << 10
			desk := testkit.Start(t, dia, func(c *server.Config) { c.Files.MaxFileSize = limit })
			b := desk.Account(t, "globex", account.Enterprise)
			h := startHostile(t)
			elsewhere := startHostile(t) // another host: the partner may not send us there

			photo := testPNG(t, 20, 20)
			garbage := bytes.Repeat([]byte{0xAB}, 1000)
			html := []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
			h.files["ok.png"] = func(w http.ResponseWriter, _ int) { w.Header().Set("Content-Type", "image/png"); w.Write(photo) }
			h.files["garbage.png"] = func(w http.ResponseWriter, _ int) { w.Write(garbage) }
			h.files["fake.png"] = func(w http.ResponseWriter, _ int) { w.Header().Set("Content-Type", "image/png"); w.Write(html) }
			h.files["flaky.txt"] = func(w http.ResponseWriter, hit int) {
				if hit == 1 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				}
				w.Write([]byte("steady now"))
			}
			h.files["huge.bin"] = func(w http.ResponseWriter, _ int) {
				chunk := make([]byte, 64<<10)
				for range 1024 { // 64 MB unless the receiver hangs up
					n, err := w.Write(chunk)
					h.served.Add(int64(n))
					if err != nil {
						return
					}
				}
			}
			h.files["announced-huge.bin"] = h.files["huge.bin"]
			elsewhere.files["ok.png"] = h.files["ok.png"]

			// The invitation, verified by calling the hostile sender back, then accepted.
			uuid, key := wire.NewUUID(), wire.NewAccessKey()
			invite := fmt.Sprintf(`{"uuid":%q,"access_key":%q,"name":"Evil Corp","status":"pending","sender_url":%q,"receiver_url":%q}`,
				uuid, key, h.url("/sharing"), desk.SharingURL(b.Sub))
			if r, _ := desk.Request(b.Sub, testkit.Anonymous, "POST", "/sharing/agreements/"+uuid, invite, nil); r.Status != 201 {
				t.Fatalf("invite: %d %s", r.Status, r.Body)
			}
			agB := testkit.ID(b.Do(t, b.Admin, "GET", "/api/v2/sharing_agreements", nil).List("sharing_agreements")[0], "id")
			b.Do(t, b.Admin, "PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d", agB), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}).Want(t, 200)

			att := func(name, u string, size int64, sha string) map[string]any {
				return map[string]any{"url": u, "filename": name, "content_type": "image/png", "size": size, "sha256": sha, "uuid": "att-" + name}
			}
			ticketUUID := wire.NewUUID()
			body, _ := json.Marshal(map[string]any{"uuid": ticketUUID, "subject": "Totally legit", "requester": map[string]any{"uuid": "r1", "name": "Mallory"},
				"comments": []any{map[string]any{"uuid": "c1", "body": "Files attached", "author": map[string]any{"uuid": "r1", "name": "Mallory"},
					"attachments": []any{
						att("ok.png", h.url("/files/ok.png"), int64(len(photo)), hexSHA(photo)),
						att("garbage.png", h.url("/files/garbage.png"), int64(len(garbage)), hexSHA(photo)),
						att("fake.png", h.url("/files/fake.png"), 0, ""),
						att("flaky.txt", h.url("/files/flaky.txt"), 10, hexSHA([]byte("steady now"))),
						att("huge.bin", h.url("/files/huge.bin"), 0, ""),
						att("announced-huge.bin", h.url("/files/announced-huge.bin"), 10<<20, ""),
						att("missing.bin", h.url("/files/missing.bin"), 0, ""),
						att("forged.png", elsewhere.url("/files/ok.png"), 0, ""),
						att("metadata", "http://169.254.169.254/latest/meta-data/", 0, ""),
						att("local", "local://globex/attachments/1/x", 0, ""),
						att("not-a-url", "::::", 0, ""),
					}}}})
			hdr := http.Header{wire.TokenHeader: {wire.FormatToken(uuid, key)}}
			post := func() {
				t.Helper()
				if r, _ := desk.Request(b.Sub, testkit.Anonymous, "POST", "/sharing/tickets/"+ticketUUID, body, hdr); r.Status != 201 {
					t.Fatalf("share: %d %s", r.Status, r.Body)
				}
			}
			post()
			var tid int64
			testkit.Eventually(t, 10*time.Second, "the copy", func() bool {
				for _, tk := range b.Do(t, b.Admin, "GET", "/api/v2/tickets.json", nil).List("tickets") {
					tid = testkit.ID(tk, "id")
				}
				return tid != 0
			})
			waitFilesDrained(t, desk)

			_, list := filesOn(t, b, b.Admin, tid, "Files attached")
			names := map[string]map[string]any{}
			for _, f := range list {
				names[f["file_name"].(string)] = f
			}
			if len(list) != 3 || names["ok.png"] == nil || names["fake.png"] == nil || names["flaky.txt"] == nil {
				t.Fatalf("stored %d files, want ok.png, fake.png and flaky.txt: %v", len(list), list)
			}
			if ct := names["fake.png"]["content_type"].(string); strings.HasPrefix(ct, "image/") {
				t.Fatalf("HTML announced as image/png stored as %s", ct)
			}
			r := get(t, b, b.Admin, names["fake.png"]["content_url"].(string)).Want(t, 200)
			if r.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("the HTML is served as %q, %q", r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"))
			}
			if got := string(get(t, b, b.Admin, names["flaky.txt"]["content_url"].(string)).Want(t, 200).Body); got != "steady now" {
				t.Fatalf("flaky.txt = %q", got)
			}
			if n := h.hitsOf("flaky.txt"); n != 2 {
				t.Fatalf("flaky.txt fetched %d times, want 2 (one 503, one success)", n)
			}

			// Each refusal is recorded with its reason, and was never fetched when the
			// URL was not the partner's.
			reasons := map[string]string{}
			rows, err := desk.DB.R().QueryContext(t.Context(), `SELECT file_name, status, last_error FROM sharing_attachment_fetches WHERE account_id = ?`, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name, status, reason string
				rows.Scan(&name, &status, &reason)
				reasons[name] = status + ": " + reason
			}
			rows.Close()
			for name, want := range map[string]string{
				"garbage.png":        "SHA-256",
				"huge.bin":           "limit",
				"announced-huge.bin": "limit",
				"missing.bin":        "404",
				"forged.png":         "not on the partner's host",
				"metadata":           "not on the partner's host",
				"local":              "not an http(s) URL",
				"not-a-url":          "not an http(s) URL",
			} {
				if got := reasons[name]; !strings.HasPrefix(got, "dead: ") || !strings.Contains(got, want) {
					t.Errorf("%s: %q, want dead naming %q", name, got, want)
				}
			}
			// The agents see it on the share: files given up on, with the latest reason.
			sh := ticketOf(t, b, tid)["sharing"].([]any)[0].(map[string]any)
			fl := sh["delivery"].(map[string]any)["files"].(map[string]any)
			if testkit.ID(fl, "failed") != 8 || testkit.ID(fl, "pending") != 0 || fl["last_error"] == nil {
				t.Fatalf("the share's files = %v, want 8 failed with a reason", fl)
			}
			if n := elsewhere.hitsOf("ok.png"); n != 0 {
				t.Fatalf("the receiver fetched from a host that is not the partner's (%d times)", n)
			}
			if n := h.served.Load(); n > 32<<20 {
				t.Fatalf("the receiver read on: %d bytes were written of a stream over a %d-byte limit", n, limit)
			}
			if n := h.hitsOf("garbage.png"); n != 3 {
				t.Fatalf("garbage fetched %d times, want 3 (a cut transfer is retried twice)", n)
			}

			// The same comment again (a retransmission) fetches nothing more.
			put, _ := json.Marshal(map[string]any{"comments": json.RawMessage(mustJSON(t, body, "comments"))})
			if r, _ := desk.Request(b.Sub, testkit.Anonymous, "PUT", "/sharing/tickets/"+ticketUUID, put, hdr); r.Status != 200 {
				t.Fatalf("retransmission: %d %s", r.Status, r.Body)
			}
			post() // and the share itself again
			waitFilesDrained(t, desk)
			if n := h.hitsOf("ok.png"); n != 1 {
				t.Fatalf("ok.png fetched %d times, want once", n)
			}
			if _, again := filesOn(t, b, b.Admin, tid, "Files attached"); len(again) != 3 {
				t.Fatalf("after a retransmission the comment has %d files, want 3", len(again))
			}
			// Nothing refused is left behind: every blob is used by a stored file.
			var blobs, used, loose int
			desk.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM blobs WHERE account_id = ?`, b.ID).Scan(&blobs)
			desk.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(DISTINCT sha256) FROM attachments WHERE account_id = ? AND comment_id <> 0`, b.ID).Scan(&used)
			desk.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM attachments WHERE account_id = ? AND comment_id = 0`, b.ID).Scan(&loose)
			if blobs != used || loose != 0 {
				t.Fatalf("%d blobs for %d stored files, %d loose rows", blobs, used, loose)
			}
		})
	}
}

// mustJSON returns the raw value of a top-level key of a JSON object.
func mustJSON(t *testing.T, body []byte, key string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}
