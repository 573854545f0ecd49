package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// TestSearchMatchesBruteForce generates random tickets, people and organizations in two
// accounts, changes and deletes some of them (through plain SQL, so the index triggers
// do all the work), then runs random queries as random searchers and compares every
// answer, in order, with a Go filter over the same data.
func TestSearchMatchesBruteForce(t *testing.T) {
	queries := 600
	if testing.Short() || raceEnabled {
		queries = 150
	}
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.Open(t, d)
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			r := rand.New(rand.NewPCG(seed, 1))
			now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			a := newWorld(r, "acme", 300, now)
			b := newWorld(r, "globex", 120, now)
			build(t, db, r, a, b)
			mutate(t, db, r, a)
			mutate(t, db, r, b)
			checkIndex(t, db)
			s := New(db)
			ctx := context.Background()
			actors := a.actors()
			nonEmpty, errors := 0, 0
			defer func() { t.Logf("%d queries: %d with hits, %d refused", queries, nonEmpty, errors) }()
			for i := range queries {
				text := a.randomQuery(r)
				q, err := Parse(text)
				if err != nil {
					t.Fatalf("generated query %q does not parse: %v", text, err)
				}
				req := Request{Account: a.acct, Actor: pick(r, actors), Query: q, Now: now, Limit: 1000, Count: true,
					SortBy: pick(r, []string{"", "id", "created_at", "updated_at", "priority", "status", "ticket_type"}), Desc: r.IntN(2) == 0}
				want, werr := a.expect(req)
				res, err := s.Search(ctx, db.R(), req)
				if werr != nil || err != nil {
					if werr == nil || err == nil || werr.Error() != err.Error() {
						t.Fatalf("query %d %q: error %v, reference error %v", i, text, err, werr)
					}
					errors++
					continue
				}
				if res.Count != len(want) || !slices.Equal(res.Hits, want) {
					t.Fatalf("query %d %q as %s/%s (sort %s desc %v):\n got %d (count %d): %v\nwant %d: %v\nmissing %v\nextra %v",
						i, text, req.Actor.Role, req.Actor.Restriction, req.SortBy, req.Desc, len(res.Hits), res.Count, brief(res.Hits), len(want), brief(want),
						brief(minus(want, res.Hits)), brief(minus(res.Hits, want)))
				}
				if len(want) > 0 {
					nonEmpty++
				}
				// A cursor walk (one record type) visits the same hits in the same order.
				if ks, _ := KindsFor(q, ""); len(ks) == 1 && len(want) > 0 && i%3 == 0 {
					walk := req
					walk.Count, walk.Limit, walk.After = false, 1+r.IntN(9), nil
					var got []Hit
					for range len(want) + 1 {
						page, err := s.Search(ctx, db.R(), walk)
						if err != nil {
							t.Fatal(err)
						}
						got = append(got, page.Hits...)
						if !page.More {
							break
						}
						walk.After = &page.Hits[len(page.Hits)-1]
					}
					if !slices.Equal(got, want) {
						t.Fatalf("query %q walked in pages of %d: %v\nwant %v", text, walk.Limit, brief(got), brief(want))
					}
				}
				// A page is a slice of the whole.
				if len(want) > 3 {
					off := r.IntN(len(want) - 2)
					req.Offset, req.Limit, req.Count = off, 2, false
					page, err := s.Search(ctx, db.R(), req)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(page.Hits, want[off:off+2]) || page.More != (off+2 < len(want)) {
						t.Fatalf("query %q page at %d = %v (more %v), want %v", text, off, page.Hits, page.More, want[off:off+2])
					}
				}
			}
		})
	}
}

func brief(hs []Hit) string {
	var b strings.Builder
	for i, h := range hs {
		if i == 40 {
			b.WriteString(" ...")
			break
		}
		fmt.Fprintf(&b, " %s#%d", h.Kind[:1], h.ID)
	}
	return b.String()
}

func minus(a, b []Hit) []Hit {
	var out []Hit
	for _, h := range a {
		if !slices.ContainsFunc(b, func(x Hit) bool { return x.Kind == h.Kind && x.ID == h.ID }) {
			out = append(out, h)
		}
	}
	return out
}

// actors are the searchers of a world: every staff user (admins, unrestricted and
// restricted agents) and a few end users.
func (w *world) actors() []ticket.Actor {
	var out []ticket.Actor
	for i, u := range w.users {
		if u.role != "end-user" || i < 12 {
			out = append(out, ticket.Actor{UserID: ids.User(u.id), Role: identity.Role(u.role), Name: u.name, Restriction: u.restriction})
		}
	}
	return out
}

