// Package wire holds the JSON shapes and codecs of the Networked Help Desk ticket sharing
// protocol as Zendesk speaks it, plus Tandem's backward-compatible extensions: a per-ticket
// version, extra agreement terms and HMAC request signatures. It does no I/O beyond reading
// a body it is handed; the peer package makes the calls and the sharing package maps these
// types to and from domain types.
//
// Decoding is lenient, because partners differ: null and absent are the same everywhere
// (except Comment.Public, see there), unknown keys are ignored and several time formats are
// accepted. Encoding is strict and Zendesk-shaped: every known key is present, null when
// unset, comments is always an array and public is always a boolean, so that Zendesk's own
// client library reads what we send.
package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Agreement is the protocol's sharing agreement: a one-way relationship in which the
// sender may share tickets with the receiver. Terms (SyncTags and the rest) are set by
// the sender.
type Agreement struct {
	// UUID identifies the agreement on both sides; the sender mints it.
	UUID string `json:"uuid"`
	// AccessKey is the shared secret, the second half of the token.
	AccessKey string `json:"access_key"`
	// Name is the sender's display name for the partner.
	Name string `json:"name"`
	// Status is pending, accepted, declined or inactive on the wire.
	Status string `json:"status"`
	// SenderURL is the sender's sharing base URL, e.g. https://a.example/sharing.
	SenderURL string `json:"sender_url"`
	// ReceiverURL is the receiver's sharing base URL.
	ReceiverURL string `json:"receiver_url"`
	// DeactivatedBy is "sender" or "receiver" alongside status inactive (RT extension).
	DeactivatedBy string `json:"deactivated_by"`
	// CurrentActor is the admin performing this agreement action, if known.
	CurrentActor *Actor `json:"current_actor"`
	// SyncTags lets tags flow on shared tickets.
	SyncTags bool `json:"sync_tags"`
	// SyncCustomFields lets custom fields flow on shared tickets.
	SyncCustomFields bool `json:"sync_custom_fields"`
	// AllowsPublicComments lets the receiver add requester-visible comments.
	AllowsPublicComments bool `json:"allows_public_comments"`
	// SharePrivateComments (Tandem extension) shares private comments as well as public
	// ones. It decodes as true when absent, because a plain protocol peer shares every
	// comment.
	SharePrivateComments bool `json:"share_private_comments"`
	// SyncStatus (Tandem extension) lets status changes flow. It decodes as true when
	// absent, because a plain protocol peer always syncs status.
	SyncStatus bool `json:"sync_status"`

	// present records which keys a decoded body carried with a non-null value.
	present uint16
}

// agreementKeys lists the agreement keys in wire order; the index is the bit in present.
var agreementKeys = []string{
	"uuid", "access_key", "name", "status", "sender_url", "receiver_url", "deactivated_by",
	"current_actor", "sync_tags", "sync_custom_fields", "allows_public_comments",
	"share_private_comments", "sync_status",
}

// Has reports whether the body a was decoded from carried key with a non-null value. It
// lets a receiver apply a partial PUT (RT sends only changed fields) without mistaking an
// omitted term for false. Keys are the wire names, e.g. "sync_tags"; an Agreement built
// in Go has no keys.
func (a *Agreement) Has(key string) bool {
	for i, k := range agreementKeys {
		if k == key {
			return a.present&(1<<i) != 0
		}
	}
	return false
}

// MarshalJSON encodes every known key, null for unset strings and actors.
func (a Agreement) MarshalJSON() ([]byte, error) {
	return encode(struct {
		UUID                 nullString `json:"uuid"`
		AccessKey            nullString `json:"access_key"`
		Name                 nullString `json:"name"`
		Status               nullString `json:"status"`
		SenderURL            nullString `json:"sender_url"`
		ReceiverURL          nullString `json:"receiver_url"`
		DeactivatedBy        nullString `json:"deactivated_by"`
		CurrentActor         *Actor     `json:"current_actor"`
		SyncTags             bool       `json:"sync_tags"`
		SyncCustomFields     bool       `json:"sync_custom_fields"`
		AllowsPublicComments bool       `json:"allows_public_comments"`
		SharePrivateComments bool       `json:"share_private_comments"`
		SyncStatus           bool       `json:"sync_status"`
	}{
		nullString(a.UUID), nullString(a.AccessKey), nullString(a.Name), nullString(a.Status),
		nullString(a.SenderURL), nullString(a.ReceiverURL), nullString(a.DeactivatedBy),
		a.CurrentActor, a.SyncTags, a.SyncCustomFields, a.AllowsPublicComments,
		a.SharePrivateComments, a.SyncStatus,
	})
}

