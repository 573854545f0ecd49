package send_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/jhillyerd/enmime/v2"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/mail/send"
	"tandem/internal/mail/send/smtptest"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// testDKIMKey writes a fresh RSA key for domain to a file and returns --dkim-key's
// value for it and the DNS record a verifier would find.
func testDKIMKey(t testing.TB, domain string) (spec, record string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	spec = domain + ":tandem:" + path
	keys, err := send.ParseDKIMKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	record, err = keys[0].PublicRecord()
	if err != nil {
		t.Fatal(err)
	}
	return spec, record
}

// verifyDKIM checks a received mail's signature with go-msgauth's verifier (an
// implementation independent of Tandem's signer), the public key served for
// tandem._domainkey.{domain} only.
func verifyDKIM(t testing.TB, raw []byte, domain, record string) {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		if name != "tandem._domainkey."+domain {
			return nil, fmt.Errorf("no record at %s", name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 {
		t.Fatalf("DKIM verification: %v, %d signatures\n%s", err, len(vs), raw)
	}
	if vs[0].Err != nil || vs[0].Domain != domain {
		t.Fatalf("DKIM signature of %s does not verify: %v\n%s", vs[0].Domain, vs[0].Err, raw)
	}
}

var linkRE = regexp.MustCompile(`(http://\S+)(/attachments/\d+/big\.bin\?expires=\d+&sig=[0-9a-f]+)`)

// TestNotificationFiles: an agent's public reply with files reaches the requester with
// the files that fit the per-mail total attached and the others as signed links that
// work without signing in; an internal note's file never reaches the requester; every
// mail is signed with DKIM and verifies with an independent verifier; another account
// cannot use the link.
func TestNotificationFiles(t *testing.T) {
	t.Parallel()
	spec, record := testDKIMKey(t, "localhost")
	keys, err := send.ParseDKIMKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		relay := smtptest.Start(t)
		d := testkit.StartDB(t, db, relayed(relay), func(c *server.Config) {
			c.MailAttachMax = 3000
			c.DKIMKeys = keys
		})
		a := d.Account(t, "acme", account.Enterprise)
		globex := d.Account(t, "globex", account.Enterprise)
		alice := a.User(t, identity.EndUser, "alice@example.test", "Alice Example")
		tk := a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
			"subject": "Warranty claim", "requester_id": alice.UserID, "comment": map[string]any{"body": "Lamp broken"}}}).Want(t, http.StatusCreated).Obj("ticket")
		id := testkit.ID(tk, "id")

		small := bytes.Repeat([]byte("manual "), 280) // 1,960 bytes: attached
		big := bytes.Repeat([]byte("invoice "), 625)  // 5,000 bytes: over the 3,000-byte total, linked
		secret := []byte("internal pricing\n")
		upload := func(name string, body []byte, token string) string {
			path := "/api/v2/uploads.json?filename=" + name
			if token != "" {
				path += "&token=" + token
			}
			tok, _ := a.Do(t, a.Admin, "POST", path, body).Want(t, http.StatusCreated).Obj("upload")["token"].(string)
			return tok
		}
		tok := upload("manual.txt", small, "")
		upload("big.bin", big, tok)
		note := upload("secret.txt", secret, "")
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{
			"comment": map[string]any{"body": "Internal: check pricing", "public": false, "uploads": []string{note}}}}).Want(t, http.StatusOK)
		a.Do(t, a.Admin, "PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{
			"comment": map[string]any{"body": "Here is the manual and your invoice.", "public": true, "uploads": []string{tok}}}}).Want(t, http.StatusOK)

		var reply []byte
		testkit.Eventually(t, 20*time.Second, "the reply to reach the relay", func() bool {
			for _, m := range relay.Mails() {
				if len(m.To) == 1 && m.To[0] == "alice@example.test" && bytes.Contains(m.Data, []byte("manual.txt")) {
					reply = m.Data
					return true
				}
			}
			return false
		})
		for _, m := range relay.Mails() {
			if m.To[0] == "alice@example.test" {
				verifyDKIM(t, m.Data, "localhost", record)
				if bytes.Contains(m.Data, []byte("secret.txt")) || bytes.Contains(m.Data, []byte("internal pricing")) {
					t.Fatalf("the internal note's file reached the requester:\n%s", m.Data)
				}
			}
		}
		// The verifier is not a rubber stamp: a changed body fails.
		tampered := bytes.Replace(reply, []byte("Here is the manual"), []byte("Here is the MANUAL"), 1)
		if vs, err := dkim.Verify(bytes.NewReader(tampered)); err == nil && len(vs) == 1 && vs[0].Err == nil {
			t.Fatal("a tampered mail still verifies")
		}
		env, err := enmime.ReadEnvelope(bytes.NewReader(reply))
		if err != nil {
			t.Fatal(err)
		}
		if len(env.Attachments) != 1 || env.Attachments[0].FileName != "manual.txt" || !bytes.Equal(env.Attachments[0].Content, small) {
			t.Fatalf("attachments = %d, want manual.txt with its bytes\n%s", len(env.Attachments), reply)
		}
		if !strings.Contains(env.Text, "Here is the manual") {
			t.Fatalf("text = %q", env.Text)
		}
		m := linkRE.FindStringSubmatch(env.Text)
		if m == nil || !strings.HasPrefix(m[1], "http://acme.localhost") {
			t.Fatalf("no signed link to big.bin on the account's URL in:\n%s", env.Text)
		}
		got, err := d.Request("acme", testkit.Cred{}, "GET", m[2], nil, nil)
		if err != nil || got.Status != http.StatusOK || !bytes.Equal(got.Body, big) {
			t.Fatalf("signed link without credentials: %v %v", got, err)
		}
		// The link is acme's: on globex's host it does not exist.
		if got, err := d.Request(globex.Sub, testkit.Cred{}, "GET", m[2], nil, nil); err != nil || got.Status != http.StatusNotFound {
			t.Fatalf("acme's link on globex: %v %v, want 404", got, err)
		}
		// A tampered signature does not work.
		if got, err := d.Request("acme", testkit.Cred{}, "GET", strings.Replace(m[2], "sig=", "sig=0", 1), nil, nil); err != nil || got.Status != http.StatusNotFound {
			t.Fatalf("tampered link: %v %v, want 404", got, err)
		}
	})
}

