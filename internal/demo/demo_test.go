package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/demo"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

func TestSeedTwice(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			// Each dialect seeds its own server: the two run side by side, and beside
			// TestReadmeSharingExample.
			t.Parallel()
			// The server's own rate limits stay on, as in 'tandem demo'.
			desk := testkit.Start(t, d, func(c *server.Config) {
				c.RateLimit = 0
				c.SecretKey = "demo-test-secret-key-0123456789" // as 'tandem demo' has under its data directory
			})
			ctx := context.Background()

			// Acme's AI history (1,200 tickets through the write paths, then training) is
			// seeded on SQLite, the README's demo database; the generator's seeding on
			// PostgreSQL is covered by internal/ai/sim's tests.
			withAI := d == store.SQLite
			first, err := demo.SeedWith(ctx, desk.Srv, desk.Addr, demo.Options{SkipAI: !withAI})
			if err != nil {
				t.Fatalf("first seed: %v", err)
			}
			acme := admin(t, desk, first, "acme")
			globex := admin(t, desk, first, "globex")
			for _, a := range first.Accounts {
				if !a.Created {
					t.Errorf("%s: Created = false on a fresh database", a.Subdomain)
				}
			}

			// Acme's AI history, its training and its simulation (ai.go); the models are
			// there when the demo serves, so an open ticket shows the AI's suggestions.
			if withAI {
				if first.AI == nil || first.AI.HistoryTickets < 1000 || first.AI.SimulationID == 0 || first.AI.ModelVersion == 0 {
					t.Fatalf("AI seeding: %+v", first.AI)
				}
				sg := acme.Do(t, acme.Admin, "GET", "/api/v2/tickets/1/suggestions.json", nil).Want(t, http.StatusOK).Obj("suggestions")
				if v, _ := sg["model_version"].(float64); v == 0 {
					t.Errorf("suggestions on a demo ticket carry no model: %v", sg)
				}
				testkit.Eventually(t, 60*time.Second, "acme's simulation finishes", func() bool {
					sim := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/ai/simulations/%d.json", first.AI.SimulationID), nil).Want(t, http.StatusOK).Obj("simulation")
					return sim["status"] == "finished"
				})
			}

			// Acme has its own DKIM key; its admin sees the record to publish.
			if k := first.DKIM; k == nil || !strings.HasSuffix(k.Name, "._domainkey.acme.localhost") || !strings.HasPrefix(k.Record, "v=DKIM1; k=rsa; p=") {
				t.Fatalf("demo DKIM key = %+v", first.DKIM)
			}
			acme.Do(t, acme.Admin, "GET", "/api/v2/dkim_key", nil).Want(t, http.StatusOK)

			// The default triggers' notifications are on the Outgoing mail page (kept: the
			// demo has no relay).
			var mails int
			if err := desk.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox m JOIN accounts a ON a.id = m.account_id WHERE a.subdomain = 'acme'`).Scan(&mails); err != nil || mails == 0 {
				t.Fatalf("the demo queued %d mails for acme (%v), want some for its Outgoing mail page", mails, err)
			}
			// The agent's reply with the care guide reaches the customer with the file.
			var withFiles int
			if err := desk.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_outbox m JOIN accounts a ON a.id = m.account_id WHERE a.subdomain = 'acme' AND m.attachments <> '' AND m.text_body LIKE '%care guide%'`).Scan(&withFiles); err != nil || withFiles == 0 {
				t.Fatalf("no demo mail carries the care guide (%v)", err)
			}

			// Globex also holds the copies of the warranty claims Acme shared with it.
			sh := first.Sharing
			if sh == nil || sh.SharedTickets < 3 || sh.From != "acme" || sh.To != "globex" {
				t.Fatalf("sharing = %+v, want acme sharing several warranty claims with globex", sh)
			}
			// Acme also opened one warranty claim that its trigger shared automatically.
			if sh.TriggerID == 0 || sh.AutoShared == 0 {
				t.Fatalf("no warranty-claim trigger at work: %+v", sh)
			}
			auto := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", sh.AutoShared), nil).Want(t, http.StatusOK).Obj("ticket")
			if ids, _ := auto["sharing_agreement_ids"].([]any); len(ids) != 1 {
				t.Errorf("the trigger did not share the new warranty claim: %v", auto["sharing"])
			}
			// Issue 18: requesters rated some solved tickets (one bad), and the agreement
			// carries Globex's promised response time.
			ratings := acme.Do(t, acme.Admin, "GET", "/api/v2/satisfaction_ratings.json?score=received", nil).Want(t, http.StatusOK).List("satisfaction_ratings")
			if len(ratings) != 3 || !bytes.Contains(acme.Do(t, acme.Admin, "GET", "/api/v2/satisfaction_ratings.json?score=bad", nil).Body, []byte("took a week")) {
				t.Errorf("demo ratings = %v", ratings)
			}
			ag := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", sh.AgreementID), nil).Want(t, http.StatusOK).Obj("sharing_agreement")
			if testkit.ID(ag, "promised_response_minutes") != 240 {
				t.Errorf("demo agreement = %v, want a promised response time of 240 minutes", ag)
			}
			// The printed counts are what each desk holds: Acme's seeded tickets and the one
			// its trigger shared, Globex's own and the copies it received.
			wantTickets := map[*testkit.Acct]int{acme: first.Account("acme").Tickets, globex: first.Account("globex").Tickets}
			if wantTickets[acme] < 25 || wantTickets[globex] < 8 {
				t.Fatalf("seed data too small: %v", wantTickets)
			}
			shared := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d.json", sh.WarrantyTicket), nil).Want(t, http.StatusOK).Obj("ticket")
			if ids, _ := shared["sharing_agreement_ids"].([]any); len(ids) != 1 {
				t.Errorf("the warranty claim is not shared: %v", shared["sharing"])
			}
			testkit.Eventually(t, 10*time.Second, "globex's reply at acme", func() bool {
				body := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", sh.WarrantyTicket), nil).Body
				return bytes.Contains(body, []byte("Globex engineering here"))
			})
			// The customer's photo travelled with the shared comment: Globex keeps its own
			// copy, and Globex's replacement guide came back to Acme.
			if sh.PhotoCopy == 0 {
				t.Fatal("the photographed warranty claim did not reach globex")
			}
			if body := globex.Do(t, globex.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", sh.PhotoCopy), nil).Want(t, http.StatusOK).Body; !bytes.Contains(body, []byte(`"file_name":"burner-crack.png"`)) {
				t.Errorf("globex's copy lacks the customer's photo: %.400s", body)
			}
			testkit.Eventually(t, 10*time.Second, "globex's replacement guide at acme", func() bool {
				body := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/tickets/%d/comments.json", sh.WarrantyTicket), nil).Body
				return bytes.Contains(body, []byte(`"file_name":"replacement-guide.txt"`))
			})
			// The warranty claim article carries its claim form as an article attachment.
			if body := acme.Do(t, testkit.Anonymous, "GET", "/api/v2/help_center/articles/search.json?query=warranty+claim", nil).Want(t, http.StatusOK).Body; !bytes.Contains(body, []byte("warranty")) {
				t.Errorf("no warranty article found: %.300s", body)
			}
			var formID int64
			desk.DB.R().QueryRowContext(ctx, `SELECT k.id FROM kb_article_attachments k JOIN attachments f ON f.account_id = k.account_id AND f.id = k.id WHERE f.file_name = 'warranty-claim-form.txt'`).Scan(&formID)
			if formID == 0 {
				t.Error("the demo's warranty article has no claim form attached")
			} else if r := acme.Do(t, testkit.Anonymous, "GET", fmt.Sprintf("/hc/article_attachments/%d/warranty-claim-form.txt", formID), nil); r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("Order number")) {
				t.Errorf("the claim form download: %d", r.Status)
			}
			users := map[*testkit.Acct]int{}
			for a, n := range wantTickets {
				if got := count(t, a, "/api/v2/tickets.json"); got != n {
					t.Errorf("%s has %d tickets, want %d", a.Sub, got, n)
				}
				users[a] = count(t, a, "/api/v2/users.json")
			}

			// The webhook (inactive: the demo never calls out) and the trigger that calls it.
			if hooks := acme.Do(t, acme.Admin, "GET", "/api/v2/webhooks", nil).Want(t, http.StatusOK).List("webhooks"); len(hooks) != 1 || hooks[0]["status"] != "inactive" {
				t.Errorf("acme's webhooks = %v, want one inactive", hooks)
			}

			// The organization and its end users.
			var initech map[string]any
			for _, o := range acme.Do(t, acme.Admin, "GET", "/api/v2/organizations.json", nil).Want(t, http.StatusOK).List("organizations") {
				if o["name"] == "Initech" {
					initech = o
				}
			}
			if initech == nil {
				t.Fatal("organization Initech not found")
			}
			if initech["shared_tickets"] != true || initech["shared_comments"] != true {
				t.Errorf("Initech shares tickets %v, comments %v; want both true", initech["shared_tickets"], initech["shared_comments"])
			}
			if d, _ := initech["domain_names"].([]any); len(d) != 1 || d[0] != "initech.test" {
				t.Errorf("Initech domain_names = %v, want [initech.test]", initech["domain_names"])
			}
			byEmail := map[string]map[string]any{}
			for _, u := range acme.Do(t, acme.Admin, "GET", "/api/v2/users.json", nil).Want(t, http.StatusOK).List("users") {
				email, _ := u["email"].(string)
				byEmail[email] = u
			}
			orgID := testkit.ID(initech, "id")
			for email, wantOrg := range map[string]int64{"alice@initech.test": orgID, "bob@initech.test": orgID, "carol@example.test": 0} {
				u := byEmail[email]
				if u == nil {
					t.Errorf("end user %s not found", email)
					continue
				}
				if u["role"] != "end-user" {
					t.Errorf("%s role = %v, want end-user", email, u["role"])
				}
				if got := testkit.ID(u, "organization_id"); got != wantOrg {
					t.Errorf("%s organization_id = %d, want %d", email, got, wantOrg)
				}
			}
			for _, email := range []string{"sam@acme.test", "jordan@acme.test"} {
				if u := byEmail[email]; u == nil || u["role"] != "agent" {
					t.Errorf("agent %s: %v", email, u)
				}
			}

			// Warranty claims are tagged, assigned, and carry private notes somewhere.
			claims := 0
			for _, tk := range acme.Do(t, acme.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusOK).List("tickets") {
				tags, _ := tk["tags"].([]any)
				for _, tag := range tags {
					if tag == "warranty_claim" {
						claims++
					}
				}
			}
			if claims < 5 {
				t.Errorf("%d warranty claims, want several", claims)
			}

			// Seeding again creates nothing and hands out a fresh, working token.
			second, err := demo.Seed(ctx, desk.Srv, desk.Addr)
			if err != nil {
				t.Fatalf("second seed: %v", err)
			}
			for _, a := range second.Accounts {
				if a.Created {
					t.Errorf("%s: Created = true on the second run", a.Subdomain)
				}
				if a.APIToken == first.Account(a.Subdomain).APIToken {
					t.Errorf("%s: the second run printed the first run's token", a.Subdomain)
				}
			}
			for a := range wantTickets {
				fresh := admin(t, desk, second, a.Sub)
				if got := count(t, fresh, "/api/v2/tickets.json"); got != wantTickets[a] {
					t.Errorf("%s: %d tickets after the second seed, want %d", a.Sub, got, wantTickets[a])
				}
				if got := count(t, fresh, "/api/v2/users.json"); got != users[a] {
					t.Errorf("%s: %d users after the second seed, want %d", a.Sub, got, users[a])
				}
			}

			var out bytes.Buffer
			second.Print(&out)
			for _, want := range []string{
				"http://acme.localhost:" + desk.Port + "/api/v2",
				"http://globex.localhost:" + desk.Port + "/agent",
				"/hc",
				"admin@acme.test", "admin@globex.test", demo.Password,
				"curl -u admin@acme.test/token:" + second.Account("acme").APIToken + " http://acme.localhost:" + desk.Port + "/api/v2/tickets.json",
				second.Account("globex").APIToken,
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("printed info lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// admin returns the demo account's admin as a testkit account, checking the token works.
func admin(t *testing.T, desk *testkit.Desk, info *demo.Info, sub string) *testkit.Acct {
	t.Helper()
	a := info.Account(sub)
	if a == nil {
		t.Fatalf("no %s in the demo info", sub)
	}
	acct := &testkit.Acct{Desk: desk, Sub: sub, Plan: a.Plan, Admin: testkit.Cred{Email: a.AdminEmail, Token: a.APIToken}}
	acct.Do(t, acct.Admin, "GET", "/api/v2/tickets.json", nil).Want(t, http.StatusOK)
	return acct
}

// count returns the "count" of a list endpoint.
func count(t *testing.T, a *testkit.Acct, path string) int {
	t.Helper()
	r := a.Do(t, a.Admin, "GET", path, nil).Want(t, http.StatusOK)
	n, ok := r.JSON["count"].(float64)
	if !ok {
		t.Fatalf("GET %s has no count: %.300s", path, r.Body)
	}
	return int(n)
}
