package send_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/secretbox"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// verifyWith verifies raw's one DKIM signature with go-msgauth, the only DNS record
// being record at name; it returns the verification's error (nil: it verifies).
func verifyWith(t testing.TB, raw []byte, name, record string) error {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(n string) ([]string, error) {
		if n != name {
			return nil, fmt.Errorf("no record at %s", n)
		}
		return []string{record}, nil
	}})
	if err != nil {
		return err
	}
	if len(vs) != 1 {
		return fmt.Errorf("%d signatures", len(vs))
	}
	return vs[0].Err
}

// TestAccountDKIM: an account admin generates a DKIM key through the API (never
// shown its private half, sealed in the database); the account's mail is signed with
// it and verifies against the record the API shows, a tampered mail does not; it goes
// out with a VERP envelope sender on the account's domain; turning signing off sends
// unsigned mail, rotating to Ed25519 signs with the new selector. Another account's
// admin, an agent and an end user can neither read nor change the key, and globex's
// mail is signed with globex's own key.
func TestAccountDKIM(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		relay := smtptest.Start(t)
		d := testkit.StartDB(t, db, relayed(relay), func(c *server.Config) { c.SecretKey = "dkim-test-secret-key-0123456789" })
		a := d.Account(t, "acme", account.Enterprise)
		g := d.Account(t, "globex", account.Enterprise)
		agent := a.User(t, identity.Agent, "agent@acme.test", "Agent")
		end := a.User(t, identity.EndUser, "end@acme.test", "End")

		a.Do(t, a.Admin, "GET", "/api/v2/dkim_key", nil).Want(t, http.StatusNotFound)
		for _, who := range []testkit.Cred{agent, end} {
			a.Do(t, who, "POST", "/api/v2/dkim_key", map[string]any{}).Want(t, http.StatusForbidden)
		}
		// The server's mail domain and another account's domain are not the account's.
		a.Do(t, a.Admin, "POST", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"domain": "localhost"}}).Want(t, http.StatusUnprocessableEntity)
		a.Do(t, a.Admin, "POST", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"domain": "globex.localhost"}}).Want(t, http.StatusUnprocessableEntity)
		a.Do(t, a.Admin, "POST", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"algorithm": "dsa"}}).Want(t, http.StatusUnprocessableEntity)

		res := a.Do(t, a.Admin, "POST", "/api/v2/dkim_key", map[string]any{}).Want(t, http.StatusCreated)
		if bytes.Contains(bytes.ToLower(res.Body), []byte("private")) {
			t.Fatalf("the API returned the private key: %s", res.Body)
		}
		k := res.Obj("dkim_key")
		name, record := k["dns_name"].(string), k["dns_record"].(string)
		if k["domain"] != "acme.localhost" || k["algorithm"] != "rsa-sha256" || !strings.HasSuffix(name, "._domainkey.acme.localhost") ||
			!strings.HasPrefix(record, "v=DKIM1; k=rsa; p=") || k["enabled"] != true {
			t.Fatalf("dkim key = %v", k)
		}
		var sealed string
		if err := db.R().QueryRowContext(context.Background(), `SELECT private_key FROM mail_dkim_keys WHERE account_id = ?`, a.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if !secretbox.Sealed(sealed) || strings.Contains(sealed, "PRIVATE KEY") {
			t.Fatalf("the private key is stored in clear: %.60s", sealed)
		}
		// Nobody else reads or changes it: globex's admin sees globex's (none), agents
		// and end users are refused.
		g.Do(t, g.Admin, "GET", "/api/v2/dkim_key", nil).Want(t, http.StatusNotFound)
		g.Do(t, g.Admin, "PUT", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"enabled": false}}).Want(t, http.StatusNotFound)
		g.Do(t, g.Admin, "DELETE", "/api/v2/dkim_key", nil).Want(t, http.StatusNotFound)
		for _, who := range []testkit.Cred{agent, end} {
			a.Do(t, who, "GET", "/api/v2/dkim_key", nil).Want(t, http.StatusForbidden)
			a.Do(t, who, "PUT", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"enabled": false}}).Want(t, http.StatusForbidden)
			a.Do(t, who, "DELETE", "/api/v2/dkim_key", nil).Want(t, http.StatusForbidden)
		}
		gres := g.Do(t, g.Admin, "POST", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"algorithm": "ed25519"}}).Want(t, http.StatusCreated).Obj("dkim_key")

		// mailTo makes a ticket for a new requester and returns the receipt it gets.
		n := 0
		mailTo := func(acc *testkit.Acct) smtptest.Mail {
			t.Helper()
			n++
			email := fmt.Sprintf("cust%d@example.test", n)
			u := acc.User(t, identity.EndUser, email, "Customer")
			acc.Do(t, acc.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
				"subject": "Lamp", "requester_id": u.UserID, "comment": map[string]any{"body": "Lamp broken, body text"}}}).Want(t, http.StatusCreated)
			var got smtptest.Mail
			testkit.Eventually(t, 20*time.Second, "the receipt to reach the relay", func() bool {
				for _, m := range relay.Mails() {
					if len(m.To) == 1 && m.To[0] == email {
						got = m
						return true
					}
				}
				return false
			})
			return got
		}
		m := mailTo(a)
		if err := verifyWith(t, m.Data, name, record); err != nil {
			t.Fatalf("acme's mail does not verify with its record: %v\n%s", err, m.Data)
		}
		for _, h := range []string{"from", "to", "subject", "date", "message-id", "reply-to", "mime-version", "content-type"} {
			sig := string(m.Data[:bytes.Index(m.Data, []byte("\r\n\r\n"))])
			_, hs, _ := strings.Cut(sig, "h=")
			hs, _, _ = strings.Cut(hs, ";")
			if !strings.Contains(":"+strings.ToLower(hs)+":", ":"+h+":") {
				t.Fatalf("header %s not signed (h=%s)", h, hs)
			}
		}
		cut := bytes.Index(m.Data, []byte("\r\n\r\n")) + 4
		tampered := append(append(bytes.Clone(m.Data[:cut]), "A forged first line.\r\n"...), m.Data[cut:]...)
		if err := verifyWith(t, tampered, name, record); err == nil {
			t.Fatal("a tampered mail still verifies")
		}
		// VERP: the envelope sender is a per-message bounce address on acme's domain.
		var token string
		if err := db.R().QueryRowContext(context.Background(), `SELECT verp_token FROM mail_outbox WHERE account_id = ? AND rcpt_to = ?`, a.ID, m.To[0]).Scan(&token); err != nil {
			t.Fatal(err)
		}
		if len(token) != 26 || m.From != "bounces+"+token+"@acme.localhost" {
			t.Fatalf("envelope sender %q (token %q)", m.From, token)
		}
		// Globex's mail is signed with globex's key, not acme's.
		gm := mailTo(g)
		if err := verifyWith(t, gm.Data, gres["dns_name"].(string), gres["dns_record"].(string)); err != nil {
			t.Fatalf("globex's mail: %v", err)
		}
		if verifyWith(t, gm.Data, name, record) == nil {
			t.Fatal("globex's mail verifies with acme's key")
		}
		if strings.HasPrefix(gm.From, "bounces+"+token) || !strings.HasSuffix(gm.From, "@globex.localhost") {
			t.Fatalf("globex's envelope sender %q", gm.From)
		}

		// Signing off: mail goes unsigned (no server key here).
		a.Do(t, a.Admin, "PUT", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"enabled": false}}).Want(t, http.StatusOK)
		if m := mailTo(a); bytes.Contains(m.Data, []byte("DKIM-Signature")) {
			t.Fatalf("signed with signing off:\n%s", m.Data)
		}
		// Rotation to Ed25519: a new selector, and mail verifies with the new record only.
		k2 := a.Do(t, a.Admin, "POST", "/api/v2/dkim_key", map[string]any{"dkim_key": map[string]any{"algorithm": "ed25519-sha256", "selector": "rotated"}}).Want(t, http.StatusCreated).Obj("dkim_key")
		if k2["dns_name"] != "rotated._domainkey.acme.localhost" || k2["enabled"] != true {
			t.Fatalf("rotated key = %v", k2)
		}
		m = mailTo(a)
		if err := verifyWith(t, m.Data, k2["dns_name"].(string), k2["dns_record"].(string)); err != nil {
			t.Fatalf("mail after rotation: %v", err)
		}
		if verifyWith(t, m.Data, name, record) == nil {
			t.Fatal("mail after rotation verifies with the old key")
		}
		a.Do(t, a.Admin, "DELETE", "/api/v2/dkim_key", nil).Want(t, http.StatusNoContent)
		a.Do(t, a.Admin, "GET", "/api/v2/dkim_key", nil).Want(t, http.StatusNotFound)
		g.Do(t, g.Admin, "GET", "/api/v2/dkim_key", nil).Want(t, http.StatusOK)
	})
}
