package send

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// DKIM signing (RFC 6376, relaxed/relaxed; rsa-sha256, or ed25519-sha256 per RFC 8463)
// of outgoing mail, with a key per domain: a mail is signed by the key of its From
// address's domain or of the nearest parent domain that has one, so one key for
// example.com signs every account's support@{sub}.example.com (DMARC's relaxed
// alignment accepts it). The public key is published by the operator in DNS at
// SELECTOR._domainkey.DOMAIN; PublicRecord prints the record.

// DKIMKey is one domain's signing key.
type DKIMKey struct {
	Domain   string
	Selector string
	Signer   crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
}

// signedHeaders are the headers signed when present, From first (RFC 6376 requires it).
var signedHeaders = []string{"From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"Reply-To", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted"}

// ParseDKIMKeys reads --dkim-key: a comma-separated list of DOMAIN:SELECTOR:KEYFILE,
// each key file a PEM private key (RSA in PKCS #1 or #8, or Ed25519 in PKCS #8).
func ParseDKIMKeys(spec string) ([]DKIMKey, error) {
	var out []DKIMKey
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.SplitN(item, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("dkim key %q: want DOMAIN:SELECTOR:KEYFILE", item)
		}
		pemBytes, err := os.ReadFile(parts[2])
		if err != nil {
			return nil, fmt.Errorf("dkim key for %s: %w", parts[0], err)
		}
		signer, err := ParsePrivateKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("dkim key for %s (%s): %w", parts[0], parts[2], err)
		}
		out = append(out, DKIMKey{Domain: strings.ToLower(strings.TrimSuffix(parts[0], ".")), Selector: parts[1], Signer: signer})
	}
	return out, nil
}

// ParsePrivateKey reads a PEM private key usable for DKIM.
func ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, errors.New("not an RSA or Ed25519 private key")
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, errors.New("RSA keys under 1024 bits are refused by verifiers")
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, errors.New("not an RSA or Ed25519 private key")
}

// PublicRecord is the DNS TXT record to publish at SELECTOR._domainkey.DOMAIN.
func (k DKIMKey) PublicRecord() (string, error) { return publicRecord(k.Signer) }

func publicRecord(key crypto.Signer) (string, error) {
	switch pub := key.Public().(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	}
	return "", errors.New("unknown key type")
}

// dkimSigner signs with the key of a mail's domain.
type dkimSigner struct {
	keys map[string]DKIMKey
}

func newDKIMSigner(keys []DKIMKey) *dkimSigner {
	if len(keys) == 0 {
		return nil
	}
	d := &dkimSigner{keys: map[string]DKIMKey{}}
	for _, k := range keys {
		d.keys[k.Domain] = k
	}
	return d
}

// keyFor is the key of the address's domain or of its nearest parent that has one.
func (d *dkimSigner) keyFor(addr string) (DKIMKey, bool) {
	dom := strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
	for dom != "" {
		if k, ok := d.keys[dom]; ok {
			return k, true
		}
		_, dom, _ = strings.Cut(dom, ".")
	}
	return DKIMKey{}, false
}

// sign returns msg with a DKIM-Signature header first, or msg unchanged when no key
// covers the sender's domain.
func (d *dkimSigner) sign(from string, msg []byte, now time.Time) ([]byte, error) {
	k, ok := d.keyFor(from)
	if !ok {
		return msg, nil
	}
	return k.sign(msg, now)
}

// sign returns msg with k's DKIM-Signature header first.
func (k DKIMKey) sign(msg []byte, now time.Time) ([]byte, error) {
	head, body, found := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !found {
		return nil, errors.New("message has no body")
	}
	fields := headerFields(head)
	bh := sha256.Sum256(relaxedBody(body))
	var names []string
	h := sha256.New()
	for _, name := range signedHeaders {
		if v, ok := fields[strings.ToLower(name)]; ok {
			names = append(names, name)
			h.Write([]byte(relaxedHeader(name, v) + "\r\n"))
		}
	}
	algo := "rsa-sha256"
	if _, ok := k.Signer.(ed25519.PrivateKey); ok {
		algo = "ed25519-sha256"
	}
	sig := "v=1; a=" + algo + "; c=relaxed/relaxed; d=" + k.Domain + "; s=" + k.Selector + ";\r\n\tt=" + strconv.FormatInt(now.Unix(), 10) +
		"; h=" + strings.Join(names, ":") + ";\r\n\tbh=" + base64.StdEncoding.EncodeToString(bh[:]) + ";\r\n\tb="
	h.Write([]byte(relaxedHeader("DKIM-Signature", sig)))
	digest := h.Sum(nil)
	var b []byte
	var err error
	switch key := k.Signer.(type) {
	case ed25519.PrivateKey:
		b = ed25519.Sign(key, digest)
	default:
		b, err = k.Signer.Sign(rand.Reader, digest, crypto.SHA256)
	}
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(msg)+len(sig)+512)
	out = append(out, "DKIM-Signature: "+sig+base64.StdEncoding.EncodeToString(b)+"\r\n"...)
	return append(out, msg...), nil
}

// headerFields maps each header's lower-case name to its last value (unfolded lines
// kept as written); the last occurrence is what a verifier takes first.
func headerFields(head []byte) map[string]string {
	out := map[string]string{}
	var name string
	var val strings.Builder
	flush := func() {
		if name != "" {
			out[strings.ToLower(name)] = val.String()
		}
	}
	for _, l := range strings.Split(string(head), "\r\n") {
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			val.WriteString("\r\n" + l)
			continue
		}
		flush()
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			name = ""
			continue
		}
		name = n
		val.Reset()
		val.WriteString(v)
	}
	flush()
	return out
}

// relaxedHeader is RFC 6376 §3.4.2: lower-case name, value unfolded, runs of white
// space as one space, none at either end.
func relaxedHeader(name, value string) string {
	value = strings.ReplaceAll(value, "\r\n", "")
	return strings.ToLower(strings.TrimSpace(name)) + ":" + strings.TrimSpace(collapseWSP(value))
}

func collapseWSP(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// relaxedBody is RFC 6376 §3.4.4: white space runs as one space, none at line ends,
// no empty lines at the end, CRLF after the last line (empty for an empty body).
func relaxedBody(body []byte) []byte {
	lines := strings.Split(string(body), "\r\n")
	var b bytes.Buffer
	b.Grow(len(body))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(collapseWSP(l), " ")
		if l == "" {
			blank++
			continue
		}
		for ; blank > 0; blank-- {
			b.WriteString("\r\n")
		}
		b.WriteString(l + "\r\n")
	}
	return b.Bytes()
}
