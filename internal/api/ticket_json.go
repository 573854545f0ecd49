package api

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

func viaJSON(v ticket.Via) map[string]any {
	src := v.Source
	if src == nil {
		src = map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}
	}
	ch := v.Channel
	if ch == "" {
		ch = "api"
	}
	return map[string]any{"channel": ch, "source": src}
}

// ticketFieldsOf lists the account's active custom fields (for custom_fields rendering).
func (s *Server) ticketFieldsOf(ctx context.Context, q store.Queryer, acct ids.Account) ([]*ticket.Field, error) {
	all, err := ticket.Fields(ctx, q, acct)
	if err != nil {
		return nil, err
	}
	return activeFields(all), nil
}

// activeFields returns the active ones of fields, in a new slice (fields may be shared).
func activeFields(fields []*ticket.Field) []*ticket.Field {
	out := make([]*ticket.Field, 0, len(fields))
	for _, f := range fields {
		if f.Active {
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) commentJSON(cm *ticket.Comment) map[string]any {
	return map[string]any{
		"id":          int64(cm.ID),
		"type":        "Comment",
		"author_id":   int64(cm.AuthorID),
		"body":        cm.Body,
		"html_body":   cm.HTMLBody,
		"plain_body":  cm.PlainBody,
		"public":      cm.Public,
		"attachments": []any{},
		"audit_id":    int64(cm.AuditID),
		"via":         viaJSON(cm.Via),
		"created_at":  ts(cm.CreatedAt),
		"metadata":    map[string]any{"system": map[string]any{}, "custom": cm.Metadata},
	}
}

// auditJSON renders an audit, hydrating Comment events from the comments it wrote.
// Private comment events are dropped when publicOnly.
func (s *Server) auditJSON(a *ticket.Audit, comments map[string]*ticket.Comment, publicOnly bool) map[string]any {
	events := make([]map[string]any, 0, len(a.Events))
	for i, e := range a.Events {
		ev := map[string]any{}
		for k, v := range e {
			ev[k] = v
		}
		ev["id"] = int64(a.ID)*1000 + int64(i)
		if e["type"] == "Comment" {
			uuid, _ := e["comment_uuid"].(string)
			cm := comments[uuid]
			if cm == nil || publicOnly && !cm.Public {
				continue
			}
			delete(ev, "comment_uuid")
			ev["id"] = int64(cm.ID)
			ev["author_id"] = int64(cm.AuthorID)
			ev["body"] = cm.Body
			ev["html_body"] = cm.HTMLBody
			ev["plain_body"] = cm.PlainBody
			ev["public"] = cm.Public
			ev["attachments"] = []any{}
			ev["audit_id"] = int64(a.ID)
		}
		events = append(events, ev)
	}
	meta := map[string]any{"system": map[string]any{}, "custom": map[string]any{}}
	for k, v := range a.Metadata {
		meta[k] = v
	}
	author := any(int64(a.AuthorID))
	if a.AuthorID < 0 {
		author = int64(-1)
	}
	return map[string]any{
		"id":         int64(a.ID),
		"ticket_id":  int64(a.TicketID),
		"created_at": ts(a.CreatedAt),
		"author_id":  author,
		"metadata":   meta,
		"via":        viaJSON(a.Via),
		"events":     events,
	}
}

// Input shapes.

type customFieldIn struct {
	ID    optID           `json:"id"`
	Value json.RawMessage `json:"value"`
}

type commentIn struct {
	Body     optStr  `json:"body"`
	HTMLBody optStr  `json:"html_body"`
	Public   optBool `json:"public"`
	AuthorID optID   `json:"author_id"`
	// Uploads are upload tokens (POST /api/v2/uploads) to attach to the comment.
	Uploads optStrings `json:"uploads"`
}

type requesterIn struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Locale   string `json:"locale"`
	LocaleID any    `json:"locale_id"`
}

type ticketIn struct {
	Subject             optStr          `json:"subject"`
	RawSubject          optStr          `json:"raw_subject"`
	Description         optStr          `json:"description"`
	Type                optStr          `json:"type"`
	Priority            optStr          `json:"priority"`
	Status              optStr          `json:"status"`
	ExternalID          optStr          `json:"external_id"`
	Recipient           optStr          `json:"recipient"`
	RequesterID         optID           `json:"requester_id"`
	SubmitterID         optID           `json:"submitter_id"`
	AssigneeID          optID           `json:"assignee_id"`
	AssigneeEmail       optStr          `json:"assignee_email"`
	OrganizationID      optID           `json:"organization_id"`
	GroupID             optID           `json:"group_id"`
	ProblemID           optID           `json:"problem_id"`
	DueAt               optStr          `json:"due_at"`
	Tags                optStrings      `json:"tags"`
	AdditionalTags      optStrings      `json:"additional_tags"`
	RemoveTags          optStrings      `json:"remove_tags"`
	CustomFields        []customFieldIn `json:"custom_fields"`
	Fields              []customFieldIn `json:"fields"`
	CollaboratorIDs     optIDs          `json:"collaborator_ids"`
	FollowerIDs         optIDs          `json:"follower_ids"`
	EmailCCIDs          optIDs          `json:"email_cc_ids"`
	Requester           json.RawMessage `json:"requester"`
	Comment             *commentIn      `json:"comment"`
	SafeUpdate          optBool         `json:"safe_update"`
	UpdatedStamp        optStr          `json:"updated_stamp"`
	SharingAgreementIDs optIDs          `json:"sharing_agreement_ids"`
	ID                  optID           `json:"id"`
	// MacroIDs (and the older single macro_id) record the macros an agent applied.
	MacroIDs optIDs `json:"macro_ids"`
	MacroID  optID  `json:"macro_id"`
}

func strPtr(o optStr) *string {
	if !o.Set {
		return nil
	}
	v := o.Value
	return &v
}

// toPatch turns a request body into a write-path patch. The caller's role decides what
// may be set: end users (requests API) may only add comments and set the subject.
func (s *Server) toPatch(ctx context.Context, c *Call, in *ticketIn, creating bool) (*ticket.Patch, error) {
	p := &ticket.Patch{}
	var v errs.Validation
	p.Subject = strPtr(in.Subject)
	if p.Subject == nil && in.RawSubject.Set {
		p.Subject = strPtr(in.RawSubject)
	}
	p.Type = strPtr(in.Type)
	p.Priority = strPtr(in.Priority)
	if in.Status.Set {
		st := ticket.Status(strings.ToLower(in.Status.Value))
		if in.Status.Null || st == "" {
			v.Bad("status", "cannot be null")
		}
		p.Status = &st
	}
	p.ExternalID = strPtr(in.ExternalID)
	p.Recipient = strPtr(in.Recipient)
	if in.RequesterID.Set {
		p.RequesterID = ticket.Ptr(ids.User(in.RequesterID.Value))
	}
	if in.SubmitterID.Set {
		p.SubmitterID = ticket.Ptr(ids.User(in.SubmitterID.Value))
	}
	if in.AssigneeID.Set {
		p.AssigneeID = ticket.Ptr(ids.User(in.AssigneeID.Value))
	}
	if in.AssigneeEmail.Set && in.AssigneeEmail.Value != "" {
		u, err := lookupUserByEmail(ctx, s.db.R(), c.Acct.ID, in.AssigneeEmail.Value)
		if err != nil {
			v.Bad("assignee_email", "no agent has this email")
		} else {
			p.AssigneeID = ticket.Ptr(u)
		}
	}
	if in.OrganizationID.Set {
		p.OrganizationID = ticket.Ptr(ids.Org(in.OrganizationID.Value))
	}
	if in.GroupID.Set {
		p.GroupID = ticket.Ptr(ids.Group(in.GroupID.Value))
	}
	if in.ProblemID.Set {
		p.ProblemID = ticket.Ptr(ids.Ticket(in.ProblemID.Value))
	}
	if in.DueAt.Set {
		var due time.Time
		if !in.DueAt.Null && in.DueAt.Value != "" {
			t, err := parseTime(in.DueAt.Value)
			if err != nil {
				v.Bad("due_at", "must be an ISO 8601 time such as 2026-12-01T10:00:00Z")
			}
			due = t
		}
		p.DueAt = &due
	}
	if in.Tags.Set {
		p.Tags = &in.Tags.Value
	}
	p.AddTags, p.RemoveTags = in.AdditionalTags.Value, in.RemoveTags.Value
	cfs := append(append([]customFieldIn{}, in.CustomFields...), in.Fields...)
	if len(cfs) > 0 {
		p.CustomFields = map[int64]any{}
		for _, cf := range cfs {
			if cf.ID.Value == 0 {
				v.Bad("custom_fields", "every entry needs an id")
				continue
			}
			var val any
			if len(cf.Value) > 0 {
				dec := json.NewDecoder(strings.NewReader(string(cf.Value)))
				dec.UseNumber()
				if err := dec.Decode(&val); err != nil {
					v.Bad("custom_fields", "value is not valid JSON")
					continue
				}
			}
			p.CustomFields[cf.ID.Value] = val
		}
	}
	users := func(o optIDs) *[]ids.User {
		if !o.Set {
			return nil
		}
		out := make([]ids.User, len(o.Value))
		for i, x := range o.Value {
			out[i] = ids.User(x)
		}
		return &out
	}
	p.CollaboratorIDs, p.FollowerIDs, p.EmailCCIDs = users(in.CollaboratorIDs), users(in.FollowerIDs), users(in.EmailCCIDs)
	if len(in.Requester) > 0 && string(in.Requester) != "null" {
		var r requesterIn
		if err := json.Unmarshal(in.Requester, &r); err != nil {
			// Some clients send "requester": <id>.
			var id int64
			if json.Unmarshal(in.Requester, &id) == nil && id > 0 {
				p.RequesterID = ticket.Ptr(ids.User(id))
			} else {
				v.Bad("requester", "must be an object with name and email")
			}
		} else if r.Email == "" {
			v.Bad("requester", "needs an email")
		} else {
			p.Requester = &ticket.NewRequester{Name: r.Name, Email: r.Email, Locale: r.Locale}
		}
	}
	if in.Comment != nil {
		ci := &ticket.CommentInput{Body: in.Comment.Body.Value, HTMLBody: in.Comment.HTMLBody.Value, Uploads: in.Comment.Uploads.Value}
		if in.Comment.Public.Set {
			ci.Public = ticket.Ptr(in.Comment.Public.Value)
		}
		if in.Comment.AuthorID.Set && c.IsStaff() {
			ci.AuthorID = ids.User(in.Comment.AuthorID.Value)
		}
		p.Comment = ci
	} else if creating && in.Description.Set && in.Description.Value != "" {
		p.Comment = &ticket.CommentInput{Body: in.Description.Value}
	}
	if p.Comment != nil && c.User != nil && c.User.OnlyPrivateComments {
		p.Comment.Public = ticket.Ptr(false)
	}
	if in.SafeUpdate.Value {
		p.SafeUpdate = true
		if in.UpdatedStamp.Value == "" {
			v.Blank("updated_stamp")
		} else if t, err := parseTime(in.UpdatedStamp.Value); err != nil {
			v.Bad("updated_stamp", "must be the ticket's updated_at")
		} else {
			p.UpdatedStamp = t
		}
	}
	if in.SharingAgreementIDs.Set {
		list := append([]int64{}, in.SharingAgreementIDs.Value...)
		p.SharingAgreementIDs = &list
	}
	p.MacroIDs = append([]int64{}, in.MacroIDs.Value...)
	if in.MacroID.Set && in.MacroID.Value != 0 {
		p.MacroIDs = append(p.MacroIDs, in.MacroID.Value)
	}
	return p, v.Err()
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errs.E(errs.Invalid, "bad time")
}

func lookupUserByEmail(ctx context.Context, q store.Queryer, acct ids.Account, email string) (ids.User, error) {
	var id ids.User
	err := q.QueryRowContext(ctx, `SELECT user_id FROM user_identities WHERE account_id = ? AND type = 'email' AND value = ?`, acct, strings.ToLower(strings.TrimSpace(email))).Scan(&id)
	return id, err
}