// UnmarshalJSON decodes leniently: null is absent, unknown keys are ignored, and the
// boolean terms also accept 0/1 and "true"/"false" as some Perl and PHP encoders send.
func (a *Agreement) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	type plain Agreement
	var aux struct {
		*plain
		SyncTags             json.RawMessage `json:"sync_tags"`
		SyncCustomFields     json.RawMessage `json:"sync_custom_fields"`
		AllowsPublicComments json.RawMessage `json:"allows_public_comments"`
		SharePrivateComments json.RawMessage `json:"share_private_comments"`
		SyncStatus           json.RawMessage `json:"sync_status"`
	}
	*a = Agreement{}
	aux.plain = (*plain)(a)
	if err := decodeStrict(b, &aux); err != nil {
		return asInvalid(err)
	}
	terms := []struct {
		key string
		raw json.RawMessage
		def bool
		dst *bool
	}{
		{"sync_tags", aux.SyncTags, false, &a.SyncTags},
		{"sync_custom_fields", aux.SyncCustomFields, false, &a.SyncCustomFields},
		{"allows_public_comments", aux.AllowsPublicComments, false, &a.AllowsPublicComments},
		{"share_private_comments", aux.SharePrivateComments, true, &a.SharePrivateComments},
		{"sync_status", aux.SyncStatus, true, &a.SyncStatus},
	}
	for _, term := range terms {
		v, err := flexBool(term.key, term.raw, term.def)
		if err != nil {
			return err
		}
		*term.dst = v
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	for k, v := range keys {
		if isNull(v) {
			continue
		}
		for i, name := range agreementKeys {
			if strings.EqualFold(k, name) {
				a.present |= 1 << i
			}
		}
	}
	return nil
}

// Ticket is a shared ticket, or on PUT the changes to one. There is no description:
// the first comment is the description.
type Ticket struct {
	// UUID identifies the share on both sides; the sender mints it.
	UUID string `json:"uuid"`
	// Subject is the ticket title.
	Subject string `json:"subject"`
	// RequestedAt is when the ticket was originally created.
	RequestedAt Time `json:"requested_at"`
	// Status is in the sender's (or actor's) vocabulary; see NormalizeStatus.
	Status string `json:"status"`
	// Requester is the end user who asked.
	Requester *Actor `json:"requester"`
	// Comments are all comments on POST and the new ones on PUT.
	Comments []Comment `json:"comments"`
	// CurrentActor is who made this change on the originating side.
	CurrentActor *Actor `json:"current_actor"`
	// Tags are meaningful only when the agreement syncs tags. Nil means "not sent";
	// an empty non-nil slice means "no tags".
	Tags []string `json:"tags"`
	// OriginalID is the ticket's human id on the originating desk; partners send a
	// string or a number and both decode to a string.
	OriginalID string `json:"original_id"`
	// CustomFields maps a field key to any JSON value; numbers decode as json.Number.
	CustomFields map[string]any `json:"custom_fields"`
	// CustomStatus supplements Status for Zendesk custom statuses.
	CustomStatus string `json:"custom_status"`
	// Version (Tandem extension) increases with every change on the sending side;
	// receivers drop field updates older than the version they hold. Zero means the
	// partner does not send versions.
	Version int64 `json:"version"`
}

// MarshalJSON encodes every known key: null when unset, comments always an array.
func (t Ticket) MarshalJSON() ([]byte, error) {
	comments := t.Comments
	if comments == nil {
		comments = []Comment{}
	}
	var version *int64
	if t.Version != 0 {
		version = &t.Version
	}
	return encode(struct {
		UUID         nullString     `json:"uuid"`
		Subject      nullString     `json:"subject"`
		RequestedAt  Time           `json:"requested_at"`
		Status       nullString     `json:"status"`
		Requester    *Actor         `json:"requester"`
		Comments     []Comment      `json:"comments"`
		CurrentActor *Actor         `json:"current_actor"`
		Tags         []string       `json:"tags"`
		OriginalID   nullString     `json:"original_id"`
		CustomFields map[string]any `json:"custom_fields"`
		CustomStatus nullString     `json:"custom_status"`
		Version      *int64         `json:"version"`
	}{
		nullString(t.UUID), nullString(t.Subject), t.RequestedAt, nullString(t.Status),
		t.Requester, comments, t.CurrentActor, t.Tags, nullString(t.OriginalID),
		t.CustomFields, nullString(t.CustomStatus), version,
	})
}

