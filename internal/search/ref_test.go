package search

import (
	"slices"
	"sort"
	"strings"

	"tandem/internal/identity"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// The reference: what a search should find, computed in Go from a world, following the
// documented semantics independently of the SQL.

// expect returns the hits of req over w, in order.
func (w *world) expect(req Request) ([]Hit, error) {
	kinds, err := KindsFor(req.Query, req.Kind)
	if err != nil {
		return nil, err
	}
	sortBy, desc := req.SortBy, req.Desc
	if req.Query.OrderBy != "" {
		sortBy = req.Query.OrderBy
	}
	if req.Query.Sort != "" {
		desc = req.Query.Sort == "desc"
	}
	var hits []Hit
	for _, k := range kinds {
		switch k {
		case Tickets:
			for _, t := range w.tickets {
				if !t.deleted && w.visible(t, req.Actor) && w.all(req, func(tm Term) bool { return w.ticketMatch(t, tm, req) }) {
					hits = append(hits, Hit{Kind: k, ID: t.id, Sort: ticketSort(t, sortBy)})
				}
			}
		case Users:
			for _, u := range w.users {
				if req.Actor.IsStaff() && w.all(req, func(tm Term) bool { return w.userMatch(u, tm, req) }) {
					hits = append(hits, Hit{Kind: k, ID: u.id, Sort: plainSort(u.id, u.created, u.updated, sortBy)})
				}
			}
		case Organizations:
			for _, o := range w.orgs {
				if req.Actor.IsStaff() && w.all(req, func(tm Term) bool { return w.orgMatch(o, tm, req) }) {
					hits = append(hits, Hit{Kind: k, ID: o.id, Sort: plainSort(o.id, o.created, o.updated, sortBy)})
				}
			}
		case Groups:
			for _, g := range w.groups {
				if !g.deleted && req.Actor.IsStaff() && w.all(req, func(tm Term) bool { return groupMatch(g, tm, req) }) {
					hits = append(hits, Hit{Kind: k, ID: g.id, Sort: plainSort(g.id, g.created, g.updated, sortBy)})
				}
			}
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.Sort != b.Sort {
			return a.Sort < b.Sort != desc
		}
		if a.Kind != b.Kind {
			return kindIndex(a.Kind) < kindIndex(b.Kind)
		}
		return a.ID < b.ID != desc
	})
	return hits, nil
}

// all applies the combination rule: terms are ANDed, positive key:value terms repeating
// a keyword are ORed.
func (w *world) all(req Request, match func(Term) bool) bool {
	groups := map[string]bool{}
	seen := map[string]bool{}
	for _, t := range req.Query.Terms {
		if g := t.orGroup(); g != "" {
			seen[g] = true
			groups[g] = groups[g] || match(t)
			continue
		}
		if match(t) == t.Neg {
			return false
		}
	}
	for g := range seen {
		if !groups[g] {
			return false
		}
	}
	return true
}

func (w *world) visible(t *refTicket, a ticket.Actor) bool {
	u := w.user(int64(a.UserID))
	switch {
	case a.Role == identity.Admin, a.Role == identity.Agent && a.Restriction == "":
		return true
	case a.Role == identity.Agent:
		switch a.Restriction {
		case identity.RestrictGroups:
			return slices.Contains(u.groups, t.group)
		case identity.RestrictAssigned:
			return t.assignee == u.id
		case identity.RestrictRequested:
			return t.requester == u.id
		case identity.RestrictOrganization:
			return slices.Contains(u.orgs, t.org)
		}
		return false
	case a.Role == identity.EndUser:
		if t.requester == u.id {
			return true
		}
		for _, o := range w.orgs {
			if o.id == t.org && o.shared && slices.Contains(u.orgs, o.id) {
				return true
			}
		}
	}
	return false
}

func ticketSort(t *refTicket, by string) int64 {
	switch by {
	case "id":
		return t.id
	case "created_at":
		return t.created
	case "priority":
		return int64(max(0, PriorityRank(t.priority)))
	case "status":
		return int64(ticket.Status(t.status).Rank())
	case "ticket_type":
		return int64(map[string]int{"question": 1, "incident": 2, "problem": 3, "task": 4}[t.typ])
	}
	return t.updated
}

func plainSort(id, created, updated int64, by string) int64 {
	switch by {
	case "id":
		return id
	case "created_at":
		return created
	case "priority", "status", "ticket_type":
		return 0
	}
	return updated
}

// hasPhrase reports whether words appear in text in this order, the last one possibly as
// a prefix.
func hasPhrase(text string, words []string, prefix bool) bool {
	tw := Words(text)
	for i := 0; i+len(words) <= len(tw); i++ {
		ok := true
		for j, w := range words {
			if j == len(words)-1 && prefix {
				ok = ok && strings.HasPrefix(tw[i+j], w)
			} else {
				ok = ok && tw[i+j] == w
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// likeHas is the users/organizations/groups word match (see likeNorm).
func likeHas(text string, words []string, prefix bool) bool {
	pat := " " + strings.Join(words, " ")
	if !prefix {
		pat += " "
	}
	return strings.Contains(LikeNorm(text), pat)
}

func cmpOrdered(list []string, op Op, have, want string) bool {
	return slices.Contains(ordered(list, op, want), have)
}

func timeMatch(at int64, optional bool, t Term, req Request) bool {
	v := t.Time
	if v.None {
		return at == 0
	}
	if optional && at == 0 {
		return false
	}
	if v.Ago > 0 {
		p := store.Micros(v.At(req.Now))
		switch t.Op {
		case Eq, Ge:
			return at >= p
		case Gt:
			return at > p
		case Lt:
			return at < p
		}
		return at <= p
	}
	from, to := store.Micros(v.From), store.Micros(v.To)
	switch t.Op {
	case Lt:
		return at < from
	case Le:
		return at < to
	case Gt:
		return at >= to
	case Ge:
		return at >= from
	}
	return at >= from && at < to
}

func (w *world) personMatch(id int64, t Term, req Request) bool {
	switch {
	case t.Value == "none":
		return id == 0
	case t.Value == "me":
		return id == int64(req.Actor.UserID)
	case t.Num != 0:
		return id == t.Num
	}
	u := w.user(id)
	if u == nil {
		return false
	}
	if strings.Contains(t.Value, "@") {
		return strings.ToLower(u.email) == t.Value
	}
	return likeHas(u.name, Words(t.Value), false)
}

func (w *world) namedMatch(id int64, t Term, names map[int64]string) bool {
	switch {
	case t.Value == "none":
		return id == 0
	case t.Num != 0:
		return id == t.Num
	}
	name, ok := names[id]
	if !ok {
		return false
	}
	if t.Prefix {
		return strings.HasPrefix(strings.ToLower(name), t.Value)
	}
	return strings.ToLower(name) == t.Value
}

func tagsMatch(tags []string, t Term) bool {
	if t.Value == "none" && !t.Prefix {
		return len(tags) == 0
	}
	if t.Prefix {
		return slices.ContainsFunc(tags, func(x string) bool { return strings.HasPrefix(x, t.Value) })
	}
	for _, want := range strings.Fields(t.Value) {
		if !slices.Contains(tags, want) {
			return false
		}
	}
	return true
}

func (w *world) ticketMatch(tk *refTicket, t Term, req Request) bool {
	switch t.Key {
	case "":
		if hasPhrase(tk.subject, t.Words, t.Prefix) || hasPhrase(tk.desc, t.Words, t.Prefix) {
			return true
		}
		for _, c := range tk.comments {
			if hasPhrase(c.body, t.Words, t.Prefix) {
				return true
			}
		}
		return false
	case "subject":
		return hasPhrase(tk.subject, t.Words, t.Prefix)
	case "description":
		return hasPhrase(tk.desc, t.Words, t.Prefix)
	case "id":
		return tk.id == t.Num
	case "status":
		return cmpOrdered(ticketStatuses(), t.Op, tk.status, t.Value)
	case "priority":
		if t.Value == "none" {
			return tk.priority == ""
		}
		return cmpOrdered(ticket.Priorities, t.Op, tk.priority, t.Value)
	case "ticket_type":
		if t.Value == "none" {
			return tk.typ == ""
		}
		return tk.typ == t.Value
	case "tags":
		return tagsMatch(tk.tags, t)
	case "assignee":
		return w.personMatch(tk.assignee, t, req)
	case "requester":
		return w.personMatch(tk.requester, t, req)
	case "submitter":
		return w.personMatch(tk.submitter, t, req)
	case "organization":
		names := map[int64]string{}
		for _, o := range w.orgs {
			names[o.id] = o.name
		}
		return w.namedMatch(tk.org, t, names)
	case "group":
		names := map[int64]string{}
		for _, g := range w.groups {
			if !g.deleted {
				names[g.id] = g.name
			}
		}
		return w.namedMatch(tk.group, t, names)
	case "via":
		return slices.Contains(ViaIDs(t.Value), tk.via)
	case "created":
		return timeMatch(tk.created, false, t, req)
	case "updated":
		return timeMatch(tk.updated, false, t, req)
	case "solved":
		return timeMatch(tk.solved, true, t, req)
	case "due_date":
		return timeMatch(tk.due, true, t, req)
	}
	if t.Field != 0 {
		var vals []string
		switch v := tk.custom[itoa(t.Field)].(type) {
		case string:
			vals = []string{v}
		case bool:
			vals = []string{map[bool]string{true: "true", false: "false"}[v]}
		case []string:
			vals = v
		}
		return slices.ContainsFunc(vals, func(x string) bool { return strings.ToLower(x) == t.Value })
	}
	panic("reference: unknown ticket key " + t.Key)
}

func (w *world) userMatch(u *refUser, t Term, req Request) bool {
	switch t.Key {
	case "":
		return likeHas(u.name, t.Words, t.Prefix) || likeHas(u.email, t.Words, t.Prefix) || likeHas(u.ext, t.Words, t.Prefix)
	case "name":
		return likeHas(u.name, t.Words, t.Prefix)
	case "email":
		if t.Prefix {
			return strings.HasPrefix(u.email, t.Value)
		}
		return u.email == t.Value
	case "role":
		return u.role == t.Value
	case "external_id":
		return strings.ToLower(u.ext) == t.Value
	case "organization":
		switch {
		case t.Value == "none":
			return len(u.orgs) == 0
		case t.Num != 0:
			return slices.Contains(u.orgs, t.Num)
		}
		for _, o := range w.orgs {
			name := strings.ToLower(o.name)
			if slices.Contains(u.orgs, o.id) && (name == t.Value || t.Prefix && strings.HasPrefix(name, t.Value)) {
				return true
			}
		}
		return false
	case "tags":
		return tagsMatch(u.tags, t)
	case "created":
		return timeMatch(u.created, false, t, req)
	case "updated":
		return timeMatch(u.updated, false, t, req)
	}
	panic("reference: unknown user key " + t.Key)
}

func (w *world) orgMatch(o *refOrg, t Term, req Request) bool {
	switch t.Key {
	case "":
		return likeHas(o.name, t.Words, t.Prefix) || likeHas(o.ext, t.Words, t.Prefix) ||
			slices.ContainsFunc(o.domains, func(d string) bool { return likeHas(d, t.Words, t.Prefix) })
	case "name":
		return likeHas(o.name, t.Words, t.Prefix)
	case "external_id":
		return strings.ToLower(o.ext) == t.Value
	case "tags":
		return tagsMatch(o.tags, t)
	case "created":
		return timeMatch(o.created, false, t, req)
	case "updated":
		return timeMatch(o.updated, false, t, req)
	}
	panic("reference: unknown organization key " + t.Key)
}

func groupMatch(g *refGroup, t Term, req Request) bool {
	switch t.Key {
	case "", "name":
		return likeHas(g.name, t.Words, t.Prefix)
	case "created":
		return timeMatch(g.created, false, t, req)
	case "updated":
		return timeMatch(g.updated, false, t, req)
	}
	panic("reference: unknown group key " + t.Key)
}

func ticketStatuses() []string {
	out := make([]string, len(ticket.Statuses))
	for i, s := range ticket.Statuses {
		out[i] = string(s)
	}
	return out
}