// TestCreateNotificationFiles: a ticket created through the API with an upload in its
// first comment notifies the requester with that file attached (the create names its
// uploads, so its mail reads the new comment's files; a create without uploads skips
// that read).
func TestCreateNotificationFiles(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		relay := smtptest.Start(t)
		d := testkit.StartDB(t, db, relayed(relay))
		a := d.Account(t, "acme", account.Enterprise)
		alice := a.User(t, identity.EndUser, "alice@example.test", "Alice Example")
		manual := bytes.Repeat([]byte("manual "), 100)
		tok, _ := a.Do(t, a.Admin, "POST", "/api/v2/uploads.json?filename=manual.txt", manual).Want(t, http.StatusCreated).Obj("upload")["token"].(string)
		a.Do(t, a.Admin, "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
			"subject": "Your manual", "requester_id": alice.UserID,
			"comment": map[string]any{"body": "Here is the manual.", "uploads": []string{tok}}}}).Want(t, http.StatusCreated)
		var mail []byte
		testkit.Eventually(t, 20*time.Second, "the requester's mail to reach the relay", func() bool {
			for _, m := range relay.Mails() {
				if len(m.To) == 1 && m.To[0] == "alice@example.test" {
					mail = m.Data
					return true
				}
			}
			return false
		})
		env, err := enmime.ReadEnvelope(bytes.NewReader(mail))
		if err != nil {
			t.Fatal(err)
		}
		if len(env.Attachments) != 1 || env.Attachments[0].FileName != "manual.txt" || !bytes.Equal(env.Attachments[0].Content, manual) {
			t.Fatalf("attachments = %d, want manual.txt with its bytes\n%s", len(env.Attachments), mail)
		}
	})
}
