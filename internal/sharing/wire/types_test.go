package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// zendeskTicket is shaped the way Zendesk's open-source ticket_sharing client (v2.2.1)
// serializes a ticket: every field of the class present, null when unset, the space time
// format, no version, and here a comment without "public" and a numeric original_id as
// older Zendesk code paths and RT-style peers send.
const zendeskTicket = `{
  "uuid": "7c1d0b8a3f5e4d2c1b0a99887766554433221100",
  "subject": "Printer on fire",
  "requested_at": "2011-01-17 01:01:01 -0800",
  "status": "new",
  "requester": {"uuid": "r9", "name": "Bob Requester", "role": null},
  "comments": [
    {
      "uuid": "c1",
      "author": {"uuid": "r9", "name": "Bob Requester", "role": null},
      "body": "It is on fire.",
      "html_body": null,
      "authored_at": "2011-01-17 01:01:01 -0800",
      "attachments": null,
      "custom_fields": null
    },
    {
      "uuid": "c2",
      "author": {"uuid": "a4", "name": "Carol", "role": "agent"},
      "body": "Replaced the toner.",
      "html_body": "<p>Replaced the <b>toner</b>.</p>",
      "authored_at": "2011-01-17 02:03:04 -0800",
      "public": false,
      "attachments": [
        {"url": "https://a.example/attachments/1/log.txt", "filename": "log.txt",
         "display_filename": "printer log.txt", "content_type": "text/plain"}
      ],
      "custom_fields": {"source": "email"}
    }
  ],
  "current_actor": {"uuid": "a4", "name": "Carol", "role": "agent"},
  "tags": null,
  "original_id": 812,
  "custom_fields": null,
  "custom_status": null
}`

func TestDecodeZendeskTicket(t *testing.T) {
	tk, err := DecodeTicket(strings.NewReader(zendeskTicket), 0)
	if err != nil {
		t.Fatalf("DecodeTicket: %v", err)
	}
	want := &Ticket{
		UUID:        "7c1d0b8a3f5e4d2c1b0a99887766554433221100",
		Subject:     "Printer on fire",
		RequestedAt: Time{time.Date(2011, 1, 17, 9, 1, 1, 0, time.UTC)},
		Status:      "new",
		Requester:   &Actor{UUID: "r9", Name: "Bob Requester"},
		Comments: []Comment{
			{
				UUID:       "c1",
				Author:     &Actor{UUID: "r9", Name: "Bob Requester"},
				Body:       "It is on fire.",
				AuthoredAt: Time{time.Date(2011, 1, 17, 9, 1, 1, 0, time.UTC)},
				Public:     true, // absent means public
			},
			{
				UUID:       "c2",
				Author:     &Actor{UUID: "a4", Name: "Carol", Role: "agent"},
				Body:       "Replaced the toner.",
				HTMLBody:   "<p>Replaced the <b>toner</b>.</p>",
				AuthoredAt: Time{time.Date(2011, 1, 17, 10, 3, 4, 0, time.UTC)},
				Public:     false,
				Attachments: []Attachment{{
					URL:             "https://a.example/attachments/1/log.txt",
					Filename:        "log.txt",
					DisplayFilename: "printer log.txt",
					ContentType:     "text/plain",
				}},
				CustomFields: map[string]any{"source": "email"},
			},
		},
		CurrentActor: &Actor{UUID: "a4", Name: "Carol", Role: "agent"},
		OriginalID:   "812",
	}
	assertTicketEqual(t, tk, want)
	if !tk.CurrentActor.IsAgent() || tk.Requester.IsAgent() {
		t.Errorf("IsAgent: current actor %v, requester %v", tk.CurrentActor.IsAgent(), tk.Requester.IsAgent())
	}
}

// zendeskAgreement is an invite as Zendesk's client sends it: the whole object, nulls
// for unset fields, no Tandem extensions.
const zendeskAgreement = `{
  "uuid": "9f2c1e0d",
  "access_key": "41be",
  "name": "Acme Support",
  "status": "pending",
  "sender_url": "https://a.example/sharing",
  "receiver_url": "https://b.example/sharing",
  "current_actor": {"uuid": "u1", "name": "Ann Admin", "role": "agent"},
  "sync_tags": true,
  "sync_custom_fields": null,
  "allows_public_comments": false
}`