// checkIndex checks that the custom field index holds no rows of tickets that are gone,
// and asks SQLite to compare the FTS indexes with the tables they index.
func checkIndex(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	var stray int
	if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_field_values v
		WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.account_id = v.account_id AND t.id = v.ticket_id)`).Scan(&stray); err != nil || stray != 0 {
		t.Fatalf("ticket_field_values rows of deleted tickets: %d, %v", stray, err)
	}
	if db.Dialect != store.SQLite {
		return
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tickets_fts (tickets_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
			return fmt.Errorf("tickets_fts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_comments_fts (ticket_comments_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
			return fmt.Errorf("ticket_comments_fts: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("FTS index out of step with its content: %v", err)
	}
}

// mutate changes, deletes and restores tickets and comments with plain SQL, mirroring
// each change in the world.
func mutate(t *testing.T, db *store.DB, r *rand.Rand, w *world) {
	t.Helper()
	ctx := context.Background()
	nowUS := store.Micros(w.now)
	var maxComment int64
	if err := db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM ticket_comments`).Scan(&maxComment); err != nil {
		t.Fatal(err)
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		exec := func(q string, args ...any) error {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		}
		var kept []*refTicket
		for _, tk := range w.tickets {
			tk.updated = nowUS - r.Int64N(int64(30*24*time.Hour/time.Microsecond))
			var err error
			switch n := r.IntN(100); {
			case n < 12: // new subject
				tk.subject = sentence(r, 1, 5)
				err = exec(`UPDATE tickets SET subject = ?, updated_at = ? WHERE account_id = ? AND id = ?`, tk.subject, tk.updated, w.acct, tk.id)
			case n < 16: // new description
				tk.desc = sentence(r, 3, 10)
				err = exec(`UPDATE tickets SET description = ?, updated_at = ? WHERE account_id = ? AND id = ?`, tk.desc, tk.updated, w.acct, tk.id)
			case n < 26: // a change that leaves the text alone
				tk.status = string(pick(r, ticket.Statuses))
				err = exec(`UPDATE tickets SET status = ?, subject = subject, updated_at = ? WHERE account_id = ? AND id = ?`, tk.status, tk.updated, w.acct, tk.id)
			case n < 32: // soft delete
				tk.deleted = true
				err = exec(`UPDATE tickets SET deleted_at = ?, updated_at = ? WHERE account_id = ? AND id = ?`, nowUS, tk.updated, w.acct, tk.id)
			case n < 35: // soft delete, then restore with a new subject
				if err = exec(`UPDATE tickets SET deleted_at = ? WHERE account_id = ? AND id = ?`, nowUS, w.acct, tk.id); err == nil {
					tk.subject = sentence(r, 1, 5)
					err = exec(`UPDATE tickets SET deleted_at = 0, subject = ?, updated_at = ? WHERE account_id = ? AND id = ?`, tk.subject, tk.updated, w.acct, tk.id)
				}
			case n < 36: // soft deleted, then its text changes while deleted
				tk.deleted = true
				if err = exec(`UPDATE tickets SET deleted_at = ?, updated_at = ? WHERE account_id = ? AND id = ?`, nowUS, tk.updated, w.acct, tk.id); err == nil {
					err = exec(`UPDATE tickets SET subject = 'redacted' WHERE account_id = ? AND id = ?`, w.acct, tk.id)
					tk.subject = "redacted"
				}
			case n < 44: // new custom field values (or none)
				tk.custom = randomCustom(r)
				err = exec(`UPDATE tickets SET custom_fields = ?, updated_at = ? WHERE account_id = ? AND id = ?`, jsonText(tk.custom), tk.updated, w.acct, tk.id)
			case n < 46: // hard delete (comments stay behind)
				if err = exec(`DELETE FROM ticket_tags WHERE account_id = ? AND ticket_id = ?`, w.acct, tk.id); err == nil {
					err = exec(`DELETE FROM tickets WHERE account_id = ? AND id = ?`, w.acct, tk.id)
				}
				if err != nil {
					return err
				}
				continue
			default:
				err = exec(`UPDATE tickets SET updated_at = ? WHERE account_id = ? AND id = ?`, tk.updated, w.acct, tk.id)
			}
			if err != nil {
				return err
			}
			// Comments: redact, delete, add.
			var cs []refComment
			for _, c := range tk.comments {
				switch r.IntN(30) {
				case 0:
					c.body = sentence(r, 1, 6)
					if err := exec(`UPDATE ticket_comments SET plain_body = ? WHERE id = ?`, c.body, c.id); err != nil {
						return err
					}
				case 1:
					if err := exec(`DELETE FROM ticket_comments WHERE id = ?`, c.id); err != nil {
						return err
					}
					continue
				case 2:
					if err := exec(`UPDATE ticket_comments SET public = FALSE WHERE id = ?`, c.id); err != nil {
						return err
					}
				}
				cs = append(cs, c)
			}
			if r.IntN(10) == 0 {
				maxComment++
				c := refComment{id: maxComment, body: sentence(r, 2, 8)}
				if err := exec(`INSERT INTO ticket_comments (id, account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, created_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, TRUE, ?, 0)`,
					c.id, w.acct, tk.id, tk.requester, c.body, c.body, c.body, "new-"+strconv.FormatInt(c.id, 10)); err != nil {
					return err
				}
				cs = append(cs, c)
			}
			tk.comments = cs
			kept = append(kept, tk)
		}
		w.tickets = kept
		return syncCommentIDs(ctx, tx)
	})
	if err != nil {
		t.Fatalf("mutate: %v", err)
	}
}

