package api

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
)

// Zendesk JSON for users, identities, organizations, groups and their memberships, plus
// the list, sideload and input helpers users.go, orgs.go and groups.go share. Structs
// (rather than maps) keep Zendesk's field order, which makes payloads easy to compare
// with real ones.

// userWire is a user as Zendesk renders it (real /users/me field order).
type userWire struct {
	ID                   any            `json:"id"`
	URL                  any            `json:"url"`
	Name                 string         `json:"name"`
	Email                any            `json:"email"`
	CreatedAt            any            `json:"created_at"`
	UpdatedAt            any            `json:"updated_at"`
	TimeZone             string         `json:"time_zone"`
	IANATimeZone         string         `json:"iana_time_zone"`
	Phone                any            `json:"phone"`
	SharedPhoneNumber    any            `json:"shared_phone_number"`
	Photo                any            `json:"photo"`
	LocaleID             int            `json:"locale_id"`
	Locale               string         `json:"locale"`
	OrganizationID       any            `json:"organization_id"`
	Role                 string         `json:"role"`
	Verified             bool           `json:"verified"`
	ExternalID           any            `json:"external_id"`
	Tags                 []string       `json:"tags"`
	Alias                any            `json:"alias"`
	Active               bool           `json:"active"`
	Shared               bool           `json:"shared"`
	SharedAgent          bool           `json:"shared_agent"`
	LastLoginAt          any            `json:"last_login_at"`
	TwoFactorAuthEnabled bool           `json:"two_factor_auth_enabled"`
	Signature            any            `json:"signature"`
	Details              any            `json:"details"`
	Notes                any            `json:"notes"`
	RoleType             any            `json:"role_type"`
	CustomRoleID         any            `json:"custom_role_id"`
	Moderator            bool           `json:"moderator"`
	TicketRestriction    any            `json:"ticket_restriction"`
	OnlyPrivateComments  bool           `json:"only_private_comments"`
	RestrictedAgent      bool           `json:"restricted_agent"`
	Suspended            bool           `json:"suspended"`
	ChatOnly             bool           `json:"chat_only"`
	DefaultGroupID       any            `json:"default_group_id"`
	ReportCSV            bool           `json:"report_csv"`
	UserFields           map[string]any `json:"user_fields"`
}

// renderUser maps a user to Zendesk JSON. End users never see the staff's notes and
// details about a user, not even about themselves.
func renderUser(c *Call, u *identity.User) userWire {
	w := userWire{
		ID:                  int64(u.ID),
		URL:                 c.URL("/api/v2/users/" + strconv.FormatInt(int64(u.ID), 10) + ".json"),
		Name:                u.Name,
		Email:               nullStr(u.Email),
		CreatedAt:           ts(u.CreatedAt),
		UpdatedAt:           ts(u.UpdatedAt),
		TimeZone:            u.TimeZone,
		IANATimeZone:        ianaZone(u.TimeZone),
		Phone:               nullStr(u.Phone),
		LocaleID:            1,
		Locale:              u.Locale,
		OrganizationID:      nullID(u.OrganizationID),
		Role:                string(u.Role),
		Verified:            u.Verified,
		ExternalID:          nullStr(u.ExternalID),
		Tags:                strList(u.Tags),
		Alias:               nullStr(u.Alias),
		Active:              u.Active,
		Shared:              u.Shared,
		SharedAgent:         u.SharedAgent,
		LastLoginAt:         ts(u.LastLoginAt),
		Details:             nullStr(u.Details),
		Notes:               nullStr(u.Notes),
		TicketRestriction:   nullStr(u.TicketRestriction),
		OnlyPrivateComments: u.OnlyPrivateComments,
		RestrictedAgent:     u.TicketRestriction != "",
		Suspended:           u.Suspended,
		DefaultGroupID:      nullID(u.DefaultGroupID),
		UserFields:          u.UserFields,
	}
	if u.Role.IsStaff() {
		w.Signature = nullStr(u.Signature)
	} else {
		// Zendesk shows end users as restricted to their own requests.
		w.TicketRestriction, w.RestrictedAgent = identity.RestrictRequested, true
	}
	if !c.IsStaff() {
		w.Details, w.Notes = nil, nil
	}
	if w.UserFields == nil {
		w.UserFields = map[string]any{}
	}
	return w
}

