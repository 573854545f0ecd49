package mailin_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/testkit"
)

// testSecretKey is the server key the IMAP tests seal mailbox passwords with.
const testSecretKey = "imap-test-server-key-0123456789"

// testCerts makes a CA and a certificate for 127.0.0.1 and localhost signed by it
// (PEM), for a TLS server under test.
func testCerts(t *testing.T) (caPEM, certPEM, keyPEM string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Tandem test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	return enc("CERTIFICATE", caDER), enc("CERTIFICATE", leafDER), enc("PRIVATE KEY", keyDER)
}

// TestIMAPTLS polls dovecot over implicit TLS (imaps://): with the certificate's CA
// named on the mailbox the mail is read; without it the certificate is refused (the
// reason is the mailbox's last_error) and nothing is read. A password stored in clear
// by an older version is sealed by the next poll and still signs in. A tls_ca that is
// no certificate is refused.
func TestIMAPTLS(t *testing.T) {
	t.Parallel()
	dc := startDovecot(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := testkit.StartDB(t, db, func(c *server.Config) {
			c.MailSpoolDir = t.TempDir()
			c.IMAPInterval = 100 * time.Millisecond
			c.SecretKey = testSecretKey
		})
		acme := d.Account(t, "acme", account.Enterprise)
		r := &rig{d: d, acme: acme}
		ctx := context.Background()
		folder := fmt.Sprintf("TLS%d", time.Now().UnixNano())
		c := dc.client(t)
		if err := c.Create(folder); err != nil {
			t.Fatal(err)
		}
		dc.appendMsgs(t, c, folder, "From: Customer <tls@customer.test>\nTo: support@acme.localhost\nSubject: Over TLS\nMessage-ID: <tls-"+folder+"@customer.test>\n"+
			"MIME-Version: 1.0\nContent-Type: text/plain\n\nRead over implicit TLS.\n")
		imapsURL := fmt.Sprintf("imaps://%s:%s@%s/%s", dc.user, dc.password, dc.tlsAddr, folder)
		post := func(body map[string]any) *testkit.Resp {
			return acme.Do(t, acme.Admin, "POST", "/api/v2/imap_mailboxes.json", map[string]any{"imap_mailbox": body})
		}
		post(map[string]any{"address": "support@acme.localhost", "imap_url": imapsURL, "tls_ca": "not a certificate"}).Want(t, http.StatusUnprocessableEntity)

		// Without the CA: verification fails, nothing is read.
		bad := testkit.ID(post(map[string]any{"address": "support@acme.localhost", "imap_url": imapsURL}).Want(t, http.StatusCreated).Obj("imap_mailbox"), "id")
		testkit.Eventually(t, 30*time.Second, "a certificate error", func() bool {
			e, _ := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", bad), nil).Obj("imap_mailbox")["last_error"].(string)
			return strings.Contains(e, "certificate")
		})
		if n := len(r.tickets(t, acme)); n != 0 {
			t.Fatalf("%d tickets read from a server whose certificate was not trusted", n)
		}
		acme.Do(t, acme.Admin, "DELETE", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", bad), nil).Want(t, http.StatusNoContent)

		// With the CA, and the password as an older version stored it (in clear): the
		// poll seals it and reads the mail.
		var id int64
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRowContext(ctx, `INSERT INTO imap_mailboxes (account_id, address, url, password, tls_ca, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				acme.ID, "support@acme.localhost", fmt.Sprintf("imaps://%s@%s/%s", dc.user, dc.tlsAddr, folder), dc.password, dc.caPEM, store.Micros(store.Now())).Scan(&id)
		})
		if err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 30*time.Second, "the ticket read over TLS", func() bool {
			var n int
			return db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ?`, acme.ID).Scan(&n) == nil && n == 1
		})
		var stored string
		if err := db.R().QueryRowContext(ctx, `SELECT password FROM imap_mailboxes WHERE id = ?`, id).Scan(&stored); err != nil || !strings.HasPrefix(stored, "v1:") || strings.Contains(stored, dc.password) {
			t.Fatalf("the clear password was not sealed: %q (%v)", stored, err)
		}
		got := acme.Do(t, acme.Admin, "GET", fmt.Sprintf("/api/v2/imap_mailboxes/%d.json", id), nil).Want(t, http.StatusOK)
		if strings.Contains(string(got.Body), dc.password) || strings.Contains(string(got.Body), stored) {
			t.Fatalf("the API shows the password: %s", got.Body)
		}
	})
}