func TestDecodeZendeskAgreement(t *testing.T) {
	a, err := DecodeAgreement(strings.NewReader(zendeskAgreement), 0)
	if err != nil {
		t.Fatalf("DecodeAgreement: %v", err)
	}
	want := Agreement{
		UUID: "9f2c1e0d", AccessKey: "41be", Name: "Acme Support", Status: "pending",
		SenderURL: "https://a.example/sharing", ReceiverURL: "https://b.example/sharing",
		CurrentActor: &Actor{UUID: "u1", Name: "Ann Admin", Role: "agent"},
		SyncTags:     true,
		// A plain peer shares every comment and always syncs status.
		SharePrivateComments: true,
		SyncStatus:           true,
	}
	got := *a
	got.present = 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for key, has := range map[string]bool{
		"uuid": true, "sync_tags": true, "allows_public_comments": true,
		"sync_custom_fields": false, // null
		"deactivated_by":     false, // absent
		"sync_status":        false,
		"no_such_key":        false,
	} {
		if a.Has(key) != has {
			t.Errorf("Has(%q) = %v, want %v", key, a.Has(key), has)
		}
	}
}

func TestAgreementTerms(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    [5]bool // sync_tags, sync_custom_fields, allows_public, share_private, sync_status
		wantErr string
	}{
		{"absent", `{}`, [5]bool{false, false, false, true, true}, ""},
		{"nulls", `{"sync_tags":null,"sync_custom_fields":null,"allows_public_comments":null,"share_private_comments":null,"sync_status":null}`,
			[5]bool{false, false, false, true, true}, ""},
		{"all true", `{"sync_tags":true,"sync_custom_fields":true,"allows_public_comments":true,"share_private_comments":true,"sync_status":true}`,
			[5]bool{true, true, true, true, true}, ""},
		{"all false", `{"sync_tags":false,"sync_custom_fields":false,"allows_public_comments":false,"share_private_comments":false,"sync_status":false}`,
			[5]bool{}, ""},
		{"perl-ish", `{"sync_tags":1,"sync_custom_fields":"true","allows_public_comments":"0","share_private_comments":0,"sync_status":"FALSE"}`,
			[5]bool{true, true, false, false, false}, ""},
		{"garbage bool", `{"sync_tags":"maybe"}`, [5]bool{}, "sync_tags"},
		{"object bool", `{"sync_status":{}}`, [5]bool{}, "sync_status"},
		{"wrong type string", `{"name":5}`, [5]bool{}, "name"},
		{"wrong actor", `{"current_actor":"ann"}`, [5]bool{}, "current_actor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := DecodeAgreement(strings.NewReader(tt.body), 0)
			if tt.wantErr != "" {
				var de *DecodeError
				if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) || de.Field != tt.wantErr {
					t.Fatalf("err = %v, want ErrInvalid on %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := [5]bool{a.SyncTags, a.SyncCustomFields, a.AllowsPublicComments, a.SharePrivateComments, a.SyncStatus}
			if got != tt.want {
				t.Errorf("terms = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCommentPublic(t *testing.T) {
	tests := []struct {
		body    string
		want    bool
		wantErr bool
	}{
		{`{}`, true, false},
		{`{"public":true}`, true, false},
		{`{"public":false}`, false, false},
		{`{"public":null}`, false, false}, // Zendesk's client reads null as private
		{`{"PUBLIC":false}`, false, false},
		{`{"public":"false"}`, false, true}, // never guess on privacy
		{`{"public":1}`, false, true},
		{`{"public":[]}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			body := `{"uuid":"t","comments":[` + tt.body + `]}`
			tk, err := DecodeTicket(strings.NewReader(body), 0)
			if tt.wantErr {
				var de *DecodeError
				if !errors.As(err, &de) || de.Kind != ErrInvalid || de.Field != "comments[0].public" {
					t.Fatalf("err = %v, want ErrInvalid on comments[0].public", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tk.Comments[0].Public; got != tt.want {
				t.Errorf("public = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTicketLenientFields(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, tk *Ticket)
	}{
		{"original_id string", `{"original_id":"12"}`, func(t *testing.T, tk *Ticket) {
			if tk.OriginalID != "12" {
				t.Errorf("original_id = %q", tk.OriginalID)
			}
		}},
		{"original_id number", `{"original_id":12}`, func(t *testing.T, tk *Ticket) {
			if tk.OriginalID != "12" {
				t.Errorf("original_id = %q", tk.OriginalID)
			}
		}},
		{"original_id big number", `{"original_id":123456789012345678901}`, func(t *testing.T, tk *Ticket) {
			if tk.OriginalID != "123456789012345678901" {
				t.Errorf("original_id = %q", tk.OriginalID)
			}
		}},
		{"original_id null", `{"original_id":null}`, func(t *testing.T, tk *Ticket) {
			if tk.OriginalID != "" {
				t.Errorf("original_id = %q", tk.OriginalID)
			}
		}},
		{"tags null", `{"tags":null}`, func(t *testing.T, tk *Ticket) {
			if tk.Tags != nil {
				t.Errorf("tags = %#v, want nil", tk.Tags)
			}
		}},
		{"tags empty means cleared", `{"tags":[]}`, func(t *testing.T, tk *Ticket) {
			if tk.Tags == nil || len(tk.Tags) != 0 {
				t.Errorf("tags = %#v, want empty non-nil", tk.Tags)
			}
		}},
		{"comments null", `{"comments":null}`, func(t *testing.T, tk *Ticket) {
			if tk.Comments != nil {
				t.Errorf("comments = %#v", tk.Comments)
			}
		}},
		{"every null", `{"uuid":null,"subject":null,"requested_at":null,"status":null,"requester":null,"comments":null,"current_actor":null,"tags":null,"original_id":null,"custom_fields":null,"custom_status":null,"version":null}`,
			func(t *testing.T, tk *Ticket) {
				if !reflect.DeepEqual(*tk, Ticket{}) {
					t.Errorf("ticket = %+v, want zero", *tk)
				}
			}},
		{"unknown keys ignored", `{"uuid":"u","description":"gone since 2011","via":{"channel":"email"},"tandem_future":[1,2]}`, func(t *testing.T, tk *Ticket) {
			if tk.UUID != "u" {
				t.Errorf("uuid = %q", tk.UUID)
			}
		}},
		{"custom fields keep exact numbers", `{"custom_fields":{"id":12345678901234567890,"list":[1,2.5],"obj":{"k":"v"},"none":null}}`, func(t *testing.T, tk *Ticket) {
			want := map[string]any{
				"id":   json.Number("12345678901234567890"),
				"list": []any{json.Number("1"), json.Number("2.5")},
				"obj":  map[string]any{"k": "v"},
				"none": nil,
			}
			if !reflect.DeepEqual(tk.CustomFields, want) {
				t.Errorf("custom_fields = %#v", tk.CustomFields)
			}
		}},
		{"version", `{"version":42}`, func(t *testing.T, tk *Ticket) {
			if tk.Version != 42 {
				t.Errorf("version = %d", tk.Version)
			}
		}},
		{"time without offset is UTC", `{"requested_at":"2011-01-17 01:01:01"}`, func(t *testing.T, tk *Ticket) {
			if want := time.Date(2011, 1, 17, 1, 1, 1, 0, time.UTC); !tk.RequestedAt.Equal(want) {
				t.Errorf("requested_at = %v", tk.RequestedAt)
			}
		}},
		{"empty time is zero", `{"requested_at":""}`, func(t *testing.T, tk *Ticket) {
			if !tk.RequestedAt.IsZero() {
				t.Errorf("requested_at = %v", tk.RequestedAt)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := DecodeTicket(strings.NewReader(tt.body), 0)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, tk)
		})
	}
}

func TestEncodeZendeskShape(t *testing.T) {
	tk := &Ticket{
		UUID:        "t1",
		Subject:     "Printer <on> fire & smoke",
		RequestedAt: Time{time.Date(2024, 3, 1, 1, 15, 0, 0, time.FixedZone("PST", -8*3600))},
		Status:      "open",
		Requester:   &Actor{UUID: "r9", Name: "Bob"},
		Comments: []Comment{{
			UUID: "c5", Author: &Actor{UUID: "a4", Name: "Carol", Role: "agent"},
			Body: "Replaced the toner.", HTMLBody: "<p>Replaced the toner.</p>",
			AuthoredAt: Time{time.Date(2024, 3, 1, 10, 2, 11, 0, time.UTC)},
			Public:     false,
		}},
		OriginalID: "812",
		Version:    7,
	}
	got, err := EncodeTicket(tk)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uuid":"t1","subject":"Printer <on> fire & smoke","requested_at":"2024-03-01 09:15:00 +0000","status":"open",` +
		`"requester":{"uuid":"r9","name":"Bob","role":null},` +
		`"comments":[{"uuid":"c5","author":{"uuid":"a4","name":"Carol","role":"agent"},"body":"Replaced the toner.",` +
		`"html_body":"<p>Replaced the toner.</p>","authored_at":"2024-03-01 10:02:11 +0000","public":false,` +
		`"attachments":null,"custom_fields":null}],` +
		`"current_actor":null,"tags":null,"original_id":"812","custom_fields":null,"custom_status":null,"version":7}`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// json.Marshal goes through the same methods, on values and pointers alike.
	for _, v := range []any{*tk, tk} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["requested_at"] != "2024-03-01 09:15:00 +0000" || m["tags"] != nil {
			t.Errorf("json.Marshal(%T) = %s", v, b)
		}
	}
}

func TestEncodeEmpty(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"ticket", &Ticket{}, `{"uuid":null,"subject":null,"requested_at":null,"status":null,"requester":null,"comments":[],"current_actor":null,"tags":null,"original_id":null,"custom_fields":null,"custom_status":null,"version":null}`},
		{"comment", Comment{}, `{"uuid":null,"author":null,"body":null,"html_body":null,"authored_at":null,"public":false,"attachments":null,"custom_fields":null}`},
		{"agreement", &Agreement{}, `{"uuid":null,"access_key":null,"name":null,"status":null,"sender_url":null,"receiver_url":null,"deactivated_by":null,"current_actor":null,"sync_tags":false,"sync_custom_fields":false,"allows_public_comments":false,"share_private_comments":false,"sync_status":false}`},
		{"actor", Actor{}, `{"uuid":null,"name":null,"role":null}`},
		{"attachment", Attachment{}, `{"url":null,"filename":null,"display_filename":null,"content_type":null}`},
		{"tags empty", &Ticket{Tags: []string{}}, `"tags":[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encode(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	at := time.Date(2024, 3, 1, 9, 15, 0, 0, time.UTC)
	tickets := []*Ticket{
		{},
		{UUID: NewUUID(), Subject: "Ünïcødé ✓ \"quoted\" <b>", RequestedAt: Time{at}, Status: "pending",
			Requester:    &Actor{UUID: "r", Name: "R"},
			CurrentActor: &Actor{UUID: "a", Name: "A", Role: "agent"},
			Comments: []Comment{
				{UUID: "c1", Body: "one", Public: true, AuthoredAt: Time{at}},
				{UUID: "c2", Body: "two", HTMLBody: "<i>two</i>", Public: false, AuthoredAt: Time{at.Add(time.Hour)},
					Attachments:  []Attachment{{URL: "https://x/1", Filename: "a.png", DisplayFilename: "A.png", ContentType: "image/png"}},
					CustomFields: map[string]any{"k": "v", "n": json.Number("3")}},
			},
			Tags: []string{"a", "b"}, OriginalID: "99", CustomFields: map[string]any{"Priority": "high", "n": json.Number("1.5")},
			CustomStatus: "Waiting on vendor", Version: 1 << 40},
	}
	for i, in := range tickets {
		b, err := EncodeTicket(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := DecodeTicket(strings.NewReader(string(b)), 0)
		if err != nil {
			t.Fatalf("ticket %d: %v\n%s", i, err, b)
		}
		want := *in
		if want.Comments == nil {
			want.Comments = []Comment{} // encoded as [] and read back as empty
		}
		assertTicketEqual(t, out, &want)
	}

	agreements := []*Agreement{
		{},
		{UUID: NewUUID(), AccessKey: NewAccessKey(), Name: "Acme", Status: AgreementInactive,
			SenderURL: "https://a/sharing", ReceiverURL: "https://b/sharing", DeactivatedBy: DeactivatedByReceiver,
			CurrentActor: &Actor{UUID: "u", Name: "Ann", Role: "agent"},
			SyncTags:     true, SyncCustomFields: true, AllowsPublicComments: true, SharePrivateComments: false, SyncStatus: true},
	}
	for i, in := range agreements {
		b, err := EncodeAgreement(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := DecodeAgreement(strings.NewReader(string(b)), 0)
		if err != nil {
			t.Fatalf("agreement %d: %v", i, err)
		}
		out.present = 0
		if !reflect.DeepEqual(out, in) {
			t.Errorf("agreement %d:\n got  %+v\n want %+v", i, out, in)
		}
	}
}

// assertTicketEqual compares tickets, times by instant rather than by location.
func assertTicketEqual(t *testing.T, got, want *Ticket) {
	t.Helper()
	norm := func(tk *Ticket) Ticket {
		c := *tk
		c.RequestedAt = Time{c.RequestedAt.UTC()}
		c.Comments = append([]Comment(nil), tk.Comments...)
		if tk.Comments != nil && len(tk.Comments) == 0 {
			c.Comments = []Comment{}
		}
		for i := range c.Comments {
			c.Comments[i].AuthoredAt = Time{c.Comments[i].AuthoredAt.UTC()}
		}
		return c
	}
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		gb, _ := json.MarshalIndent(g, "", " ")
		wb, _ := json.MarshalIndent(w, "", " ")
		t.Errorf("ticket mismatch\ngot  %s\nwant %s", gb, wb)
	}
}