// UnmarshalJSON decodes leniently; see the package comment. original_id may be a string
// or a number; version must be a non-negative integer or null.
func (t *Ticket) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	type plain Ticket
	var aux struct {
		*plain
		RequestedAt json.RawMessage   `json:"requested_at"`
		Comments    []json.RawMessage `json:"comments"`
		OriginalID  json.RawMessage   `json:"original_id"`
		Version     json.RawMessage   `json:"version"`
	}
	*t = Ticket{}
	aux.plain = (*plain)(t)
	if err := decodeStrict(b, &aux); err != nil {
		return asInvalid(err)
	}
	var err error
	if t.RequestedAt.Time, err = timeField("requested_at", aux.RequestedAt); err != nil {
		return err
	}
	if aux.Comments != nil {
		t.Comments = make([]Comment, len(aux.Comments))
		for i, raw := range aux.Comments {
			if err := t.Comments[i].UnmarshalJSON(raw); err != nil {
				return within(fmt.Sprintf("comments[%d]", i), err)
			}
		}
	}
	if t.OriginalID, err = flexString(aux.OriginalID); err != nil {
		return invalidf("original_id", "must be a string or a number, not %s", jsonKind(aux.OriginalID))
	}
	if len(aux.Version) > 0 && !isNull(aux.Version) {
		v, err := strconv.ParseInt(string(aux.Version), 10, 64)
		if err != nil || v < 0 {
			return invalidf("version", "must be a non-negative integer, not %s", clip(aux.Version))
		}
		t.Version = v
	}
	return nil
}

// Comment is one comment on a shared ticket. Its UUID is minted by the desk where it was
// written and is the dedup key on every desk it reaches.
type Comment struct {
	// UUID identifies the comment everywhere.
	UUID string `json:"uuid"`
	// Author is the author as the originating desk sees them.
	Author *Actor `json:"author"`
	// Body is the plain-text body.
	Body string `json:"body"`
	// HTMLBody is the rich body; prefer it when present.
	HTMLBody string `json:"html_body"`
	// AuthoredAt is when the comment was written.
	AuthoredAt Time `json:"authored_at"`
	// Public means requester-visible. Decoding follows Zendesk's client: true when the
	// key is absent, false when it is null.
	Public bool `json:"public"`
	// Attachments are files the receiver fetches by URL.
	Attachments []Attachment `json:"attachments"`
	// CustomFields is free-form per-comment metadata; numbers decode as json.Number.
	CustomFields map[string]any `json:"custom_fields"`
}

// MarshalJSON encodes every known key; public is always a real boolean.
func (c Comment) MarshalJSON() ([]byte, error) {
	return encode(struct {
		UUID         nullString     `json:"uuid"`
		Author       *Actor         `json:"author"`
		Body         nullString     `json:"body"`
		HTMLBody     nullString     `json:"html_body"`
		AuthoredAt   Time           `json:"authored_at"`
		Public       bool           `json:"public"`
		Attachments  []Attachment   `json:"attachments"`
		CustomFields map[string]any `json:"custom_fields"`
	}{
		nullString(c.UUID), c.Author, nullString(c.Body), nullString(c.HTMLBody),
		c.AuthoredAt, c.Public, c.Attachments, c.CustomFields,
	})
}

// UnmarshalJSON decodes leniently. A public value that is not a boolean or null is an
// error rather than a guess: guessing wrong would publish a private comment.
func (c *Comment) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	type plain Comment
	var aux struct {
		*plain
		AuthoredAt json.RawMessage `json:"authored_at"`
		Public     json.RawMessage `json:"public"`
	}
	*c = Comment{}
	aux.plain = (*plain)(c)
	if err := decodeStrict(b, &aux); err != nil {
		return asInvalid(err)
	}
	var err error
	if c.AuthoredAt.Time, err = timeField("authored_at", aux.AuthoredAt); err != nil {
		return err
	}
	switch string(aux.Public) {
	case "":
		c.Public = true // absent: Zendesk's default
	case "null", "false":
		c.Public = false // an explicit null reads as not public in Zendesk's client
	case "true":
		c.Public = true
	default:
		return invalidf("public", "must be true or false, not %s", clip(aux.Public))
	}
	return nil
}

