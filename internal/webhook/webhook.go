// Package webhook is Tandem's webhooks, in Zendesk's shape: the webhook objects an admin
// manages (endpoint, method, request format, status, subscriptions, authentication, a
// signing secret), their validation and storage, the signature a receiver verifies,
// and the queuing of calls (invocations) on the shared delivery queue, in the
// transaction of the change that causes them.
//
// The calls themselves are made by internal/webhook/send (a delivery.Queue client).
// This package imports no domain service, so that the write paths that cause events
// (internal/people for user and organization events) can queue them.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
)

// Webhook is one webhook of an account.
type Webhook struct {
	ID            string
	AccountID     ids.Account
	Name          string
	Description   string
	Endpoint      string
	HTTPMethod    string
	RequestFormat string
	Status        string
	Subscriptions []string
	// Auth is the authentication added to every call; nil for none.
	Auth *Auth
	// CustomHeaders are sent with every call (non-credential information).
	CustomHeaders map[string]string
	SigningSecret string
	// FailingSince is when a call was last given up on, zero once one is delivered
	// again; LastFailure says why.
	FailingSince time.Time
	LastFailure  string
	CreatedBy    ids.User
	UpdatedBy    ids.User
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Auth is a webhook's authentication, as Zendesk's: type basic_auth (data username,
// password), bearer_token (token) or api_key (name, value: a header), added in the
// header.
type Auth struct {
	Type        string
	Data        map[string]string
	AddPosition string
}

// The subscription of webhooks called by triggers and automations.
const ConditionalTicketEvents = "conditional_ticket_events"

// The statuses and the accepted values of the other enumerated fields.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

var (
	methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	formats = []string{"json", "xml", "form_encoded"}
	// authFields are the data keys each authentication type needs.
	authFields = map[string][]string{
		"basic_auth":   {"username", "password"},
		"bearer_token": {"token"},
		"api_key":      {"name", "value"},
	}
)

// UserEvents and OrgEvents are the user and organization event types a webhook may
// subscribe to (Zendesk's names, "zen:event-type:" followed by these).
var (
	UserEvents = []string{"user.created", "user.deleted", "user.name_changed", "user.role_changed",
		"user.suspended_changed", "user.external_id_changed", "user.tags_changed", "user.details_changed",
		"user.notes_changed", "user.time_zone_changed", "user.active_changed"}
	OrgEvents = []string{"organization.created", "organization.deleted", "organization.name_changed",
		"organization.external_id_changed", "organization.tags_changed", "organization.details_changed",
		"organization.notes_changed"}
)

// EventPrefix prefixes the names of user and organization events.
const EventPrefix = "zen:event-type:"

// Limits on what an admin may set.
const (
	MaxHeaders     = 5
	maxName        = 255
	maxDescription = 1000
	maxEndpoint    = 2048
	maxHeaderValue = 1000
)

// knownSubscription reports whether s is a subscription Tandem can deliver.
func knownSubscription(s string) bool {
	if s == ConditionalTicketEvents {
		return true
	}
	ev, ok := strings.CutPrefix(s, EventPrefix)
	return ok && (slices.Contains(UserEvents, ev) || slices.Contains(OrgEvents, ev))
}

// reservedHeaders may not be set as custom headers: they are the call's own.
var reservedHeaders = []string{"authorization", "content-type", "content-length", "host", "user-agent",
	"x-zendesk-webhook-signature", "x-zendesk-webhook-signature-timestamp", "x-zendesk-webhook-id",
	"x-zendesk-webhook-invocation-id", "x-zendesk-account-id", "transfer-encoding", "connection"}

// Validate checks w and normalizes its enumerated fields; the error is an errs.Invalid
// naming every bad field.
func (w *Webhook) Validate() error {
	var v errs.Validation
	w.Name = strings.TrimSpace(w.Name)
	switch {
	case w.Name == "":
		v.Blank("name")
	case len(w.Name) > maxName:
		v.Bad("name", "is too long (at most 255 characters)")
	}
	if len(w.Description) > maxDescription {
		v.Bad("description", "is too long (at most 1000 characters)")
	}
	w.Endpoint = strings.TrimSpace(w.Endpoint)
	if w.Endpoint == "" {
		v.Blank("endpoint")
	} else if msg := checkEndpoint(w.Endpoint); msg != "" {
		v.Bad("endpoint", msg)
	}
	w.HTTPMethod = strings.ToUpper(strings.TrimSpace(w.HTTPMethod))
	if !slices.Contains(methods, w.HTTPMethod) {
		v.Bad("http_method", "must be one of GET, POST, PUT, PATCH, DELETE")
	}
	w.RequestFormat = strings.ToLower(strings.TrimSpace(w.RequestFormat))
	if !slices.Contains(formats, w.RequestFormat) {
		v.Bad("request_format", "must be one of json, xml, form_encoded")
	}
	w.Status = strings.ToLower(strings.TrimSpace(w.Status))
	if w.Status != StatusActive && w.Status != StatusInactive {
		v.Bad("status", "must be active or inactive")
	}
	if len(w.Subscriptions) == 0 {
		v.Blank("subscriptions")
	}
	events := false
	for _, s := range w.Subscriptions {
		if !knownSubscription(s) {
			v.Bad("subscriptions", "unknown subscription "+quote(s))
		}
		events = events || s != ConditionalTicketEvents
	}
	if events && (w.HTTPMethod != "POST" || w.RequestFormat != "json") {
		v.Bad("subscriptions", "a webhook subscribed to user or organization events must use POST and json")
	}
	if a := w.Auth; a != nil {
		need, ok := authFields[a.Type]
		switch {
		case !ok:
			v.Bad("authentication.type", "must be basic_auth, bearer_token or api_key")
		default:
			for _, k := range need {
				if strings.TrimSpace(a.Data[k]) == "" {
					v.Blank("authentication.data." + k)
				}
			}
			if a.Type == "api_key" && a.Data["name"] != "" && !validHeaderName(a.Data["name"]) {
				v.Bad("authentication.data.name", "is not a valid header name")
			}
		}
		if a.AddPosition == "" {
			a.AddPosition = "header"
		}
		if a.AddPosition != "header" {
			v.Bad("authentication.add_position", "must be header")
		}
	}
	if len(w.CustomHeaders) > MaxHeaders {
		v.Bad("custom_headers", "at most 5 custom headers")
	}
	for k, val := range w.CustomHeaders {
		switch {
		case !validHeaderName(k):
			v.Bad("custom_headers", quote(k)+" is not a valid header name")
		case slices.Contains(reservedHeaders, strings.ToLower(k)):
			v.Bad("custom_headers", quote(k)+" is set by Tandem itself")
		case len(val) > maxHeaderValue || strings.ContainsAny(val, "\r\n\x00"):
			v.Bad("custom_headers", "the value of "+quote(k)+" is too long or has line breaks")
		}
	}
	return v.Err()
}

func quote(s string) string { return `"` + s + `"` }

// checkEndpoint says what is wrong with an endpoint URL ("" if nothing). Where it may
// point (not private or loopback addresses, unless the operator allows them) is
// checked when it is called, after name resolution.
func checkEndpoint(raw string) string {
	if len(raw) > maxEndpoint {
		return "is too long"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http or https URL"
	case u.Hostname() == "":
		return "has no host"
	case u.User != nil:
		return "must not carry credentials (use authentication)"
	}
	return ""
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r > 126 || r <= 32 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return http.CanonicalHeaderKey(s) != ""
}

// NewSecret returns a fresh signing secret.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// crockford is the ULID alphabet.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns a ULID (48 bits of milliseconds, 80 random bits, 26 characters), the
// form of Zendesk's webhook and invocation ids; ids made later sort after.
func NewID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	// 128 bits as 26 base-32 digits, most significant first.
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	out := make([]byte, 26)
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out)
}