// anonymousUser is what /users/me answers to a caller without credentials.
func anonymousUser() userWire {
	return userWire{
		Name: "Anonymous user", Email: "invalid@example.com", TimeZone: "UTC", IANATimeZone: "Etc/UTC",
		LocaleID: 1, Locale: "en-US", Role: "anonymous", Tags: []string{}, Active: true, UserFields: map[string]any{},
	}
}

// ianaZone gives the IANA name of a stored time zone (Tandem stores IANA names; "UTC"
// is Zendesk's default).
func ianaZone(tz string) string {
	if tz == "" || tz == "UTC" {
		return "Etc/UTC"
	}
	return tz
}

func renderUsers(c *Call, us []*identity.User) []userWire {
	out := make([]userWire, 0, len(us))
	for _, u := range us {
		out = append(out, renderUser(c, u))
	}
	return out
}

// orgWire is an organization as Zendesk renders it.
type orgWire struct {
	URL                string         `json:"url"`
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	SharedTickets      bool           `json:"shared_tickets"`
	SharedComments     bool           `json:"shared_comments"`
	ExternalID         any            `json:"external_id"`
	CreatedAt          any            `json:"created_at"`
	UpdatedAt          any            `json:"updated_at"`
	DomainNames        []string       `json:"domain_names"`
	Details            any            `json:"details"`
	Notes              any            `json:"notes"`
	GroupID            any            `json:"group_id"`
	Tags               []string       `json:"tags"`
	OrganizationFields map[string]any `json:"organization_fields"`
}

func renderOrg(c *Call, o *org.Organization) orgWire {
	w := orgWire{
		URL:                c.URL("/api/v2/organizations/" + strconv.FormatInt(int64(o.ID), 10) + ".json"),
		ID:                 int64(o.ID),
		Name:               o.Name,
		SharedTickets:      o.SharedTickets,
		SharedComments:     o.SharedComments,
		ExternalID:         nullStr(o.ExternalID),
		CreatedAt:          ts(o.CreatedAt),
		UpdatedAt:          ts(o.UpdatedAt),
		DomainNames:        strList(o.DomainNames),
		Details:            nullStr(o.Details),
		Notes:              nullStr(o.Notes),
		GroupID:            nullID(o.GroupID),
		Tags:               strList(o.Tags),
		OrganizationFields: o.Fields,
	}
	if !c.IsStaff() {
		w.Details, w.Notes = nil, nil
	}
	if w.OrganizationFields == nil {
		w.OrganizationFields = map[string]any{}
	}
	return w
}

func renderOrgs(c *Call, os []*org.Organization) []orgWire {
	out := make([]orgWire, 0, len(os))
	for _, o := range os {
		out = append(out, renderOrg(c, o))
	}
	return out
}

