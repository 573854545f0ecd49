package wire

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strings"
)

// Protocol headers and values.
const (
	// TokenHeader carries "{agreement uuid}:{access key}" on every call except,
	// from Zendesk, the first agreement POST.
	TokenHeader = "X-Ticket-Sharing-Token"
	// VersionHeader carries ProtocolVersion. Zendesk's client omits it.
	VersionHeader = "X-Ticket-Sharing-Version"
	// ProtocolVersion is the only protocol version there is.
	ProtocolVersion = "1"
	// AuthScheme is the WWW-Authenticate value to send with a 401, as RT does.
	AuthScheme = "X-Ticket-Sharing"
)

// maxUUIDLen bounds ValidUUID; RT insists on 40 hex characters, Zendesk's tests use short
// ones, and we only need a bound that keeps keys and URLs sane.
const maxUUIDLen = 128

// NewUUID returns a fresh protocol id: 40 lowercase hex characters (20 random bytes), the
// shape RT requires and every implementation accepts.
func NewUUID() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// NewAccessKey returns a fresh agreement secret in the same shape as NewUUID.
func NewAccessKey() string { return NewUUID() }

// ValidUUID reports whether s is acceptable as an id from a partner: 1 to 128 printable
// ASCII characters other than space, '/' and ':' (which would break paths and tokens).
// It deliberately accepts more than the 40-hex ids we mint.
func ValidUUID(s string) bool {
	if s == "" || len(s) > maxUUIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '/' || c == ':' {
			return false
		}
	}
	return true
}

// ParseToken splits a TokenHeader value on its first ':' into agreement uuid and access
// key; ok is false when either half is empty. Keys may themselves contain ':'.
func ParseToken(h string) (uuid, key string, ok bool) {
	uuid, key, found := strings.Cut(h, ":")
	if !found || uuid == "" || key == "" {
		return "", "", false
	}
	return uuid, key, true
}

// FormatToken builds a TokenHeader value.
func FormatToken(uuid, key string) string { return uuid + ":" + key }

// KeyEqual compares two access keys in constant time, including their lengths. An empty
// key never matches, so an agreement stored without a key cannot be opened by sending
// none.
func KeyEqual(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// VersionOK reports whether a VersionHeader value is acceptable: missing (Zendesk) or
// ProtocolVersion. RT answers anything else with 412.
func VersionOK(h string) bool {
	h = strings.TrimSpace(h)
	return h == "" || h == ProtocolVersion
}

// AgreementURL returns the URL of agreement uuid under a partner's sharing base URL.
func AgreementURL(base, uuid string) string {
	return strings.TrimRight(base, "/") + "/agreements/" + url.PathEscape(uuid)
}

// TicketURL returns the URL of shared ticket uuid under a partner's sharing base URL.
func TicketURL(base, uuid string) string {
	return strings.TrimRight(base, "/") + "/tickets/" + url.PathEscape(uuid)
}
