package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ticket"
)

// page is what every template gets: the frame (account, user, area, navigation, flash)
// and the page's own Data.
type page struct {
	Title string
	Area  string // agent, admin, hc, auth
	Nav   string // the active navigation entry
	Acct  *account.Account
	User  *identity.User
	CSRF  string
	Flash *flash
	Views *sidebar // agent area: the views with their counts
	// Unread counts the agent's unread notifications (live updates).
	Unread int
	// LiveSince is the last live event as of the page: its stream starts after it, so
	// what happens between the page and the stream's connection is not lost (a
	// partner's delivery finished in those milliseconds, say).
	LiveSince int64
	Data      any
}

// IsStaff reports whether the signed-in user is an agent or admin.
func (p page) IsStaff() bool { return p.User != nil && p.User.Role.IsStaff() }

// IsAdmin reports whether the signed-in user is an admin.
func (p page) IsAdmin() bool { return p.User != nil && p.User.Role == identity.Admin }

// pageTemplates are the pages parsed once a process: the layout and the shared
// partials parsed once, each page parsed on a clone of them. Every Server then clones
// the pages and binds its own functions (parseTemplates), so starting a server, which
// tests do hundreds of times a run, no longer parses the templates again.
var pageTemplates = sync.OnceValues(func() (map[string]*template.Template, error) {
	entries, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	// The function names must be known to parse; a zero Server's functions stand in
	// for every server's own until parseTemplates binds them.
	base, err := template.New("base").Funcs((&Server{}).funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(path.Base(e), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := base.Clone()
		if err == nil {
			t, err = t.New(name).ParseFS(templateFS, e)
		}
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", e, err)
		}
		pages[name] = t
	}
	return pages, nil
})

// parseTemplates checks that the pages parse (once a process), so a broken template
// stops the server at its start.
func (s *Server) parseTemplates() error {
	_, err := pageTemplates()
	return err
}

// pageTemplate returns the named page bound to this server's functions, cloned from the parsed
// pages the first time the server renders it (a server that serves only the API never
// pays for it).
func (s *Server) pageTemplate(name string) (*template.Template, error) {
	if t, ok := s.pages.Load(name); ok {
		return t.(*template.Template), nil
	}
	s.pagesMu.Lock()
	defer s.pagesMu.Unlock()
	if t, ok := s.pages.Load(name); ok {
		return t.(*template.Template), nil
	}
	parsed, err := pageTemplates()
	if err != nil {
		return nil, err
	}
	base := parsed[name]
	if base == nil {
		return nil, fmt.Errorf("web: no template %q", name)
	}
	t, err := base.Clone()
	if err != nil {
		return nil, fmt.Errorf("web: page %s: %w", name, err)
	}
	t = t.Funcs(s.funcs())
	s.pages.Store(name, t)
	return t, nil
}

// render writes a full page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, c *call, status int, name string, p page) error {
	t, err := s.pageTemplate(name)
	if err != nil {
		return err
	}
	if c != nil {
		p.Acct, p.User, p.CSRF = c.Acct, c.User, c.CSRF
	}
	if p.Flash == nil && r.Method == http.MethodGet {
		p.Flash = takeFlash(w, r)
	}
	if p.Area == "agent" && p.Views == nil && c != nil && c.IsStaff() {
		sb, err := s.sidebar(r, c, "")
		if err != nil {
			return err
		}
		p.Views = sb
	}
	if (p.Area == "agent" || p.Area == "admin") && c != nil && c.IsStaff() {
		if err := s.unreadNotifications(r.Context(), c, &p); err != nil {
			return err
		}
	}
	switch {
	case c != nil && c.liveKnown:
		p.LiveSince = c.liveSince
	case c != nil && c.User != nil:
		if id, err := s.live.LastID(r.Context()); err == nil {
			p.LiveSince = id
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return writeHTML(w, status, buf.Bytes())
}

// renderBlock writes one named block of a page's templates (htmx fragments).
func (s *Server) renderBlock(w http.ResponseWriter, c *call, name, block string, data any) error {
	t, err := s.pageTemplate(name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", name, block, err)
	}
	return writeHTML(w, http.StatusOK, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, b []byte) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(b)
	return err
}

// statusOf maps an error code to an HTTP status, in one place.
func statusOf(err error) int {
	switch errs.CodeOf(err) {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden, errs.PlanRequired:
		return http.StatusForbidden
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.TooMany, errs.BadRequest:
		return http.StatusBadRequest
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.RateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// errorText is what a person is told about an error: the safe message for coded errors,
// a generic one for everything else (the detail goes to the log).
func errorText(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "The form was too large."
	}
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		return "Something went wrong on our side. Try again in a moment."
	}
	if len(e.Details) == 0 {
		return e.Message
	}
	var parts []string
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, d := range e.Details[k] {
			parts = append(parts, d.Description)
		}
	}
	return strings.Join(parts, ". ") + "."
}

