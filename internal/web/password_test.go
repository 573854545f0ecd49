package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/testkit"
)

var linkRE = regexp.MustCompile(`/password/set\?token=([a-z0-9]+)`)

// TestSignUpAndForgotPassword: sign-up mails a link that verifies the address and sets
// the password (through the people service); "Forgot password" answers the same for
// known and unknown addresses and mails only the known one; links work once; asks are
// rate-limited per address. Mail is kept (no relay), and read from the outbox.
func TestSignUpAndForgotPassword(t *testing.T) {
	t.Parallel()
	desk := testkit.Start(t, store.SQLite)
	acme := desk.Account(t, "acme", account.Enterprise)
	globex := desk.Account(t, "globex", account.Enterprise)
	globex.User(t, identity.EndUser, "shared@example.test", "Globex Customer")
	lastLink := func(to string) string {
		var body string
		_ = desk.DB.R().QueryRowContext(t.Context(), `SELECT text_body FROM mail_outbox WHERE account_id = ? AND rcpt_to = ? ORDER BY id DESC LIMIT 1`, acme.ID, to).Scan(&body)
		if m := linkRE.FindStringSubmatch(body); m != nil {
			return m[1]
		}
		return ""
	}

	c := newClient(t, desk, "acme")
	c.get("/login").has(t, `href="/signup"`, `href="/password/forgot"`)
	c.get("/hc").has(t, `href="/signup"`)
	c.get("/signup").want(t, http.StatusOK)
	c.post("/signup", url.Values{"name": {"Nina New"}, "email": {"nina@example.test"}}).want(t, http.StatusOK).has(t, "Check your mail")
	tok := lastLink("nina@example.test")
	if tok == "" {
		t.Fatal("sign-up mailed no link")
	}
	c.get("/password/set?token="+tok).want(t, http.StatusOK).has(t, "Choose a password")
	c.post("/password/set", url.Values{"token": {tok}, "password": {"short"}, "confirm": {"short"}}).want(t, http.StatusUnprocessableEntity)
	p := c.post("/password/set", url.Values{"token": {tok}, "password": {"a long new secret"}, "confirm": {"a long new secret"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", p.Status, excerpt(p.Body))
	}
	// The link is used up; the password works; the address is verified.
	c.get("/password/set?token="+tok).want(t, http.StatusGone)
	c.post("/password/set", url.Values{"token": {tok}, "password": {"another secret"}, "confirm": {"another secret"}}).want(t, http.StatusUnprocessableEntity)
	n := newClient(t, desk, "acme")
	n.signIn("nina@example.test", "a long new secret")
	var verified bool
	if err := desk.DB.R().QueryRowContext(t.Context(), `SELECT verified FROM users WHERE account_id = ? AND email = 'nina@example.test'`, acme.ID).Scan(&verified); err != nil || !verified {
		t.Fatalf("verified = %v (%v)", verified, err)
	}

	// Forgot password: the same page for a known and an unknown address (and one known
	// only to another account); only the known one gets mail.
	known := c.post("/password/forgot", url.Values{"email": {"nina@example.test"}}).want(t, http.StatusOK)
	unknown := c.post("/password/forgot", url.Values{"email": {"nobody@example.test"}}).want(t, http.StatusOK)
	other := c.post("/password/forgot", url.Values{"email": {"shared@example.test"}}).want(t, http.StatusOK)
	strip := func(s, email string) string { return strings.ReplaceAll(csrfRE.ReplaceAllString(s, ""), email, "") }
	if strip(known.Body, "nina@example.test") != strip(unknown.Body, "nobody@example.test") || strip(known.Body, "nina@example.test") != strip(other.Body, "shared@example.test") {
		t.Fatal("the forgot-password answer differs for known and unknown addresses")
	}
	reset := lastLink("nina@example.test")
	if reset == "" || reset == tok || lastLink("nobody@example.test") != "" || lastLink("shared@example.test") != "" {
		t.Fatalf("reset mail: known %q, unknown %q, other account's %q", reset, lastLink("nobody@example.test"), lastLink("shared@example.test"))
	}
	// Another account's desk does not take acme's link.
	g := newClient(t, desk, "globex")
	g.get("/password/set?token="+reset).want(t, http.StatusGone)
	// Rate limit: a few links per address per hour, then silence (same answer).
	for range 5 {
		c.post("/password/forgot", url.Values{"email": {"nina@example.test"}}).want(t, http.StatusOK)
	}
	var links int
	_ = desk.DB.R().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM password_links WHERE account_id = ?`, acme.ID).Scan(&links)
	if links > 4 {
		t.Fatalf("%d links made for one address within the hour, want at most 4 (sign-up + 3 resets)", links)
	}
	c.post("/password/set", url.Values{"token": {reset}, "password": {"newer secret!"}, "confirm": {"newer secret!"}}).want(t, http.StatusSeeOther)
	n2 := newClient(t, desk, "acme")
	n2.signIn("nina@example.test", "newer secret!")

	// An admin creates a user without a password: the welcome mail links to choosing one.
	adm := newClient(t, desk, "acme")
	adm.signIn("admin@acme.test", password)
	adm.get("/admin/users/new")
	adm.post("/admin/users", url.Values{"name": {"Walt Welcome"}, "email": {"walt@example.test"}, "role": {"end-user"}}).want(t, http.StatusSeeOther)
	welcome := lastLink("walt@example.test")
	if welcome == "" {
		t.Fatal("no welcome mail with a link")
	}
	c.post("/password/set", url.Values{"token": {welcome}, "password": {"walt's secret"}, "confirm": {"walt's secret"}}).want(t, http.StatusSeeOther)
	newClient(t, desk, "acme").signIn("walt@example.test", "walt's secret")
}
