package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/export"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Incremental exports, Zendesk's /api/v2/incremental/... (docs/EXPORTS.md): time-based
// for tickets, users, organizations and ticket events, cursor-based for tickets and
// users. Admins only, as on Zendesk, and within the export rate limit (10 requests a
// minute per account by default).

// DefaultExportRateLimit is Zendesk's limit on incremental export requests per minute.
const DefaultExportRateLimit = 10

// maxExportPage is the most records an export page holds (Zendesk's 1,000).
const maxExportPage = 1000

func (s *Server) incrementalRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/incremental/tickets", s.exportH(s.exportTickets(false)))
	mux.HandleFunc("GET /api/v2/incremental/tickets/cursor", s.exportH(s.exportTickets(true)))
	mux.HandleFunc("GET /api/v2/incremental/users", s.exportH(s.exportUsers(false)))
	mux.HandleFunc("GET /api/v2/incremental/users/cursor", s.exportH(s.exportUsers(true)))
	mux.HandleFunc("GET /api/v2/incremental/organizations", s.exportH(s.exportOrgs))
	mux.HandleFunc("GET /api/v2/incremental/ticket_events", s.exportH(s.exportTicketEvents))
}

// exportH is s.h for export endpoints: admins only, then the export rate limit.
func (s *Server) exportH(f handlerFunc) http.HandlerFunc {
	return s.h(admin, func(w http.ResponseWriter, r *http.Request, c *Call) error {
		if err := s.exportLimit(w, r, c); err != nil {
			return err
		}
		return f(w, r, c)
	})
}

// exportLimit counts the request against the account's export limit (in limit, so on
// PostgreSQL it holds across processes) and refuses it with 429 and Retry-After past it.
func (s *Server) exportLimit(w http.ResponseWriter, r *http.Request, c *Call) error {
	perMinute := s.cfg.ExportRateLimit
	switch {
	case perMinute == 0 && s.cfg.RateLimit < 0:
		return nil // rate limiting is off altogether
	case perMinute == 0:
		perMinute = DefaultExportRateLimit
	case perMinute < 0:
		return nil
	}
	n, ends, err := s.limiter.count.Hit(r.Context(), fmt.Sprintf("export|%d", c.Acct.ID), time.Minute)
	if err != nil {
		s.log.WarnContext(r.Context(), "export rate limit: count", "err", err)
		return nil
	}
	if n > int64(perMinute) {
		retry := strconv.Itoa(int(time.Until(ends).Seconds()) + 1)
		w.Header().Set("Retry-After", retry)
		return errs.E(errs.RateLimited, "Number of allowed incremental export API requests per minute exceeded (%d); retry after %s seconds", perMinute, retry)
	}
	return nil
}

// exportReq is what every export request says: where to start and how much to return.
type exportReq struct {
	start   int64
	cursor  *export.Pos // set for ?cursor=
	perPage int
}

// parseExport reads start_time or (cursor exports) cursor, and per_page.
func (s *Server) parseExport(ctx context.Context, r *http.Request, c *Call, kind export.Kind, cursored bool) (exportReq, error) {
	q := r.URL.Query()
	out := exportReq{perPage: maxExportPage}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return out, errs.E(errs.BadRequest, "per_page must be a number from 1 to %d", maxExportPage)
		}
		out.perPage = min(n, maxExportPage)
	}
	cur := q.Get("cursor")
	if (cur == "undefined" || cur == "null") && q.Get("start_time") != "" {
		// node-zendesk's exportCursor(start_time) sends its missing cursor as the
		// text "undefined": no cursor, begin at start_time.
		cur = ""
	}
	if cursored && cur != "" {
		p, err := s.exports.DecodeCursor(ctx, c.Acct.ID, kind, cur)
		if err != nil {
			return out, err
		}
		out.cursor = &p
		return out, nil
	}
	v := q.Get("start_time")
	if v == "" {
		if cursored {
			return out, errs.E(errs.BadRequest, "start_time or cursor is required")
		}
		return out, errs.E(errs.BadRequest, "start_time is required")
	}
	start, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return out, errs.E(errs.BadRequest, "start_time must be a Unix time in seconds")
	}
	if err := s.exports.CheckStart(start); err != nil {
		return out, err
	}
	out.start = start
	return out, nil
}