// statusClientClosed is the status logged for a request its client abandoned (nginx's 499).
const statusClientClosed = 499

type errorData struct {
	Status  int
	Heading string
	Text    string
}

// renderError renders an error page with the right status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, c *call, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The browser went away (a navigation, a closed tab) and the request was cut
		// short: nothing failed here and nobody reads the page. The access log shows 499
		// (the client closed the request), not a server error.
		w.WriteHeader(statusClientClosed)
		return
	}
	status := statusOf(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		status = http.StatusRequestEntityTooLarge
	}
	if status == http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "web error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	heading := map[int]string{
		http.StatusNotFound: "Page not found", http.StatusForbidden: "Not allowed", http.StatusUnauthorized: "Please sign in",
		http.StatusTooManyRequests: "Slow down", http.StatusUnprocessableEntity: "Please check the form",
		http.StatusServiceUnavailable: "Unavailable", http.StatusConflict: "Changed meanwhile",
	}[status]
	if heading == "" {
		heading = "Something went wrong"
	}
	if c == nil {
		c = &call{Acct: account.FromContext(r.Context()), r: r}
	}
	p := page{Title: heading, Area: "error", Data: errorData{Status: status, Heading: heading, Text: errorText(err)}}
	if rerr := s.render(w, r, c, status, "error", p); rerr != nil {
		s.log.ErrorContext(r.Context(), "render error page", "err", rerr)
		http.Error(w, errorText(err), status)
	}
}

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"static": func(name string) string { return "/static/" + name + "?v=" + s.staticVer },
		"ago":    ago,
		// excerpt shortens a suspended email's text for its list.
		"excerpt": mailExcerpt,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("Jan 2, 2006 15:04 UTC")
		},
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"statusLabel": statusLabel,
		"viaText":     viaText,
		"hcStatus":    hcStatus,
		"title":       titleCase,
		"initials":    initials,
		"fileSize":    fileSize,
		"fileIcon":    fileIcon,
		"commentHTML": s.commentHTML,
		"add":         func(a, b int) int { return a + b },
		"join":        strings.Join,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"idstr": func(v any) string { return fmt.Sprint(v) },
		"eq64":  func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
		"urlq":  url.QueryEscape,
		"pct":   func(n, total int) int { return pct(n, total) },
		"statuses": func() []ticket.Status {
			return []ticket.Status{ticket.New, ticket.Open, ticket.Pending, ticket.Hold, ticket.Solved}
		},
		"types":      func() []string { return ticket.Types },
		"priorities": func() []string { return ticket.Priorities },
		"roles":      func() []identity.Role { return []identity.Role{identity.EndUser, identity.Agent, identity.Admin} },
		"roleLabel":  roleLabel,
		"itoa":       strconv.Itoa,
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"dur": func(d time.Duration) string {
			if d < time.Second {
				return "under a second"
			}
			return d.Round(time.Second).String()
		},
		"micros": func(us int64) time.Time { return time.UnixMicro(us).UTC() },
		// mul100 turns a share into a percentage (the AI simulation page).
		"mul100": func(f float64) float64 { return 100 * f },
	}
}

func pct(n, total int) int {
	if total <= 0 {
		return 0
	}
	p := n * 100 / total
	if p > 100 {
		p = 100
	}
	return p
}

func statusLabel(s ticket.Status) string { return titleCase(string(s)) }

// hcStatus is a status as end users read it in the help center.
func hcStatus(s ticket.Status) string {
	switch s {
	case ticket.New, ticket.Open, ticket.Hold:
		return "Open"
	case ticket.Pending:
		return "Awaiting reply"
	}
	return "Solved"
}

func roleLabel(r identity.Role) string {
	switch r {
	case identity.Admin:
		return "Administrator"
	case identity.Agent:
		return "Agent"
	}
	return "End user"
}

func titleCase(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func initials(name string) string {
	f := strings.Fields(name)
	out := ""
	for _, w := range f {
		r := []rune(w)
		if len(r) > 0 {
			out += strings.ToUpper(string(r[0]))
		}
		if len([]rune(out)) == 2 {
			break
		}
	}
	if out == "" {
		out = "?"
	}
	return out
}

// ago renders a time relative to now, as help desks do ("5 minutes ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	case d < 30*24*time.Hour:
		return plural(int(d.Hours()/24), "day") + " ago"
	}
	return t.UTC().Format("Jan 2, 2006")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