// groupWire is a group as Zendesk renders it.
type groupWire struct {
	URL         string `json:"url"`
	ID          int64  `json:"id"`
	IsPublic    bool   `json:"is_public"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Default     bool   `json:"default"`
	Deleted     bool   `json:"deleted"`
	CreatedAt   any    `json:"created_at"`
	UpdatedAt   any    `json:"updated_at"`
}

func renderGroup(c *Call, g *org.Group) groupWire {
	return groupWire{
		URL:         c.URL("/api/v2/groups/" + strconv.FormatInt(int64(g.ID), 10) + ".json"),
		ID:          int64(g.ID),
		IsPublic:    g.IsPublic,
		Name:        g.Name,
		Description: g.Description,
		Default:     g.Default,
		Deleted:     g.Deleted,
		CreatedAt:   ts(g.CreatedAt),
		UpdatedAt:   ts(g.UpdatedAt),
	}
}

func renderGroups(c *Call, gs []*org.Group) []groupWire {
	out := make([]groupWire, 0, len(gs))
	for _, g := range gs {
		out = append(out, renderGroup(c, g))
	}
	return out
}

// orgMembershipWire is an organization membership as Zendesk renders it.
type orgMembershipWire struct {
	URL              string `json:"url"`
	ID               int64  `json:"id"`
	UserID           int64  `json:"user_id"`
	OrganizationID   int64  `json:"organization_id"`
	Default          bool   `json:"default"`
	OrganizationName string `json:"organization_name"`
	ViewTickets      bool   `json:"view_tickets"`
	CreatedAt        any    `json:"created_at"`
	UpdatedAt        any    `json:"updated_at"`
}

// renderOrgMemberships renders memberships with their organizations' names (one query).
func renderOrgMemberships(ctx context.Context, q store.Queryer, c *Call, ms []*org.Membership) ([]orgMembershipWire, error) {
	var orgIDs []ids.Org
	for _, m := range ms {
		orgIDs = append(orgIDs, m.OrgID)
	}
	orgs, err := org.GetOrgs(ctx, q, c.Acct.ID, peopleUniq(orgIDs))
	if err != nil {
		return nil, err
	}
	byID := map[ids.Org]*org.Organization{}
	for _, o := range orgs {
		byID[o.ID] = o
	}
	out := make([]orgMembershipWire, 0, len(ms))
	for _, m := range ms {
		w := orgMembershipWire{
			URL:            c.URL("/api/v2/organization_memberships/" + strconv.FormatInt(m.ID, 10) + ".json"),
			ID:             m.ID,
			UserID:         int64(m.UserID),
			OrganizationID: int64(m.OrgID),
			Default:        m.Default,
			CreatedAt:      ts(m.CreatedAt),
			UpdatedAt:      ts(m.UpdatedAt),
		}
		if o := byID[m.OrgID]; o != nil {
			w.OrganizationName, w.ViewTickets = o.Name, o.SharedTickets
		}
		out = append(out, w)
	}
	return out, nil
}

// groupMembershipWire is a group membership as Zendesk renders it.
type groupMembershipWire struct {
	URL       string `json:"url"`
	ID        int64  `json:"id"`
	UserID    int64  `json:"user_id"`
	GroupID   int64  `json:"group_id"`
	Default   bool   `json:"default"`
	CreatedAt any    `json:"created_at"`
	UpdatedAt any    `json:"updated_at"`
}

func renderGroupMembership(c *Call, m *org.GroupMembership) groupMembershipWire {
	return groupMembershipWire{
		URL:       c.URL("/api/v2/group_memberships/" + strconv.FormatInt(m.ID, 10) + ".json"),
		ID:        m.ID,
		UserID:    int64(m.UserID),
		GroupID:   int64(m.GroupID),
		Default:   m.Default,
		CreatedAt: ts(m.CreatedAt),
		UpdatedAt: ts(m.UpdatedAt),
	}
}

func renderGroupMemberships(c *Call, ms []*org.GroupMembership) []groupMembershipWire {
	out := make([]groupMembershipWire, 0, len(ms))
	for _, m := range ms {
		out = append(out, renderGroupMembership(c, m))
	}
	return out
}

// identityWire is a user identity as Zendesk renders it.
type identityWire struct {
	URL                string `json:"url"`
	ID                 int64  `json:"id"`
	UserID             int64  `json:"user_id"`
	Type               string `json:"type"`
	Value              string `json:"value"`
	Verified           bool   `json:"verified"`
	Primary            bool   `json:"primary"`
	CreatedAt          any    `json:"created_at"`
	UpdatedAt          any    `json:"updated_at"`
	UndeliverableCount int    `json:"undeliverable_count"`
	DeliverableState   string `json:"deliverable_state"`
}

func renderIdentity(c *Call, i *identity.Identity) identityWire {
	return identityWire{
		URL:              c.URL("/api/v2/users/" + strconv.FormatInt(int64(i.UserID), 10) + "/identities/" + strconv.FormatInt(i.ID, 10) + ".json"),
		ID:               i.ID,
		UserID:           int64(i.UserID),
		Type:             i.Type,
		Value:            i.Value,
		Verified:         i.Verified,
		Primary:          i.Primary,
		CreatedAt:        ts(i.CreatedAt),
		UpdatedAt:        ts(i.UpdatedAt),
		DeliverableState: "deliverable",
	}
}

func renderIdentities(c *Call, is []*identity.Identity) []identityWire {
	out := make([]identityWire, 0, len(is))
	for _, i := range is {
		out = append(out, renderIdentity(c, i))
	}
	return out
}

// countBody is Zendesk's shape for /count endpoints.
func peopleCountBody(n int) map[string]any {
	return map[string]any{"count": map[string]any{"value": n, "refreshed_at": ts(time.Now())}}
}

// created answers 201 with a Location header for the new resource.
func peopleCreated(w http.ResponseWriter, c *Call, path string, body any) {
	w.Header().Set("Location", c.URL(path))
	writeJSON(w, http.StatusCreated, body)
}

func peopleUniq[T comparable](in []T) []T {
	out := make([]T, 0, len(in))
	seen := map[T]bool{}
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// includes parses ?include=a,b (unknown values are simply never asked about).
func peopleIncludes(r *http.Request) map[string]bool {
	out := map[string]bool{}
	for _, v := range r.URL.Query()["include"] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out[p] = true
			}
		}
	}
	return out
}

// sideloadPeople adds "users", "organizations" and "groups" arrays to body for the
// includes asked for. Organizations and groups of the users are added too when asked
// (a user list's include=organizations means the users' organizations).
func sideloadPeople(ctx context.Context, q store.Queryer, c *Call, body map[string]any, inc map[string]bool, userIDs []ids.User, orgIDs []ids.Org, groupIDs []ids.Group, viaUsers bool) error {
	acct := c.Acct.ID
	userIDs = peopleUniq(userIDs)
	if viaUsers && len(userIDs) > 0 && (inc["organizations"] || inc["groups"]) {
		args := []any{acct}
		for _, u := range userIDs {
			args = append(args, u)
		}
		in := store.In(len(userIDs))
		if inc["organizations"] {
			rows, err := q.QueryContext(ctx, `SELECT organization_id FROM organization_memberships WHERE account_id = ? AND user_id IN (`+in+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var o ids.Org
				if err := rows.Scan(&o); err != nil {
					rows.Close()
					return err
				}
				orgIDs = append(orgIDs, o)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if inc["groups"] && c.IsStaff() {
			rows, err := q.QueryContext(ctx, `SELECT group_id FROM group_memberships WHERE account_id = ? AND user_id IN (`+in+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var g ids.Group
				if err := rows.Scan(&g); err != nil {
					rows.Close()
					return err
				}
				groupIDs = append(groupIDs, g)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
	}
	if inc["users"] && !viaUsers {
		us, err := identity.GetMany(ctx, q, acct, userIDs)
		if err != nil {
			return err
		}
		body["users"] = renderUsers(c, us)
	}
	if inc["organizations"] {
		os, err := org.GetOrgs(ctx, q, acct, peopleNonZero(peopleUniq(orgIDs)))
		if err != nil {
			return err
		}
		body["organizations"] = renderOrgs(c, os)
	}
	if inc["groups"] && c.IsStaff() {
		gs, err := org.GetGroups(ctx, q, acct, peopleNonZero(peopleUniq(groupIDs)))
		if err != nil {
			return err
		}
		body["groups"] = renderGroups(c, gs)
	}
	if inc["identities"] && viaUsers && c.IsStaff() {
		var all []identityWire
		for _, u := range userIDs {
			is, err := identity.Identities(ctx, q, acct, u)
			if err != nil {
				return err
			}
			all = append(all, renderIdentities(c, is)...)
		}
		if all == nil {
			all = []identityWire{}
		}
		body["identities"] = all
	}
	return nil
}

func peopleNonZero[T ~int64](in []T) []T {
	return slices.DeleteFunc(in, func(v T) bool { return v == 0 })
}

// prefixCols qualifies a column list ("id, name") with a table alias ("u.id, u.name").
func peopleCols(cols, alias string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = alias + strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, ", ")
}

// pagedList runs a list with both pagination modes. sorts maps the sort keys a client
// may ask for (sort_by / sort=-key) to integer columns; spec.SortCol is the default. The
// sort and ID columns are selected after spec.Cols so scan can be a plain row scanner
// such as identity.ScanUser.
func peopleList[T any](ctx context.Context, q store.Queryer, r *http.Request, spec listSpec, sorts map[string]string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, listResult, error) {
	p, err := parsePage(r, false)
	if err != nil {
		return nil, listResult{}, err
	}
	if col, ok := sorts[p.sortKey]; ok {
		spec.SortCol = col
	}
	if spec.SortCol == "" {
		spec.SortCol = spec.IDCol
	}
	spec.Cols += ", " + spec.SortCol + ", " + spec.IDCol
	items := []T{}
	res, err := runList(ctx, q, spec, p, func(rows *sql.Rows) (cursorPos, error) {
		var pos cursorPos
		item, err := scan(peopleTailScanner{rows, []any{&pos.S, &pos.I}})
		if err != nil {
			return pos, err
		}
		items = append(items, item)
		return pos, nil
	})
	if err != nil {
		return nil, res, err
	}
	reverseIfBefore(p, items)
	return items, res, nil
}

// peopleTailScanner scans a row into the caller's destinations followed by extra ones.
type peopleTailScanner struct {
	rows  *sql.Rows
	extra []any
}

func (t peopleTailScanner) Scan(dest ...any) error { return t.rows.Scan(append(dest, t.extra...)...) }

// writeList writes {key: items} with pagination keys and any extra (sideload) keys.
func writePeopleList(w http.ResponseWriter, r *http.Request, key string, items any, res listResult, extra map[string]any) {
	body := map[string]any{key: items}
	addPageKeys(body, r, res)
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

// queryStrings parses a comma list such as external_ids=a,b (at most max values).
func peopleQueryStrings(r *http.Request, key string, max int) ([]string, error) {
	raw := r.URL.Query().Get(key)
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) > max {
		return nil, errs.E(errs.TooMany, "Parameter %s cannot specify more than %d values", key, max)
	}
	return out, nil
}

// optPeopleObject is an optional JSON object (a null clears it to {}).
type optPeopleObject struct {
	Set   bool
	Value map[string]any
}

func (o *optPeopleObject) UnmarshalJSON(b []byte) error {
	o.Set = true
	o.Value = map[string]any{}
	if string(b) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(&o.Value)
}

// tooMany is the error for a bulk body with more than 100 items.
func peopleTooMany(what string) error {
	return errs.E(errs.TooMany, "Maximum 100 %s may be created per call", what)
}

// peopleID is an optional ID like optID, but a bad value fails as a JSON type error, so
// the 422 names the field ("user_id: must be a number") instead of a bare 400.
type peopleID struct {
	Set   bool
	Value int64
}

func (o *peopleID) UnmarshalJSON(b []byte) error {
	var v optID
	if err := v.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: "value " + string(b), Type: reflect.TypeFor[int64]()}
	}
	o.Set, o.Value = v.Set, v.Value
	return nil
}
