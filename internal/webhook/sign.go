package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// The signature headers, as Zendesk names them.
const (
	SignatureHeader          = "X-Zendesk-Webhook-Signature"
	SignatureTimestampHeader = "X-Zendesk-Webhook-Signature-Timestamp"
)

// TestSecret signs test calls of a webhook that does not exist yet, as Zendesk's static
// test secret does.
const TestSecret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="

// Timestamp is the signature timestamp of a call made at t (ISO 8601 UTC, seconds).
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Signature is what Zendesk sends in X-Zendesk-Webhook-Signature:
// base64(HMAC-SHA256(key = the signing secret, message = timestamp + body)).
func Signature(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
