package assist_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"tandem/internal/ai/assist"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

// browser is a signed-in web client without JavaScript.
type browser struct {
	t    testing.TB
	hc   *http.Client
	base string
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (w *world) browser(cred testkit.Cred) *browser {
	w.t.Helper()
	ctx := context.Background()
	if err := w.desk.DB.Write(ctx, func(tx *store.Tx) error {
		return identity.SetPassword(ctx, tx, w.acme.ID, ids.User(cred.UserID), "correct horse battery")
	}); err != nil {
		w.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}}
	w.t.Cleanup(tr.CloseIdleConnections)
	b := &browser{t: w.t, base: "http://" + w.desk.Host("acme"), hc: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.get("/login")
	if st, _ := b.post("/login", url.Values{"email": {cred.Email}, "password": {"correct horse battery"}}); st != http.StatusSeeOther {
		w.t.Fatalf("sign in as %s: %d", cred.Email, st)
	}
	b.get("/agent")
	return b
}

func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, string(body)
}

func (b *browser) get(path string) (int, string) {
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	form.Set("csrf_token", b.csrf)
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func TestWebSidebarAndAdminPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, store.SQLite)
	en := w.ticket("Card", "Hello, my new card has not arrived yet, when will it arrive?")
	agent := w.browser(w.agent)
	st, side := agent.get(fmt.Sprintf("/agent/tickets/%d/ai/suggest", en))
	if st != 200 || !strings.Contains(side, "Card arrival") || !strings.Contains(side, "When will my new card arrive?") || !strings.Contains(side, "Send this reply") ||
		!strings.Contains(side, "priority: <strong>normal</strong>") || strings.Contains(side, "courier contacts") {
		t.Fatalf("sidebar %d: %s", st, side)
	}
	if st, page := agent.get(fmt.Sprintf("/agent/tickets/%d", en)); st != 200 || !strings.Contains(page, "/ai/suggest") {
		t.Fatalf("the ticket page does not load the AI block: %d", st)
	}
	if st, _ := agent.post(fmt.Sprintf("/agent/tickets/%d/ai/reply", en), url.Values{}); st != http.StatusSeeOther {
		t.Fatalf("send the suggested reply: %d", st)
	}
	cs := w.comments(en)
	if last := cs[len(cs)-1]; !last.Public || last.AuthorID != ids.User(w.agent.UserID) || !strings.Contains(last.Body, "3 to 5 working days") {
		t.Errorf("sent reply: %+v", last)
	}
	if st, _ := agent.get("/admin/ai/autonomy"); st != http.StatusForbidden {
		t.Errorf("an agent opened the AI admin page: %d", st)
	}
	if st, _ := w.browser(w.restricted).get(fmt.Sprintf("/agent/tickets/%d/ai/suggest", en)); st != http.StatusNotFound {
		t.Errorf("a restricted agent's sidebar: %d", st)
	}
	if st, _ := w.browser(w.customer).get(fmt.Sprintf("/agent/tickets/%d/ai/suggest", en)); st != http.StatusForbidden {
		t.Errorf("an end user's sidebar: %d", st)
	}

	admin := w.browser(w.acme.Admin)
	st, page := admin.get("/admin/ai/autonomy")
	if st != 200 || !strings.Contains(page, "card_arrival") || !strings.Contains(page, "refund_request") || !strings.Contains(page, "restricted") {
		t.Fatalf("admin page %d: %s", st, page)
	}
	if st, _ := admin.post("/admin/ai/autonomy/intents", url.Values{"intent": {"card_arrival"}, "mode": {"autonomous"}}); st != http.StatusSeeOther {
		t.Fatalf("set the rung: %d", st)
	}
	if _, page = admin.get("/admin/ai/autonomy"); !strings.Contains(page, "simulation did not cover this intent") {
		t.Errorf("the page does not say why autonomy is not allowed")
	}
	admin.post("/admin/ai/autonomy/controls", url.Values{"kill": {"on"}})
	if _, page = admin.get("/admin/ai/autonomy"); !strings.Contains(page, "The AI is switched off") {
		t.Errorf("kill switch not shown")
	}
	admin.post("/admin/ai/autonomy/model-server", url.Values{"base_url": {"http://127.0.0.1:9/v1"}, "chat_model": {"m"}, "api_key": {"sk-x"}})
	admin.post("/admin/ai/autonomy/model-server/check", url.Values{})
	if _, page = admin.get("/admin/ai/autonomy"); !strings.Contains(page, "AI degraded") || strings.Contains(page, "sk-x") {
		t.Errorf("a model server that does not answer is not shown degraded (or the key shows)")
	}
	if st, _ := admin.post("/admin/ai/autonomy/controls", url.Values{"target_precision": {"0.5"}, "rate_per_hour": {"10"}, "min_tickets": {"200"}, "draft_kind": {"note"}}); st != http.StatusSeeOther {
		t.Errorf("bad target precision: %d", st)
	}
	if _, page = admin.get("/admin/ai/autonomy"); !strings.Contains(page, "between 0.95 and 1") {
		t.Errorf("the refused target precision is not explained")
	}
}

func TestHelpCenterNotHelped(t *testing.T) {
	t.Parallel()
	w := newWorld(t, store.SQLite)
	id := w.ticket("Carte", "Bonjour, ma nouvelle carte n'est toujours pas arrivée, quand vais-je la recevoir ?")
	w.setMode("card_arrival", assist.ModeAutonomous)
	if d, err := w.service(gate{"card_arrival": {Precision: 0.99, Tickets: 500}}).Act(context.Background(), w.acct, id); err != nil || d.Action != assist.ActAutonomous {
		t.Fatalf("act: %+v %v", d, err)
	}
	customer := w.browser(w.customer)
	path := fmt.Sprintf("/hc/requests/%d", id)
	if st, page := customer.get(path); st != 200 || !strings.Contains(page, "That did not help") || !strings.Contains(page, "Bonjour") {
		t.Fatalf("request page %d: %s", st, page)
	}
	if st, _ := customer.post(path+"/not-helped", url.Values{}); st != http.StatusSeeOther {
		t.Fatalf("not helped: %d", st)
	}
	testkit.Eventually(t, 10*time.Second, "the hand-back to people", func() bool {
		tk := w.get(id)
		return tk.Status == "open" && hasTag(tk.Tags, assist.TagHandoff+"_not_helped")
	})
	cs := w.comments(id)
	if c := cs[len(cs)-2]; !c.Public || assist.DetectLanguage(c.Body) != assist.LangFR {
		t.Errorf("the requester's words, in French: %+v", c)
	}
	if _, page := customer.get(path); strings.Contains(page, "That did not help") {
		t.Error("the button stays once a person took over")
	}
	n := len(w.comments(id))
	if st, _ := w.browser(w.restricted).post(path+"/not-helped", url.Values{}); st != http.StatusNotFound && st != http.StatusForbidden {
		t.Errorf("a restricted agent who cannot see the ticket: %d", st)
	}
	if len(w.comments(id)) != n {
		t.Error("a refused not-helped wrote a comment")
	}
}