// exportPage is one page of either kind of export, ready for its pagination keys.
type exportPage struct {
	changes []export.Change
	// time-based
	endTime int64
	// cursor-based
	after export.Pos
	eos   bool
}

func (s *Server) readExport(ctx context.Context, c *Call, kind export.Kind, cursored bool, req exportReq) (exportPage, error) {
	if !cursored {
		p, err := s.exports.Time(ctx, c.Acct.ID, kind, req.start, req.perPage)
		return exportPage{changes: p.Changes, endTime: p.EndTime, eos: p.EndOfStream}, err
	}
	from := export.StartPos(req.start)
	if req.cursor != nil {
		from = *req.cursor
	}
	p, err := s.exports.Cursor(ctx, c.Acct.ID, kind, from, req.perPage)
	return exportPage{changes: p.Changes, after: p.After, eos: p.EndOfStream}, err
}

// addExportKeys adds Zendesk's pagination keys: next_page, count, end_time and
// end_of_stream (time-based), or after_url, after_cursor, before_url, before_cursor and
// end_of_stream (cursor-based). The next URL keeps the request's other parameters.
func (s *Server) addExportKeys(ctx context.Context, body map[string]any, r *http.Request, c *Call, kind export.Kind, cursored bool, p exportPage, n int) error {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		if k != "start_time" && k != "cursor" {
			q[k] = v
		}
	}
	path := r.URL.Path
	if !strings.HasSuffix(path, ".json") {
		path += ".json"
	}
	body["end_of_stream"] = p.eos
	if !cursored {
		q.Set("start_time", strconv.FormatInt(p.endTime, 10))
		body["next_page"] = c.URL(path + "?" + q.Encode())
		body["count"] = n
		body["end_time"] = p.endTime
		return nil
	}
	cur, err := s.exports.EncodeCursor(ctx, c.Acct.ID, kind, p.after)
	if err != nil {
		return err
	}
	q.Set("cursor", cur)
	body["after_cursor"] = cur
	body["after_url"] = c.URL(path + "?" + q.Encode())
	body["before_cursor"] = nil
	body["before_url"] = nil
	return nil
}

func changeIDs[T ~int64](cs []export.Change) []T {
	out := make([]T, len(cs))
	for i, ch := range cs {
		out[i] = T(ch.ID)
	}
	return out
}

