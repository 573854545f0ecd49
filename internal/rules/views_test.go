package rules_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// The model of one generated ticket, to filter by brute force.
type mShare struct {
	agreement int64
	in        bool
	state     string
	at        int64
}

type mTicket struct {
	id                         int64
	status, priority, typ      string
	group, assignee, org, reqr int64
	tags                       []string
	via                        int
	public                     bool
	created, updated           int64
	shares                     []mShare
}

// world is one account with generated tickets and everything they refer to.
type world struct {
	*rig
	now                  time.Time
	groups, orgs, agents []int64
	requesters           []int64
	outs, ins            []int64
	tickets              []*mTicket
	// viewers: an admin, an agent who sees only tickets assigned to them, an agent who
	// sees only their groups' tickets.
	viewers []ticket.Actor
	groupOf map[int64][]int64 // agent -> groups
}

var (
	allTags     = []string{"a", "b", "c", "d"}
	viaIDs      = []int{0, 4, 5, 31}
	shareStates = []string{"active", "failed", "unshared"}
)

func pick[T any](rnd *rand.Rand, xs []T) T { return xs[rnd.IntN(len(xs))] }

// newWorld generates n random tickets in a fresh account, written straight to the tables.
func newWorld(t *testing.T, db *store.DB, rnd *rand.Rand, n int) *world {
	w := &world{rig: newRig(t, db, account.Enterprise), now: store.Now(), groupOf: map[int64][]int64{}}
	agentB := w.user(identity.Agent, "bruno", "Bruno Agent")
	assigned := w.user(identity.Agent, "ass", "Asa Assigned")
	grouped := w.user(identity.Agent, "gro", "Greta Grouped")
	w.agents = []int64{int64(w.agent.UserID), int64(agentB.UserID), int64(assigned.UserID), int64(grouped.UserID)}
	g1 := w.group("Sales", w.agent.UserID, grouped.UserID)
	g2 := w.group("Support", agentB.UserID)
	w.groups = []int64{int64(g1), int64(g2)}
	w.groupOf[int64(grouped.UserID)] = []int64{int64(g1)}
	w.orgs = []int64{int64(w.org("Acme", 0, nil)), int64(w.org("Globex", 0, nil))}
	w.requesters = []int64{int64(w.requester), int64(w.user(identity.EndUser, "r2", "Rob Two").UserID), int64(w.user(identity.EndUser, "r3", "Ria Three").UserID)}
	w.outs = []int64{w.agreement("outbound", "accepted"), w.agreement("outbound", "accepted")}
	w.ins = []int64{w.agreement("inbound", "accepted"), w.agreement("inbound", "accepted")}
	assigned.Restriction = identity.RestrictAssigned
	grouped.Restriction = identity.RestrictGroups
	w.viewers = []ticket.Actor{w.admin, assigned, grouped}
	hour := int64(time.Hour / time.Microsecond)
	nowUS := store.Micros(w.now)
	withNone := func(xs []int64) []int64 { return append([]int64{0}, xs...) }
	for i := range n {
		m := &mTicket{
			id:       int64(i + 1),
			status:   string(pick(rnd, ticket.Statuses)),
			priority: pick(rnd, append([]string{""}, ticket.Priorities...)),
			typ:      pick(rnd, append([]string{""}, ticket.Types...)),
			group:    pick(rnd, withNone(w.groups)),
			assignee: pick(rnd, withNone(w.agents)),
			org:      pick(rnd, withNone(w.orgs)),
			reqr:     pick(rnd, w.requesters),
			via:      pick(rnd, viaIDs),
			public:   rnd.IntN(4) > 0,
			created:  nowUS - rnd.Int64N(100*hour),
		}
		if rnd.IntN(8) == 0 {
			m.assignee = m.reqr // rare, but "assignee is the requester" must work
		}
		m.updated = m.created + rnd.Int64N(nowUS-m.created+1)
		for _, tag := range allTags {
			if rnd.IntN(3) == 0 {
				m.tags = append(m.tags, tag)
			}
		}
		for range rnd.IntN(3) {
			s := mShare{in: rnd.IntN(2) == 0, at: nowUS - rnd.Int64N(80*hour)}
			s.agreement, s.state = pick(rnd, w.outs), pick(rnd, shareStates)
			if s.in {
				s.agreement, s.state = pick(rnd, w.ins), pick(rnd, append(shareStates, "orphaned"))
			}
			m.shares = append(m.shares, s)
		}
		w.tickets = append(w.tickets, m)
	}
	w.write(func(tx *store.Tx) error {
		nul := func(v int64) any {
			if v == 0 {
				return nil
			}
			return v
		}
		str := func(s string) any {
			if s == "" {
				return nil
			}
			return s
		}
		for _, m := range w.tickets {
			tagJSON, _ := json.Marshal(append([]string{}, m.tags...))
			if _, err := tx.ExecContext(w.ctx, `INSERT INTO tickets (account_id, id, subject, description, status, priority, type, requester_id, submitter_id, assignee_id, organization_id, group_id, is_public, tags, via, via_id, created_at, updated_at)
				VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{"channel":"api"}', ?, ?, ?)`,
				w.acct.ID, m.id, fmt.Sprintf("Ticket %d", m.id), m.status, str(m.priority), str(m.typ), m.reqr, m.reqr, nul(m.assignee), nul(m.org), nul(m.group), m.public, string(tagJSON), m.via, m.created, m.updated); err != nil {
				return err
			}
			for _, tag := range m.tags {
				if _, err := tx.ExecContext(w.ctx, `INSERT INTO ticket_tags (account_id, ticket_id, tag) VALUES (?, ?, ?)`, w.acct.ID, m.id, tag); err != nil {
					return err
				}
			}
			for _, s := range m.shares {
				dir := "out"
				if s.in {
					dir = "in"
				}
				if _, err := tx.ExecContext(w.ctx, `INSERT INTO ticket_shares (account_id, ticket_id, agreement_id, uuid, direction, state, shared_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					w.acct.ID, m.id, s.agreement, ticket.NewUUID(), dir, s.state, s.at, s.at); err != nil {
					return err
				}
			}
		}
		_, err := tx.ExecContext(w.ctx, `UPDATE accounts SET ticket_seq = ? WHERE id = ?`, len(w.tickets), w.acct.ID)
		return err
	})
	return w
}

// randomCondition draws a valid view condition over the world's data.
func (w *world) randomCondition(rnd *rand.Rand, field string) rules.Condition {
	ids := func(xs []int64, extra ...string) string {
		opts := append([]string{}, extra...)
		for _, x := range xs {
			opts = append(opts, strconv.FormatInt(x, 10))
		}
		return pick(rnd, opts)
	}
	statuses := make([]string, len(ticket.Statuses))
	for i, s := range ticket.Statuses {
		statuses[i] = string(s)
	}
	eq := []string{"is", "is_not"}
	switch field {
	case "status":
		return c(field, pick(rnd, []string{"is", "is_not", "less_than", "greater_than"}), pick(rnd, statuses))
	case "priority":
		op := pick(rnd, []string{"is", "is_not", "less_than", "greater_than"})
		if op == "is" || op == "is_not" {
			return c(field, op, pick(rnd, append([]string{""}, ticket.Priorities...)))
		}
		return c(field, op, pick(rnd, ticket.Priorities))
	case "type":
		return c(field, pick(rnd, eq), pick(rnd, append([]string{""}, ticket.Types...)))
	case "group_id":
		return c(field, pick(rnd, eq), ids(w.groups, ""))
	case "organization_id":
		return c(field, pick(rnd, eq), ids(w.orgs, ""))
	case "assignee_id":
		return c(field, pick(rnd, eq), ids(w.agents, "", "current_user", "requester_id"))
	case "requester_id":
		return c(field, pick(rnd, eq), ids(w.requesters, "current_user", "assignee_id"))
	case "current_tags":
		n := 1 + rnd.IntN(2)
		var ts []string
		for range n {
			ts = append(ts, pick(rnd, allTags))
		}
		return c(field, pick(rnd, []string{"includes", "not_includes"}), strings.Join(ts, " "))
	case "via_id":
		return c(field, pick(rnd, eq), strconv.Itoa(pick(rnd, viaIDs)))
	case "ticket_is_public":
		return c(field, "is", pick(rnd, []string{"public", "private"}))
	case "received_from":
		return c(field, pick(rnd, eq), ids(w.ins, ""))
	case "sent_to":
		return c(field, pick(rnd, eq), ids(w.outs, ""))
	case "orphaned":
		return c(field, "is", pick(rnd, []string{"true", "false"}))
	}
	// shared_at, created_at, updated_at
	return c(field, pick(rnd, []string{"less_than", "greater_than"}), strconv.Itoa(1+rnd.IntN(100)))
}

var viewFields = []string{"status", "priority", "type", "group_id", "organization_id", "assignee_id", "requester_id", "current_tags",
	"via_id", "ticket_is_public", "received_from", "sent_to", "orphaned", "shared_at", "created_at", "updated_at"}

func (w *world) randomView(rnd *rand.Rand) (rules.Conditions, rules.Output) {
	var conds rules.Conditions
	conds.All = append(conds.All, w.randomCondition(rnd, pick(rnd, []string{"status", "type", "group_id", "assignee_id", "requester_id"})))
	for range rnd.IntN(3) {
		conds.All = append(conds.All, w.randomCondition(rnd, pick(rnd, viewFields)))
	}
	for range rnd.IntN(3) {
		conds.Any = append(conds.Any, w.randomCondition(rnd, pick(rnd, viewFields)))
	}
	sortable := []string{"", "nice_id", "created", "updated", "status", "priority", "type", "assignee", "requester", "group", "organization"}
	out := rules.Output{SortBy: pick(rnd, sortable), SortOrder: pick(rnd, []string{"asc", "desc"})}
	if rnd.IntN(3) == 0 {
		out.GroupBy, out.GroupOrder = pick(rnd, sortable[1:]), pick(rnd, []string{"asc", "desc"})
	}
	return conds, out
}

func rankOf(v string, order []string) int {
	for i, x := range order {
		if x == v {
			return i
		}
	}
	return -1
}

// match is the brute-force meaning of one view condition.
func (w *world) match(m *mTicket, cond rules.Condition, viewer ticket.Actor) bool {
	val, op := cond.Value, cond.Operator
	nowUS := store.Micros(w.now)
	statuses := []string{"new", "open", "pending", "hold", "solved", "closed"}
	eqStr := func(cur string) bool {
		if op == "is" {
			return cur == val
		}
		return cur != val
	}
	idVal := func() int64 {
		if val == "current_user" {
			return int64(viewer.UserID)
		}
		n, _ := strconv.ParseInt(val, 10, 64)
		return n
	}
	eqID := func(cur int64) bool {
		if op == "is" {
			return cur == idVal()
		}
		return cur != idVal()
	}
	ordered := func(cur string, order []string) bool {
		if cur == "" {
			return false
		}
		if op == "less_than" {
			return rankOf(cur, order) < rankOf(val, order)
		}
		return rankOf(cur, order) > rankOf(val, order)
	}
	hours := func() int64 {
		n, _ := strconv.ParseInt(val, 10, 64)
		return nowUS - n*int64(time.Hour/time.Microsecond)
	}
	switch cond.Field {
	case "status":
		if op == "is" || op == "is_not" {
			return eqStr(m.status)
		}
		return ordered(m.status, statuses)
	case "priority":
		if op == "is" || op == "is_not" {
			return eqStr(m.priority)
		}
		return ordered(m.priority, ticket.Priorities)
	case "type":
		return eqStr(m.typ)
	case "group_id":
		return eqID(m.group)
	case "organization_id":
		return eqID(m.org)
	case "assignee_id":
		if val == "requester_id" {
			same := m.assignee != 0 && m.assignee == m.reqr
			return same == (op == "is")
		}
		return eqID(m.assignee)
	case "requester_id":
		if val == "assignee_id" {
			same := m.assignee != 0 && m.assignee == m.reqr
			return same == (op == "is")
		}
		return eqID(m.reqr)
	case "current_tags":
		hit := false
		for _, tag := range strings.Fields(val) {
			hit = hit || slices.Contains(m.tags, tag)
		}
		return hit == (op == "includes")
	case "via_id":
		return eqStr(strconv.Itoa(m.via))
	case "ticket_is_public":
		return m.public == (val == "public")
	case "received_from", "sent_to":
		in := cond.Field == "received_from"
		hit := false
		for _, s := range m.shares {
			if s.in == in && (s.state == "active" || s.state == "failed") && (val == "" || strconv.FormatInt(s.agreement, 10) == val) {
				hit = true
			}
		}
		if val == "" {
			return hit == (op == "is_not")
		}
		return hit == (op == "is")
	case "orphaned":
		hit := false
		for _, s := range m.shares {
			hit = hit || s.in && s.state == "orphaned"
		}
		return hit == (val == "true")
	case "shared_at":
		cut := hours()
		recent, shared := false, len(m.shares) > 0
		for _, s := range m.shares {
			if op == "less_than" && s.at > cut || op == "greater_than" && s.at >= cut {
				recent = true
			}
		}
		if op == "less_than" {
			return recent
		}
		return shared && !recent
	case "created_at", "updated_at":
		at := m.created
		if cond.Field == "updated_at" {
			at = m.updated
		}
		if op == "less_than" {
			return at > hours()
		}
		return at < hours()
	}
	panic("unmodelled field " + cond.Field)
}

func (w *world) visible(m *mTicket, viewer ticket.Actor) bool {
	switch viewer.Restriction {
	case identity.RestrictAssigned:
		return m.assignee == int64(viewer.UserID)
	case identity.RestrictGroups:
		return slices.Contains(w.groupOf[int64(viewer.UserID)], m.group)
	}
	return true
}

// keys are a ticket's ordering keys for an output, as the view orders them.
func (w *world) keys(m *mTicket, out rules.Output) []int64 {
	key := func(col string) int64 {
		switch col {
		case "created":
			return m.created
		case "updated":
			return m.updated
		case "status":
			return int64(rankOf(m.status, []string{"new", "open", "pending", "hold", "solved", "closed"}))
		case "priority":
			return int64(rankOf(m.priority, ticket.Priorities) + 1)
		case "type":
			return int64(rankOf(m.typ, []string{"question", "incident", "problem", "task"}) + 1)
		case "assignee":
			return m.assignee
		case "requester":
			return m.reqr
		case "group":
			return m.group
		case "organization":
			return m.org
		}
		return m.id
	}
	var ks []int64
	if out.GroupBy != "" {
		ks = append(ks, key(out.GroupBy))
	}
	if out.SortBy != "" && out.SortBy != "nice_id" {
		ks = append(ks, key(out.SortBy))
	}
	return append(ks, m.id)
}

// bruteForce filters and orders the world's tickets as the view should.
func (w *world) bruteForce(conds rules.Conditions, out rules.Output, viewer ticket.Actor) []int64 {
	var hits []*mTicket
	for _, m := range w.tickets {
		ok := w.visible(m, viewer)
		for _, cd := range conds.All {
			ok = ok && w.match(m, cd, viewer)
		}
		if ok && len(conds.Any) > 0 {
			anyOK := false
			for _, cd := range conds.Any {
				anyOK = anyOK || w.match(m, cd, viewer)
			}
			ok = anyOK
		}
		if ok {
			hits = append(hits, m)
		}
	}
	desc := []bool{}
	if out.GroupBy != "" {
		desc = append(desc, out.GroupOrder == "desc")
	}
	if out.SortBy != "" && out.SortBy != "nice_id" {
		desc = append(desc, out.SortOrder == "desc")
	}
	desc = append(desc, out.SortBy != "" && out.SortOrder == "desc")
	slices.SortFunc(hits, func(x, y *mTicket) int {
		kx, ky := w.keys(x, out), w.keys(y, out)
		for i := range kx {
			if kx[i] != ky[i] {
				d := 1
				if kx[i] < ky[i] {
					d = -1
				}
				if desc[i] {
					d = -d
				}
				return d
			}
		}
		return 0
	})
	out2 := make([]int64, len(hits))
	for i, m := range hits {
		out2[i] = m.id
	}
	return out2
}

func ticketIDs(rows []rules.Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = int64(r.Ticket.ID)
	}
	return out
}

// TestViewMatchesBruteForce is a property test: for random ticket sets and random view
// definitions (conditions, sorting, grouping, viewer), the compiled view returns exactly
// the tickets, order and count that filtering the same tickets by hand gives, and paging
// through it by cursor visits the same list.
func TestViewMatchesBruteForce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rnd := rand.New(rand.NewPCG(7, 11))
		for set := range 6 {
			w := newWorld(t, db, rnd, 60+rnd.IntN(60))
			for v := range 40 {
				conds, out := w.randomView(rnd)
				if err := rules.ValidatePreview(w.ctx, db.R(), w.acct, &conds, &out); err != nil {
					t.Fatalf("set %d view %d: generated view refused: %v\n%+v", set, v, err, conds)
				}
				viewer := pick(rnd, w.viewers)
				q, err := rules.CompileView(w.db.Dialect, w.acct.ID, viewer, conds, out, w.now)
				if err != nil {
					t.Fatal(err)
				}
				want := w.bruteForce(conds, out, viewer)
				// Both plans of a view that requires share sets (see Query.walk) give the same
				// pages.
				walked := *q
				walked.ForceWalk()
				for _, q := range []*rules.Query{q, &walked} {
					rows, more, err := q.Tickets(w.ctx, db.R(), rules.Page{Size: 1000})
					if err != nil {
						t.Fatal(err)
					}
					got := ticketIDs(rows)
					n, err := q.Count(w.ctx, db.R())
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) || more || n != int64(len(want)) {
						where, args := q.SQL()
						t.Fatalf("set %d view %d (viewer %s):\nconditions %+v\noutput %+v\ngot   %v (count %d)\nwant  %v\nSQL %s %v",
							set, v, viewer.Name, conds, out, got, n, want, where, args)
					}
					// Cursor pages of 7, forwards, then one page back.
					var paged []int64
					var after []int64
					var pages [][]rules.Row
					for {
						rows, more, err := q.Tickets(w.ctx, db.R(), rules.Page{Size: 7, After: after})
						if err != nil {
							t.Fatal(err)
						}
						paged = append(paged, ticketIDs(rows)...)
						pages = append(pages, rows)
						if !more {
							break
						}
						after = rows[len(rows)-1].Keys
					}
					if !slices.Equal(paged, want) {
						t.Fatalf("set %d view %d: cursor pages %v, want %v", set, v, paged, want)
					}
					if len(pages) >= 2 {
						last := pages[len(pages)-1]
						back, _, err := q.Tickets(w.ctx, db.R(), rules.Page{Size: 7, Before: last[0].Keys})
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(ticketIDs(back), ticketIDs(pages[len(pages)-2])) {
							t.Fatalf("set %d view %d: page before the last = %v, want %v", set, v, ticketIDs(back), ticketIDs(pages[len(pages)-2]))
						}
					}
					// Offset pages agree too.
					if len(want) > 5 {
						rows, _, err := q.Tickets(w.ctx, db.R(), rules.Page{Size: 5, Offset: 5})
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(ticketIDs(rows), want[5:min(10, len(want))]) {
							t.Fatalf("set %d view %d: offset page %v", set, v, ticketIDs(rows))
						}
					}
				}
			}
		}
	})
}

// TestViewValidation: views are checked like triggers, plus Zendesk's view rules.
func TestViewValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Enterprise)
		other := newRig(t, db, account.Enterprise)
		foreign := other.agreement("inbound", "accepted")
		need := c("status", "less_than", "solved")
		cases := []struct {
			name  string
			conds []rules.Condition
			out   rules.Output
			field string
		}{
			{"trigger-only field", []rules.Condition{need, c("update_type", "is", "Create")}, rules.Output{}, "conditions.all[1].field"},
			{"trigger-only operator", []rules.Condition{need, c("status", "changed", "")}, rules.Output{}, "conditions.all[1].operator"},
			{"no status/type/group/assignee/requester condition", []rules.Condition{c("current_tags", "includes", "x")}, rules.Output{}, "conditions"},
			{"another account's agreement", []rules.Condition{need, c("received_from", "is", fmt.Sprint(foreign))}, rules.Output{}, "conditions.all[1].value"},
			{"hours not a number", []rules.Condition{need, c("shared_at", "less_than", "a day")}, rules.Output{}, "conditions.all[1].value"},
			{"unknown column", []rules.Condition{need}, rules.Output{Columns: []string{"status", "mood"}}, "output.columns[1]"},
			{"unsortable column", []rules.Condition{need}, rules.Output{SortBy: "description"}, "output.sort_by"},
			{"bad order", []rules.Condition{need}, rules.Output{SortBy: "created", SortOrder: "sideways"}, "output.sort_order"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := r.rules.CreateView(r.ctx, r.acct, &rules.View{Title: "Bad", Active: true, Conditions: rules.Conditions{All: tc.conds}, Output: tc.out})
				e, ok := errs.As(err)
				if !ok || e.Code != errs.Invalid || len(e.Details[tc.field]) == 0 {
					t.Fatalf("err = %v; want invalid with details for %s", err, tc.field)
				}
			})
		}
	})
}

// TestViewDefaultsUseIndexes: every default view, compiled, is answered through an index
// that starts with the account (no scan of the tickets table), on SQLite.
func TestViewDefaultsUseIndexes(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	r := newRig(t, db, account.Enterprise)
	for _, v := range rules.DefaultViews() {
		if err := rules.ValidatePreview(r.ctx, db.R(), r.acct, &v.Conditions, &v.Output); err != nil {
			t.Fatal(err)
		}
		q, err := rules.CompileView(db.Dialect, r.acct.ID, r.agent, v.Conditions, v.Output, store.Now())
		if err != nil {
			t.Fatal(err)
		}
		where, args := q.SQL()
		rows, err := db.R().QueryContext(r.ctx, `EXPLAIN QUERY PLAN SELECT t.id FROM tickets t WHERE `+where, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "USING") {
				t.Errorf("view %q scans a table: %v", v.Title, plan)
			}
		}
	}
}
