package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"tandem/internal/ids"
	"tandem/internal/jsonenc"
	"tandem/internal/sharing"
	"tandem/internal/sla"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// ticketPage is what rendering a page of tickets reads once for the whole page: the
// tickets' URL prefix, the account's active fields, which problems have incidents, the
// tickets' shares and, when asked for, their SLA targets.
type ticketPage struct {
	base      string // "https://host/api/v2/tickets/"
	plainBase bool   // base is written by encoding/json as itself
	fields    []*ticket.Field
	incidents map[ids.Ticket]int
	shares    map[ids.Ticket][]sharing.ShareInfo
	// resultType, when set, is written as the tickets' result_type (search results).
	resultType string
	// withSLAs writes each ticket's slas key (include=slas): its targets in slas, their
	// stages as of slaNow.
	withSLAs bool
	slas     map[ids.Ticket][]*sla.Target
	slaNow   time.Time
	// stamps, when not nil, are the incremental export's change times by ticket: each
	// ticket's generated_timestamp, and a deleted ticket's status is "deleted".
	stamps map[ids.Ticket]int64
}

// ticketPageOf reads what rendering list needs; the shares only when withShares (a
// ticket known to be shared with nobody, as one just created without shares, is
// written with empty sharing keys without a read).
func (s *Server) ticketPageOf(ctx context.Context, q store.Queryer, c *Call, list []*ticket.Ticket, fields []*ticket.Field, withShares bool) (*ticketPage, error) {
	var problems []ids.Ticket
	for _, t := range list {
		if t.Type == "problem" {
			problems = append(problems, t.ID)
		}
	}
	incidents, err := ticket.IncidentCounts(ctx, q, c.Acct.ID, problems)
	if err != nil {
		return nil, err
	}
	p := &ticketPage{base: c.URL("/api/v2/tickets/"), fields: fields, incidents: incidents}
	p.plainBase = plainJSONString(p.base)
	if withShares {
		if p.shares, err = sharesOf(ctx, q, c.Acct.ID, list); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// pageFacts is what writing a page of tickets needs to know of the account, selected
// with the page's rows (ticket.ListQuery.Also) rather than by statements of their own:
// its settings version, behind which the custom fields are cached per process
// (ticket.Service.FieldsAt), and whether any of its tickets has a share (when none has,
// the page's shares are not read). Both are as of the page's own snapshot.
type pageFacts struct {
	settings int64 // -1 until a row was read
	shared   bool
}

// selectWith has lq select the facts with its rows.
func (f *pageFacts) selectWith(lq *ticket.ListQuery) {
	f.settings = -1
	lq.Also = append(lq.Also, store.SettingsVersionSQL, sharing.SharedAnySQL)
	lq.AlsoArgs = append(lq.AlsoArgs, lq.Account, lq.Account)
	lq.AlsoDest = append(lq.AlsoDest, &f.settings, &f.shared)
}

// known reports whether the page's statement read the facts (it had a row).
func (f *pageFacts) known() bool { return f != nil && f.settings >= 0 }

// typedTicketPage reads what the typed path needs to write list: the account's active
// fields, the incident counts and the shares. facts, when the page's statement read
// them, spare the fields' read (unless this process has none at that version) and the
// shares' (unless the account has some).
func (s *Server) typedTicketPage(ctx context.Context, q store.Queryer, c *Call, list []*ticket.Ticket, facts *pageFacts) (*ticketPage, error) {
	if !facts.known() {
		fields, err := s.ticketFieldsOf(ctx, q, c.Acct.ID)
		if err != nil {
			return nil, err
		}
		return s.ticketPageOf(ctx, q, c, list, fields, true)
	}
	all, err := s.tickets.FieldsAt(ctx, q, c.Acct.ID, facts.settings)
	if err != nil {
		return nil, err
	}
	return s.ticketPageOf(ctx, q, c, list, activeFields(all), facts.shared)
}

// ticketObjectsJSON renders each ticket of list as its own JSON object, as
// renderTicketPage renders it, for bodies that place tickets one by one (search's results, with
// resultType "ticket"; a view's rows, without).
func (s *Server) ticketObjectsJSON(ctx context.Context, q store.Queryer, c *Call, list []*ticket.Ticket, resultType string) ([]json.RawMessage, error) {
	p, err := s.typedTicketPage(ctx, q, c, list, nil)
	if err != nil {
		return nil, err
	}
	p.resultType = resultType
	var b, cf bytes.Buffer
	ends := make([]int, len(list))
	for i, t := range list {
		if err := p.appendTicket(&b, &cf, t); err != nil {
			return nil, err
		}
		ends[i] = b.Len()
	}
	out := make([]json.RawMessage, len(list))
	all, start := b.Bytes(), 0
	for i, end := range ends {
		out[i] = all[start:end:end]
		start = end
	}
	return out, nil
}

// renderTicketPage renders a page of tickets as a JSON array for writeJSONPage, each
// ticket with its SLA targets when r asks for include=slas; facts are what the page's
// statement read of the account (nil: none).
func (s *Server) renderTicketPage(ctx context.Context, q store.Queryer, c *Call, r *http.Request, list []*ticket.Ticket, facts *pageFacts) (json.RawMessage, error) {
	p, err := s.typedTicketPage(ctx, q, c, list, facts)
	if err != nil {
		return nil, err
	}
	if peopleIncludes(r)["slas"] {
		if err := p.readSLAs(ctx, q, c.Acct.ID, list); err != nil {
			return nil, err
		}
	}
	return p.appendTickets(nil, list)
}

// renderTicket renders one ticket as a JSON object, with its SLA targets when withSLAs
// (include=slas).
func (s *Server) renderTicket(ctx context.Context, q store.Queryer, c *Call, t *ticket.Ticket, withSLAs bool) (json.RawMessage, error) {
	list := []*ticket.Ticket{t}
	p, err := s.typedTicketPage(ctx, q, c, list, nil)
	if err != nil {
		return nil, err
	}
	if withSLAs {
		if err := p.readSLAs(ctx, q, c.Acct.ID, list); err != nil {
			return nil, err
		}
	}
	return p.ticketJSON(t)
}

// readSLAs reads the SLA targets of the tickets in list, as of now, for their slas key
// (include=slas, issue 18: Zendesk's shape). One query serves the whole list.
func (p *ticketPage) readSLAs(ctx context.Context, q store.Queryer, acct ids.Account, list []*ticket.Ticket) error {
	tids := make([]ids.Ticket, len(list))
	for i, t := range list {
		tids[i] = t.ID
	}
	targets, err := sla.Targets(ctx, q, acct, tids)
	if err != nil {
		return err
	}
	p.withSLAs, p.slas, p.slaNow = true, targets, time.Now()
	return nil
}

// ticketJSON renders t as a JSON object.
func (p *ticketPage) ticketJSON(t *ticket.Ticket) (json.RawMessage, error) {
	var b, cf bytes.Buffer
	if err := p.appendTicket(&b, &cf, t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ticketURL is the API URL of ticket id.
func (p *ticketPage) ticketURL(id ids.Ticket) string {
	return p.base + strconv.FormatInt(int64(id), 10) + ".json"
}

// appendTickets writes list as a JSON array into a buffer grown from buf.
func (p *ticketPage) appendTickets(buf []byte, list []*ticket.Ticket) (json.RawMessage, error) {
	b := bytes.NewBuffer(buf)
	var cf bytes.Buffer
	b.WriteByte('[')
	for i, t := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := p.appendTicket(b, &cf, t); err != nil {
			return nil, err
		}
		if i == 0 {
			// Room for the rest at the first ticket's size, and some.
			b.Grow(b.Len() * (len(list) - 1) * 5 / 4)
		}
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// appendTicket writes t in Zendesk's shape, the keys in the sorted order encoding/json
// would write a map's in (TestTicketJSONGolden and TestTicketBytesGolden hold the bytes
// the map renderer this replaced wrote). cf is scratch space for the custom fields,
// written twice (custom_fields and fields).
func (p *ticketPage) appendTicket(b *bytes.Buffer, cf *bytes.Buffer, t *ticket.Ticket) error {
	cf.Reset()
	cf.WriteByte('[')
	for i, f := range p.fields {
		if i > 0 {
			cf.WriteByte(',')
		}
		cf.WriteString(`{"id":`)
		appendInt(cf, f.ID)
		cf.WriteString(`,"value":`)
		if err := jsonenc.Value(cf, t.CustomFields[f.ID]); err != nil {
			return err
		}
		cf.WriteByte('}')
	}
	cf.WriteByte(']')

	b.WriteString(`{"allow_attachments":true,"allow_channelback":false,"assignee_id":`)
	appendNullID(b, int64(t.AssigneeID))
	b.WriteString(`,"brand_id":null,"collaborator_ids":`)
	appendIDs(b, t.CollaboratorIDs)
	b.WriteString(`,"created_at":`)
	appendTime(b, t.CreatedAt)
	b.WriteString(`,"custom_fields":`)
	b.Write(cf.Bytes())
	b.WriteString(`,"custom_status_id":null,"description":`)
	jsonenc.String(b, t.Description)
	b.WriteString(`,"due_at":`)
	appendTime(b, t.DueAt)
	b.WriteString(`,"email_cc_ids":`)
	appendIDs(b, t.EmailCCIDs)
	b.WriteString(`,"external_id":`)
	appendNullString(b, t.ExternalID)
	b.WriteString(`,"fields":`)
	b.Write(cf.Bytes())
	b.WriteString(`,"follower_ids":`)
	appendIDs(b, t.FollowerIDs)
	b.WriteString(`,"followup_ids":[],"forum_topic_id":null,"from_messaging_channel":false,"generated_timestamp":`)
	if p.stamps != nil {
		// Zendesk's export compares start_time with generated_timestamp: the time of
		// the record's last change, whatever changed it.
		appendInt(b, p.stamps[t.ID])
	} else {
		appendInt(b, t.UpdatedAt.Unix())
	}
	b.WriteString(`,"group_id":`)
	appendNullID(b, int64(t.GroupID))
	b.WriteString(`,"has_incidents":`)
	appendBool(b, p.incidents[t.ID] > 0)
	b.WriteString(`,"id":`)
	appendInt(b, int64(t.ID))
	b.WriteString(`,"is_public":`)
	appendBool(b, t.IsPublic)
	b.WriteString(`,"organization_id":`)
	appendNullID(b, int64(t.OrganizationID))
	b.WriteString(`,"priority":`)
	appendNullString(b, t.Priority)
	b.WriteString(`,"problem_id":`)
	appendNullID(b, int64(t.ProblemID))
	b.WriteString(`,"raw_subject":`)
	subject := b.Len()
	jsonenc.String(b, t.Subject)
	subjectEnd := b.Len()
	b.WriteString(`,"recipient":`)
	appendNullString(b, t.Recipient)
	b.WriteString(`,"requester_id":`)
	appendInt(b, int64(t.RequesterID))
	if p.resultType != "" {
		b.WriteString(`,"result_type":`)
		jsonenc.String(b, p.resultType)
	}
	b.WriteString(`,"satisfaction_rating":{"score":`)
	jsonenc.String(b, satisfactionScore(t))
	b.WriteString(`},"sharing":`)
	if infos := p.shares[t.ID]; len(infos) == 0 {
		b.WriteString(`[],"sharing_agreement_ids":[]`)
	} else {
		agIDs, shares := sharingJSON(infos)
		if err := jsonenc.Value(b, shares); err != nil {
			return err
		}
		b.WriteString(`,"sharing_agreement_ids":`)
		if err := jsonenc.Value(b, agIDs); err != nil {
			return err
		}
	}
	if p.withSLAs {
		p.appendSLAs(b, p.slas[t.ID])
	}
	b.WriteString(`,"status":`)
	if p.stamps != nil && !t.DeletedAt.IsZero() {
		b.WriteString(`"deleted"`)
	} else {
		jsonenc.String(b, string(t.Status))
	}
	b.WriteString(`,"subject":`)
	b.Write(b.Bytes()[subject:subjectEnd])
	b.WriteString(`,"submitter_id":`)
	appendInt(b, int64(t.SubmitterID))
	b.WriteString(`,"tags":`)
	if t.Tags == nil {
		b.WriteString(`[]`)
	} else if err := jsonenc.Value(b, t.Tags); err != nil {
		return err
	}
	b.WriteString(`,"ticket_form_id":null,"type":`)
	appendNullString(b, t.Type)
	b.WriteString(`,"updated_at":`)
	appendTime(b, t.UpdatedAt)
	b.WriteString(`,"url":`)
	if p.plainBase {
		b.WriteByte('"')
		b.WriteString(p.base)
		appendInt(b, int64(t.ID))
		b.WriteString(`.json"`)
	} else {
		jsonenc.String(b, p.ticketURL(t.ID))
	}
	b.WriteString(`,"via":{"channel":`)
	if t.Via.Channel == "" {
		b.WriteString(`"api"`)
	} else {
		jsonenc.String(b, t.Via.Channel)
	}
	b.WriteString(`,"source":`)
	if t.Via.Source == nil {
		b.WriteString(`{"from":{},"rel":null,"to":{}}`)
	} else if err := jsonenc.Map(b, t.Via.Source); err != nil {
		return err
	}
	b.WriteString(`}}`)
	return nil
}

// appendSLAs writes a ticket's slas key: each target with its breach_at and stage as
// of the page's slaNow.
func (p *ticketPage) appendSLAs(b *bytes.Buffer, targets []*sla.Target) {
	b.WriteString(`,"slas":{"policy_metrics":[`)
	for i, tg := range targets {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"achieved_at":`)
		appendTime(b, tg.AchievedAt)
		b.WriteString(`,"breach_at":`)
		appendTime(b, tg.BreachAt)
		b.WriteString(`,"breached":`)
		appendBool(b, tg.Late(p.slaNow))
		b.WriteString(`,"business_hours":`)
		appendBool(b, tg.Business)
		b.WriteString(`,"metric":`)
		jsonenc.String(b, tg.Metric)
		b.WriteString(`,"minutes":`)
		appendInt(b, tg.Minutes)
		b.WriteString(`,"policy_id":`)
		appendInt(b, tg.PolicyID)
		b.WriteString(`,"stage":`)
		jsonenc.String(b, tg.StageAt(p.slaNow))
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
}

func appendInt(b *bytes.Buffer, v int64) {
	b.Write(strconv.AppendInt(b.AvailableBuffer(), v, 10))
}

func appendBool(b *bytes.Buffer, v bool) {
	b.Write(strconv.AppendBool(b.AvailableBuffer(), v))
}

// appendNullID writes an ID as nullID renders it: 0 is null.
func appendNullID(b *bytes.Buffer, v int64) {
	if v == 0 {
		b.WriteString("null")
		return
	}
	appendInt(b, v)
}

// appendNullString writes s as nullStr renders it: "" is null.
func appendNullString(b *bytes.Buffer, s string) {
	if s == "" {
		b.WriteString("null")
		return
	}
	jsonenc.String(b, s)
}

// appendIDs writes ids as idList renders them: nil is [].
func appendIDs[T ~int64](b *bytes.Buffer, list []T) {
	b.WriteByte('[')
	for i, v := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		appendInt(b, int64(v))
	}
	b.WriteByte(']')
}

// appendTime writes t as ts renders it: the zero time is null.
func appendTime(b *bytes.Buffer, t time.Time) {
	if t.IsZero() {
		b.WriteString("null")
		return
	}
	// The layout writes digits, '-', 'T', ':' and 'Z' only, which JSON takes as they are.
	s := append(b.AvailableBuffer(), '"')
	s = t.UTC().AppendFormat(s, "2006-01-02T15:04:05Z")
	b.Write(append(s, '"'))
}