// Actor is a person: a requester, a comment author or the current actor of a change.
type Actor struct {
	// UUID is the person's stable id on the desk where they live.
	UUID string `json:"uuid"`
	// Name is the display name.
	Name string `json:"name"`
	// Role is "agent" for staff; anything else is an end user.
	Role string `json:"role"`
}

// MarshalJSON encodes every known key, null when unset.
func (a Actor) MarshalJSON() ([]byte, error) {
	return encode(struct {
		UUID nullString `json:"uuid"`
		Name nullString `json:"name"`
		Role nullString `json:"role"`
	}{nullString(a.UUID), nullString(a.Name), nullString(a.Role)})
}

// IsAgent reports whether the actor is staff on their desk.
func (a *Actor) IsAgent() bool { return a != nil && strings.EqualFold(a.Role, RoleAgent) }

// Attachment is a file the receiver downloads from URL (pull model; no inline content).
// UUID, Size, SHA256 and Redacted are Tandem's extensions (plain peers ignore them): the
// receiver checks the bytes against Size and SHA256, names its copy by UUID on every desk
// that holds it, and a comment sent again with an attachment Redacted tells the partner
// to redact its copy.
type Attachment struct {
	// URL is where the bytes are.
	URL string `json:"url"`
	// Filename is the stored file name.
	Filename string `json:"filename"`
	// DisplayFilename is the name to show.
	DisplayFilename string `json:"display_filename"`
	// ContentType is the MIME type.
	ContentType string `json:"content_type"`
	// UUID names the file on every desk that holds it (Tandem).
	UUID string `json:"uuid,omitempty"`
	// Size is the file's length in bytes (Tandem).
	Size int64 `json:"size,omitempty"`
	// SHA256 is the hex SHA-256 of the bytes (Tandem).
	SHA256 string `json:"sha256,omitempty"`
	// Redacted means the file was redacted where it came from; URL is then empty (Tandem).
	Redacted bool `json:"redacted,omitempty"`
}

// MarshalJSON encodes every protocol key, null when unset, and Tandem's extensions when set.
func (a Attachment) MarshalJSON() ([]byte, error) {
	return encode(struct {
		URL             nullString `json:"url"`
		Filename        nullString `json:"filename"`
		DisplayFilename nullString `json:"display_filename"`
		ContentType     nullString `json:"content_type"`
		UUID            string     `json:"uuid,omitempty"`
		Size            int64      `json:"size,omitempty"`
		SHA256          string     `json:"sha256,omitempty"`
		Redacted        bool       `json:"redacted,omitempty"`
	}{nullString(a.URL), nullString(a.Filename), nullString(a.DisplayFilename), nullString(a.ContentType), a.UUID, a.Size, a.SHA256, a.Redacted})
}

// nullString encodes the empty string as null, as Zendesk does for unset fields.
type nullString string

func (s nullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return encode(string(s))
}

// flexBool decodes a boolean term that may also arrive as 0/1 or "true"/"false"; absent
// and null give def.
func flexBool(key string, raw json.RawMessage, def bool) (bool, error) {
	if len(raw) == 0 || isNull(raw) {
		return def, nil
	}
	switch strings.ToLower(strings.Trim(string(raw), `"`)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, invalidf(key, "must be a boolean, not %s", clip(raw))
}

// flexString decodes a JSON string or number (or null/absent) into a string.
func flexString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || isNull(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	}
	return "", fmt.Errorf("not a string or number")
}

// encode marshals v without escaping <, > and &, which html_body is full of.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeStrict decodes b into v keeping numbers exact (custom fields may hold large ids).
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// clip shortens a raw value for an error message.
func clip(raw []byte) string {
	const max = 40
	if len(raw) > max {
		return strings.ToValidUTF8(string(raw[:max]), "") + "..."
	}
	return string(raw)
}