// randomQuery builds a query from one to three random terms, sometimes with a type and
// an order.
func (w *world) randomQuery(r *rand.Rand) string {
	var parts []string
	kind := ""
	switch r.IntN(10) {
	case 0:
		kind = "user"
	case 1:
		kind = "organization"
	case 2:
		kind = "group"
	case 3, 4:
		kind = "mixed"
	case 5, 6:
		parts = append(parts, "type:ticket")
	}
	if kind == "user" || kind == "organization" || kind == "group" {
		parts = append(parts, "type:"+kind)
	}
	for range 1 + r.IntN(3) {
		var term string
		switch kind {
		case "user":
			term = w.userTerm(r)
		case "organization":
			term = w.orgTerm(r)
		case "group":
			term = w.groupTerm(r)
		case "mixed":
			term = w.textTerm(r, r.IntN(3) == 0)
			if r.IntN(4) == 0 {
				term = w.timeTerm(r, pick(r, []string{"created", "updated"}))
			}
		default:
			term = w.ticketTerm(r)
		}
		if r.IntN(5) == 0 {
			term = "-" + term
		}
		parts = append(parts, term)
	}
	if r.IntN(6) == 0 {
		parts = append(parts, "order_by:"+pick(r, []string{"created", "updated_at", "priority", "status", "ticket_type"}))
	}
	if r.IntN(6) == 0 {
		parts = append(parts, "sort:"+pick(r, []string{"asc", "desc"}))
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return strings.Join(parts, " ")
}

// textTerm is a word, a prefix, or a phrase lifted from a ticket; people's names and
// organizations' domains when forPeople.
func (w *world) textTerm(r *rand.Rand, forPeople bool) string {
	if forPeople {
		switch r.IntN(4) {
		case 0:
			return pick(r, firstNames)
		case 1:
			return fmt.Sprintf("%q", pick(r, w.users).name)
		case 2:
			n := pick(r, lastNames)
			return n[:min(len(n), 1+r.IntN(3))] + "*"
		}
		return pick(r, w.orgs).domains[0]
	}
	switch r.IntN(5) {
	case 0, 1:
		w := pick(r, vocabulary)
		if r.IntN(3) == 0 {
			w = strings.ToUpper(w)
		}
		return w
	case 2:
		v := []rune(pick(r, vocabulary))
		return string(v[:min(len(v), 2+r.IntN(3))]) + "*"
	}
	// A phrase from some ticket's text (sometimes from a deleted or changed one).
	tk := pick(r, w.tickets)
	texts := []string{tk.subject, tk.desc}
	for _, c := range tk.comments {
		texts = append(texts, c.body)
	}
	text := pick(r, texts)
	words := Words(text)
	if len(words) == 0 {
		return "printer"
	}
	i := r.IntN(len(words))
	j := min(len(words), i+1+r.IntN(3))
	phrase := strings.Join(words[i:j], " ")
	if rs := []rune(phrase); r.IntN(3) == 0 && len([]rune(words[j-1])) > 2 {
		return `"` + string(rs[:len(rs)-1]) + `"*`
	}
	return `"` + phrase + `"`
}

func (w *world) timeTerm(r *rand.Rand, key string) string {
	op := pick(r, []string{":", "<", ">", "<=", ">="})
	at := w.now.Add(-time.Duration(r.Int64N(int64(400 * 24 * time.Hour))))
	switch r.IntN(3) {
	case 0:
		return key + op + at.Format("2006-01-02")
	case 1:
		return key + op + at.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s%s%d%s", key, op, 1+r.IntN(12), pick(r, []string{"hours", "days", "week", "weeks", "months", "minutes", "year"}))
}

func (w *world) ticketTerm(r *rand.Rand) string {
	ord := func() string { return pick(r, []string{":", "<", ">", "<=", ">="}) }
	staff := w.users[:7]
	switch r.IntN(22) {
	case 0, 1, 2, 3:
		return w.textTerm(r, false)
	case 4:
		return pick(r, []string{"subject:", "description:"}) + w.textTerm(r, false)
	case 5:
		return "status" + ord() + string(pick(r, ticket.Statuses))
	case 6:
		if r.IntN(4) == 0 {
			return "priority:none"
		}
		return "priority" + ord() + pick(r, ticket.Priorities)
	case 7:
		return "ticket_type:" + pick(r, append([]string{"none"}, ticket.Types...))
	case 8:
		return pick(r, []string{"tags:", "tag:"}) + pick(r, []string{"vip", "VIP", "hardware", "hard_*", "hard*", "urgent-ish", "none", `"vip beta"`, "refund", "ref*"})
	case 9:
		u := pick(r, staff)
		return "assignee:" + pick(r, []string{"none", "me", strconv.FormatInt(u.id, 10), u.email, strings.Fields(u.name)[0], `"` + u.name + `"`})
	case 10:
		u := pick(r, w.users)
		return pick(r, []string{"requester:", "submitter:"}) + pick(r, []string{"me", strconv.FormatInt(u.id, 10), strings.ToUpper(u.email)})
	case 11:
		o := pick(r, w.orgs)
		return "organization:" + pick(r, []string{"none", strconv.FormatInt(o.id, 10), `"` + o.name + `"`, strings.ToLower(o.name[:4]) + "*"})
	case 12:
		g := pick(r, w.groups)
		return "group:" + pick(r, []string{"none", strconv.FormatInt(g.id, 10), `"` + g.name + `"`})
	case 13:
		return "via:" + pick(r, []string{"web", "email", "api", "rule", "ticket_sharing", "help_center", "batch"})
	case 14, 15:
		return w.timeTerm(r, pick(r, []string{"created", "updated", "solved", "due_date"}))
	case 16:
		return pick(r, []string{"solved:none", "due_date:none"})
	case 17:
		return pick(r, []string{"custom_field_9001:", "custom_field_9002:"}) + pick(r, []string{"gold", "GOLD", "silver", "true", "false", "blue", "red", "green"})
	case 18:
		return strconv.Itoa(1 + r.IntN(len(w.tickets)+20))
	}
	return w.textTerm(r, false)
}

func (w *world) userTerm(r *rand.Rand) string {
	u := pick(r, w.users)
	switch r.IntN(9) {
	case 0, 1:
		return w.textTerm(r, true)
	case 2:
		return "name:" + pick(r, []string{strings.Fields(u.name)[0], `"` + u.name + `"`, strings.ToLower(u.name[:2]) + "*"})
	case 3:
		return "email:" + pick(r, []string{u.email, u.email[:3] + "*"})
	case 4:
		return "role:" + pick(r, []string{"end-user", "agent", "admin"})
	case 5:
		return "external_id:" + pick(r, []string{"ext-1", "EXT-2", "ext-4", "EXT-6"})
	case 6:
		o := pick(r, w.orgs)
		return "organization:" + pick(r, []string{"none", strconv.FormatInt(o.id, 10), `"` + o.name + `"`})
	case 7:
		return "tags:" + pick(r, []string{"vip", "beta", "none", "ch*"})
	}
	return w.timeTerm(r, pick(r, []string{"created", "updated"}))
}

func (w *world) orgTerm(r *rand.Rand) string {
	o := pick(r, w.orgs)
	switch r.IntN(6) {
	case 0, 1:
		return w.textTerm(r, true)
	case 2:
		return "name:" + pick(r, []string{strings.Fields(o.name)[1], `"` + o.name + `"`})
	case 3:
		return "external_id:" + pick(r, []string{"org-1", "ORG-2"})
	case 4:
		return "tags:" + pick(r, []string{"gold", "trial", "none"})
	}
	return w.timeTerm(r, pick(r, []string{"created", "updated"}))
}

func (w *world) groupTerm(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return pick(r, []string{"support", "billing", "tier", "two", "ops", `"tier two"`, "bil*", "3"})
	case 1:
		return "name:" + pick(r, []string{"support", "field", `"field ops"`})
	}
	return w.timeTerm(r, pick(r, []string{"created", "updated"}))
}