// inChangeOrder returns the records found for the changes, in the changes' order.
func inChangeOrder[T any](cs []export.Change, found []T, id func(T) int64) []T {
	byID := make(map[int64]T, len(found))
	for _, v := range found {
		byID[id(v)] = v
	}
	out := make([]T, 0, len(cs))
	for _, ch := range cs {
		if v, ok := byID[ch.ID]; ok {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) exportTickets(cursored bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		ctx := r.Context()
		req, err := s.parseExport(ctx, r, c, export.Tickets, cursored)
		if err != nil {
			return err
		}
		p, err := s.readExport(ctx, c, export.Tickets, cursored, req)
		if err != nil {
			return err
		}
		q := s.db.R()
		found, err := ticket.GetManyWithDeleted(ctx, q, c.Acct.ID, changeIDs[ids.Ticket](p.changes))
		if err != nil {
			return err
		}
		list := inChangeOrder(p.changes, found, func(t *ticket.Ticket) int64 { return int64(t.ID) })
		if r.URL.Query().Get("exclude_deleted") == "true" {
			kept := list[:0]
			for _, t := range list {
				if t.DeletedAt.IsZero() {
					kept = append(kept, t)
				}
			}
			list = kept
		}
		tp, err := s.typedTicketPage(ctx, q, c, list, nil)
		if err != nil {
			return err
		}
		tp.stamps = make(map[ids.Ticket]int64, len(p.changes))
		for _, ch := range p.changes {
			tp.stamps[ids.Ticket(ch.ID)] = ch.Pos.TS
		}
		encoded, err := tp.appendTickets(nil, list)
		if err != nil {
			return err
		}
		body := map[string]any{}
		if err := s.sideload(ctx, q, c, r, body, list); err != nil {
			return err
		}
		if err := s.addExportKeys(ctx, body, r, c, export.Tickets, cursored, p, len(list)); err != nil {
			return err
		}
		return writeJSONWith(w, http.StatusOK, body, "tickets", encoded)
	}
}

// writeJSONWith writes body with one more key whose value is JSON already encoded and
// compact (a page of 1,000 tickets): encoding/json would validate and compact it again,
// which cost a tenth of an export page's CPU. The parts go to the response as they are,
// not copied into one buffer first.
func writeJSONWith(w http.ResponseWriter, status int, body map[string]any, key string, raw json.RawMessage) error {
	rest, err := json.Marshal(body)
	if err != nil {
		return err
	}
	name, err := json.Marshal(key)
	if err != nil {
		return err
	}
	head := append(append([]byte{'{'}, name...), ':')
	tail := []byte{'}'}
	if len(rest) > 2 { // more keys than {}
		tail = append([]byte{','}, rest[1:]...)
	}
	writeJSONBytes(w, status, head, raw, tail)
	return nil
}

func (s *Server) exportUsers(cursored bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c *Call) error {
		ctx := r.Context()
		req, err := s.parseExport(ctx, r, c, export.Users, cursored)
		if err != nil {
			return err
		}
		p, err := s.readExport(ctx, c, export.Users, cursored, req)
		if err != nil {
			return err
		}
		q := s.db.R()
		found, err := identity.GetMany(ctx, q, c.Acct.ID, changeIDs[ids.User](p.changes))
		if err != nil {
			return err
		}
		list := inChangeOrder(p.changes, found, func(u *identity.User) int64 { return int64(u.ID) })
		body := map[string]any{"users": renderUsers(c, list)}
		userIDs := make([]ids.User, len(list))
		for i, u := range list {
			userIDs[i] = u.ID
		}
		if err := sideloadPeople(ctx, q, c, body, peopleIncludes(r), userIDs, nil, nil, true); err != nil {
			return err
		}
		if err := s.addExportKeys(ctx, body, r, c, export.Users, cursored, p, len(list)); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
}

// exportOrg is an organization in the export, which shows deleted ones too (with
// deleted_at, the time of their deletion, and nothing else known).
type exportOrg struct {
	orgWire
	DeletedAt any `json:"deleted_at"`
}

func (s *Server) exportOrgs(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	req, err := s.parseExport(ctx, r, c, export.Organizations, false)
	if err != nil {
		return err
	}
	p, err := s.readExport(ctx, c, export.Organizations, false, req)
	if err != nil {
		return err
	}
	q := s.db.R()
	found, err := org.GetOrgs(ctx, q, c.Acct.ID, changeIDs[ids.Org](p.changes))
	if err != nil {
		return err
	}
	byID := make(map[int64]*org.Organization, len(found))
	for _, o := range found {
		byID[int64(o.ID)] = o
	}
	out := make([]exportOrg, 0, len(p.changes))
	for _, ch := range p.changes {
		if o := byID[ch.ID]; o != nil {
			out = append(out, exportOrg{orgWire: renderOrg(c, o)})
			continue
		}
		out = append(out, exportOrg{
			orgWire:   orgWire{URL: c.URL("/api/v2/organizations/" + strconv.FormatInt(ch.ID, 10) + ".json"), ID: ch.ID, DomainNames: []string{}, Tags: []string{}, OrganizationFields: map[string]any{}},
			DeletedAt: ts(time.Unix(ch.Pos.TS, 0)),
		})
	}
	body := map[string]any{"organizations": out}
	if err := s.addExportKeys(ctx, body, r, c, export.Organizations, false, p, len(out)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// viaNames are the channel names ticket events show in "via" (Zendesk writes the
// channel's display name there, not its id).
var viaNames = map[string]string{"web": "Web form", "api": "Web service", "email": "Mail", "rule": "Rule", "sample_ticket": "Sample ticket", "help_center": "Help Center", "sharing": "Ticket sharing"}

func viaName(ch string) string {
	if n, ok := viaNames[ch]; ok {
		return n
	}
	if ch == "" {
		return "Web service"
	}
	return strings.ToUpper(ch[:1]) + strings.ReplaceAll(ch[1:], "_", " ")
}

// exportTicketEvents serves /incremental/ticket_events: one event per ticket audit with
// its changes as child_events; include=comment_events adds the comments.
func (s *Server) exportTicketEvents(w http.ResponseWriter, r *http.Request, c *Call) error {
	ctx := r.Context()
	req, err := s.parseExport(ctx, r, c, export.TicketEvents, false)
	if err != nil {
		return err
	}
	p, err := s.readExport(ctx, c, export.TicketEvents, false, req)
	if err != nil {
		return err
	}
	q := s.db.R()
	found, err := ticket.AuditsByID(ctx, q, c.Acct.ID, changeIDs[ids.Audit](p.changes))
	if err != nil {
		return err
	}
	audits := inChangeOrder(p.changes, found, func(a *ticket.Audit) int64 { return int64(a.ID) })
	withComments := peopleIncludes(r)["comment_events"]
	comments := map[string]*ticket.Comment{}
	if withComments {
		if comments, err = ticket.CommentsByAudit(ctx, q, c.Acct.ID, found); err != nil {
			return err
		}
	}
	stamps := make(map[int64]int64, len(p.changes))
	for _, ch := range p.changes {
		stamps[ch.ID] = ch.Pos.TS
	}
	out := make([]map[string]any, 0, len(audits))
	for _, a := range audits {
		out = append(out, s.ticketEventJSON(a, comments, withComments, stamps[int64(a.ID)]))
	}
	body := map[string]any{"ticket_events": out}
	if err := s.addExportKeys(ctx, body, r, c, export.TicketEvents, false, p, len(out)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// ticketEventJSON renders an audit as Zendesk's ticket event: each field change a child
// event carrying the field's new value under its name (and previous_value), comments
// only when asked for.
func (s *Server) ticketEventJSON(a *ticket.Audit, comments map[string]*ticket.Comment, withComments bool, stamp int64) map[string]any {
	aj := s.auditJSON(a, comments, false)
	via := viaName(a.Via.Channel)
	commentPresent, commentPublic := false, false
	for _, e := range a.Events {
		if e["type"] == "Comment" {
			commentPresent = true
			if pub, _ := e["public"].(bool); pub {
				commentPublic = true
			}
		}
	}
	var children []map[string]any
	for _, e := range aj["events"].([]map[string]any) {
		typ, _ := e["type"].(string)
		child := map[string]any{"id": e["id"], "via": via, "via_reference_id": nil, "event_type": typ,
			"comment_present": commentPresent, "comment_public": commentPublic}
		if typ == "Comment" {
			if !withComments {
				continue
			}
			for k, v := range e {
				if k != "type" && k != "id" {
					child[k] = v
				}
			}
			children = append(children, child)
			continue
		}
		if name, _ := e["field_name"].(string); name != "" {
			child[name] = e["value"]
			if typ == "Change" {
				child["previous_value"] = e["previous_value"]
			}
		} else {
			for k, v := range e {
				if k != "type" && k != "id" {
					child[k] = v
				}
			}
		}
		children = append(children, child)
	}
	if children == nil {
		children = []map[string]any{}
	}
	system := map[string]any{}
	if sys, ok := a.Metadata["system"].(map[string]any); ok {
		system = sys
	}
	return map[string]any{
		"id":                int64(a.ID),
		"ticket_id":         int64(a.TicketID),
		"timestamp":         stamp,
		"created_at":        ts(a.CreatedAt),
		"updater_id":        aj["author_id"],
		"via":               via,
		"system":            system,
		"metadata":          aj["metadata"],
		"event_type":        "Audit",
		"child_events":      children,
		"merged_ticket_ids": []int64{},
	}
}

// plainJSONString reports whether s is written by encoding/json as itself in quotes:
// printable ASCII without quotes, backslashes or the HTML characters it escapes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// exportsOf is the exporter over db for the server's configuration.
func exportsOf(db *store.DB, cfg Config) *export.Exporter {
	lag := cfg.ExportLag
	switch {
	case lag == 0:
		lag = export.DefaultLag
	case lag < 0:
		lag = 0
	}
	return export.New(db, lag)
}
