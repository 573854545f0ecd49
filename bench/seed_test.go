package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/report"
	"tandem/internal/rules"
	"tandem/internal/search"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// uuidRE matches a comment's uuid in an audit's events (different in each account),
// and userRE a user's id (each account has its own admin).
var (
	uuidRE = regexp.MustCompile(`"comment_uuid":"[0-9a-f]+"`)
	userRE = regexp.MustCompile(`("field_name":"(?:requester_id|submitter_id)","type":"Create","value":)"[0-9]+"`)
)

// TestSeedMatchesAPI: the bulk seeder leaves an account as the ticket write path would.
// The same generated tickets go into one account through SeedRealistic and into another
// through ticket.Service.Create; then every column of their tickets, comments and
// audits (ids and times aside: only whether a time is set), the tag rows, the export
// change log, the report aggregates, the account's counters, the search index (the count
// of a few words) and the default views' counts must agree, and the schema's indexes and
// triggers must be as before the seeding.
func TestSeedMatchesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 24
		mk := func(sub string) (*account.Account, ticket.Actor) {
			var a *account.Account
			u := &identity.User{Name: "Admin " + sub, Email: "admin@" + sub + ".test", Role: identity.Admin, Verified: true}
			if err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				if a, err = account.Create(ctx, tx, sub, sub, account.Enterprise); err != nil {
					return err
				}
				u.AccountID = a.ID
				return identity.Insert(ctx, tx, u)
			}); err != nil {
				t.Fatal(err)
			}
			return a, ticket.Actor{UserID: u.ID, Role: identity.Admin, Name: u.Name}
		}
		seeded, sAdmin := mk("seeded")
		viaAPI, aAdmin := mk("viaapi")
		// The seeder suspends triggers and rebuilds indexes during its load: the schema
		// must be the same after it.
		schema := func() []string { return seedSchema(t, db) }
		before := schema()
		if err := SeedRealistic(ctx, db, seeded.ID, sAdmin.UserID, n, nil); err != nil {
			t.Fatal(err)
		}
		if after := schema(); !slices.Equal(before, after) {
			t.Errorf("the schema's indexes and triggers changed:\nbefore %q\nafter  %q", before, after)
		}
		// levels reads a full-text index's structure record: its levels and segments.
		levels := func(fts string) (nLevel, nSeg uint64, rec []byte) {
			t.Helper()
			if err := db.R().QueryRowContext(ctx, `SELECT block FROM `+fts+`_data WHERE id = 10`).Scan(&rec); err != nil {
				t.Fatal(err)
			}
			r := varintReader{b: rec, i: 4}
			return r.next(), r.next(), rec
		}
		if db.Dialect == store.SQLite {
			// The load's full-text segment was moved up (liftSegment), not merged.
			for _, fts := range []string{"tickets_fts", "ticket_comments_fts"} {
				if nl, ns, rec := levels(fts); nl < 2 || ns != 1 {
					t.Errorf("%s: structure record %x, want one segment above level 0", fts, rec)
				}
			}
		}
		svc := ticket.NewService(db)
		gen := NewRealistic()
		for i := 1; i <= n; i++ {
			rt := gen.Next(int64(i))
			st, tags := ticket.Status(rt.Status), rt.Tags
			p := &ticket.Patch{Subject: &rt.Subject, Status: &st, Tags: &tags, RequesterID: &aAdmin.UserID, Comment: &ticket.CommentInput{Body: rt.Body}}
			if _, err := svc.Create(ctx, viaAPI, aAdmin, p); err != nil {
				t.Fatalf("create %d (%s): %v", i, rt.Status, err)
			}
		}

		skip := map[string]bool{"id": true, "account_id": true, "ticket_id": true, "audit_id": true, "uuid": true, "author_id": true,
			"requester_id": true, "submitter_id": true, "search_tsv": true, "via": true}
		rowsOf := func(table string, acct ids.Account) []string {
			t.Helper()
			rows, err := db.R().QueryContext(ctx, `SELECT * FROM `+table+` WHERE account_id = ? ORDER BY id`, acct)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			var out []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				for i, c := range cols {
					v := vals[i]
					if bs, ok := v.([]byte); ok {
						v = string(bs)
					}
					switch {
					case skip[c]:
						continue
					case strings.HasSuffix(c, "_at"):
						v = v != nil && fmt.Sprint(v) != "0"
					case c == "events":
						v = uuidRE.ReplaceAllString(fmt.Sprint(v), `"comment_uuid":"…"`)
						v = userRE.ReplaceAllString(v.(string), `$1"…"`)
					}
					fmt.Fprintf(&b, "%s=%v ", c, v)
				}
				out = append(out, b.String())
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}
		for _, table := range []string{"tickets", "ticket_comments", "ticket_audits"} {
			got, want := rowsOf(table, seeded.ID), rowsOf(table, viaAPI.ID)
			if len(got) != len(want) {
				t.Fatalf("%s: %d rows seeded, %d through the API", table, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s row %d:\nseeded %s\nAPI    %s", table, i, got[i], want[i])
				}
			}
		}
		one := func(q string, args ...any) string {
			t.Helper()
			var s sql.NullString
			if err := db.R().QueryRowContext(ctx, q, args...).Scan(&s); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return s.String
		}
		// ticket.Service alone has no report hook (the server adds it): the API account's
		// aggregates are built from its rows, as the server's Backfill would.
		if _, err := report.Rebuild(ctx, db, viaAPI.ID); err != nil {
			t.Fatal(err)
		}
		// Derived tables and counters.
		for _, q := range []string{
			`SELECT COUNT(*) FROM report_ticket_facts WHERE account_id = ?`,
			`SELECT version || ' ' || time_zone FROM report_state WHERE account_id = ?`,
			`SELECT COUNT(*) || '/' || COUNT(DISTINCT tag) FROM ticket_tags WHERE account_id = ?`,
			`SELECT COUNT(*) FROM ticket_tags g JOIN tickets t ON t.account_id = g.account_id AND t.id = g.ticket_id WHERE g.account_id = ?`,
			`SELECT COUNT(*) || '/' || COUNT(DISTINCT kind) FROM export_changes WHERE account_id = ?`,
			`SELECT COUNT(*) FROM ticket_field_values WHERE account_id = ?`,
			liveQuery(db),
		} {
			if s, a := one(q, seeded.ID), one(q, viaAPI.ID); s != a {
				t.Errorf("%s: seeded %s, API %s", q, s, a)
			}
		}
		// The report aggregates count the same (days aside: the seeded tickets were
		// created over the last n seconds).
		daily := func(acct ids.Account) []string {
			t.Helper()
			rows, err := db.R().QueryContext(ctx, `SELECT dim, dim_id, kind, k1, k2, name, SUM(n) FROM `+report.DailyCounts(db.Dialect)+` WHERE account_id = ?
				GROUP BY dim, dim_id, kind, k1, k2, name ORDER BY dim, dim_id, kind, k1, k2, name`, acct)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var dim, kind, name string
				var id, k1, k2, sum int64
				if err := rows.Scan(&dim, &id, &kind, &k1, &k2, &name, &sum); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprint(dim, id, kind, k1, k2, name, sum))
			}
			return out
		}
		if got, want := daily(seeded.ID), daily(viaAPI.ID); !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("report_daily:\nseeded %q\nAPI    %q", got, want)
		}
		for _, acct := range []ids.Account{seeded.ID, viaAPI.ID} {
			// Every ticket and audit is in the change log, numbered below the clock.
			if got := one(`SELECT COUNT(*) FROM export_changes x JOIN tickets t ON t.account_id = x.account_id AND t.id = x.row_id WHERE x.account_id = ? AND x.kind = 1 AND x.seq <= `+clockQuery(db), acct, acct); got != fmt.Sprint(n) {
				t.Errorf("account %d: %s tickets in the change log, want %d", acct, got, n)
			}
		}
		// The next ticket created through the write path is numbered after the seeded ones.
		for _, c := range []struct {
			acct  *account.Account
			actor ticket.Actor
		}{{seeded, sAdmin}, {viaAPI, aAdmin}} {
			res, err := svc.Create(ctx, c.acct, c.actor, &ticket.Patch{Subject: ticket.Ptr("next"), RequesterID: &c.actor.UserID, Comment: &ticket.CommentInput{Body: "next"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Ticket.ID != n+1 {
				t.Errorf("account %s: next ticket numbered %d, want %d", c.acct.Subdomain, res.Ticket.ID, n+1)
			}
		}
		if db.Dialect == store.SQLite {
			// FTS5's own check of the indexes against their content, after the seeding and a
			// write on top of it, which left the seeded segment where it was (FTS5 did not
			// write back a structure it held from before the lift).
			for _, fts := range []string{"tickets_fts", "ticket_comments_fts"} {
				if nl, ns, rec := levels(fts); nl < 2 || ns < 2 {
					t.Errorf("%s after a create: structure record %x, want the seeded segment above level 0 and the creates' below", fts, rec)
				}
				if err := db.Write(ctx, func(tx *store.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO `+fts+` (`+fts+`, rank) VALUES ('integrity-check', 1)`)
					return err
				}); err != nil {
					t.Errorf("%s: %v", fts, err)
				}
			}
		}
		// Search: the same counts for a few words (subject, description and comments).
		sr := search.New(db)
		for _, w := range []string{"blender", "refund", "warranty invoice", "type:ticket status<solved"} {
			var got []int
			for _, c := range []struct {
				acct  ids.Account
				actor ticket.Actor
			}{{seeded.ID, sAdmin}, {viaAPI.ID, aAdmin}} {
				q, err := search.Parse(w)
				if err != nil {
					t.Fatal(err)
				}
				res, err := sr.Search(ctx, db.R(), search.Request{Account: c.acct, Actor: c.actor, Query: q, Count: true, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, res.Count)
			}
			if got[0] != got[1] || got[0] == 0 && w == "blender" {
				t.Errorf("search %q: seeded %d, API %d", w, got[0], got[1])
			}
		}
		// The default views count the same.
		rs := rules.New(db, nil, rules.Config{})
		for _, v := range rules.DefaultViews() {
			var got []int64
			for _, c := range []struct {
				acct  ids.Account
				actor ticket.Actor
			}{{seeded.ID, sAdmin}, {viaAPI.ID, aAdmin}} {
				vc, err := rs.CountView(ctx, c.acct, c.actor, v.Conditions, v.Output)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, vc.N)
			}
			if !slices.Equal(got[:1], got[1:]) {
				t.Errorf("view %q: seeded %d, API %d", v.Title, got[0], got[1])
			}
		}
	})
}

// liveQuery reads an account's live ticket count as ticket.LiveCount does.
func liveQuery(db *store.DB) string {
	if db.Dialect == store.Postgres {
		return `SELECT a.live_tickets + COALESCE((SELECT SUM(d.n) FROM live_ticket_deltas d WHERE d.account_id = a.id), 0) FROM accounts a WHERE a.id = ?`
	}
	return `SELECT live_tickets FROM accounts WHERE id = ?`
}

// clockQuery is the last change number handed out to an account (bound to its id):
// PostgreSQL numbers every account's changes from one sequence (migration 0041).
func clockQuery(db *store.DB) string {
	if db.Dialect == store.Postgres {
		return `(SELECT last_value FROM export_seq WHERE ? > 0)`
	}
	return `(SELECT seq FROM export_clock WHERE account_id = ?)`
}

// TestLiftStructure: liftStructure moves a lone segment up and keeps its fields, in both
// versions of the record, and leaves records it does not apply to alone.
func TestLiftStructure(t *testing.T) {
	seg := putVarint(putVarint(putVarint(nil, 7), 1), 5000) // segid 7, pages 1..5000
	v1 := append([]byte{0, 0, 0, 9}, putVarint(putVarint(putVarint(nil, 1), 1), 300)...)
	v1 = append(append(v1, 0, 1), seg...)
	got, ok, err := liftStructure(v1)
	if err != nil || !ok {
		t.Fatalf("v1: %v %v", ok, err)
	}
	want := append([]byte{0, 0, 0, 9}, putVarint(putVarint(putVarint(nil, 8), 1), 300)...)
	want = append(append(want, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), seg...)
	if !slices.Equal(got, want) {
		t.Errorf("v1: got %x, want %x", got, want)
	}
	seg2 := append(slices.Clone(seg), putVarint(putVarint(putVarint(putVarint(putVarint(nil, 0), 0), 0), 0), 1000)...)
	v2 := append([]byte{0, 0, 0, 9, 0xff, 0, 0, 1}, putVarint(putVarint(putVarint(nil, 2), 1), 1<<40)...)
	v2 = append(append(v2, 0, 0, 0, 1), seg2...)
	if got, ok, err := liftStructure(v2); err != nil || !ok || !bytes.HasSuffix(got, append([]byte{0, 1}, seg2...)) || got[8] != 8 {
		t.Errorf("v2: %x %v %v", got, ok, err)
	}
	two := append([]byte{0, 0, 0, 9}, putVarint(putVarint(putVarint(nil, 1), 2), 300)...)
	two = append(append(append(two, 0, 2), seg...), seg...)
	if _, ok, err := liftStructure(two); ok || err != nil {
		t.Errorf("two segments: %v %v", ok, err)
	}
	for _, v := range []uint64{0, 127, 128, 16383, 16384, 1 << 40, 1<<56 - 1, 1 << 56, 1<<64 - 1} {
		r := varintReader{b: putVarint(nil, v)}
		if got := r.next(); got != v || r.err != nil || r.i != len(r.b) {
			t.Errorf("varint %d: read %d (%v, %d of %d bytes)", v, got, r.err, r.i, len(r.b))
		}
	}
}

// BenchmarkCreatesAfterSeed: the CPU of ticket creates right after SeedRealistic has loaded
// 100,000 tickets into a fresh SQLite database and the store is opened again (as a server
// starting on it would): what the seeder leaves in the full-text indexes shows in the
// first creates, which merge whatever FTS5's automerge finds on the levels they write to.
// Reports the CPU a create and the worst create's. The seeding is outside the timer.
// go test -run '^$' -bench CreatesAfterSeed -benchtime 2000x ./bench/
func BenchmarkCreatesAfterSeed(b *testing.B) {
	ctx := context.Background()
	opt := store.Options{Path: filepath.Join(b.TempDir(), "tandem.db")}
	if _, _, err := ProvisionOutside(ctx, opt, "seeded"); err != nil {
		b.Fatal(err)
	}
	var acct ids.Account
	var user ids.User
	func() {
		db, err := store.Open(ctx, opt)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := db.R().QueryRowContext(ctx, `SELECT a.id, u.id FROM accounts a JOIN users u ON u.account_id = a.id WHERE a.subdomain = 'seeded'`).Scan(&acct, &user); err != nil {
			b.Fatal(err)
		}
		if err := SeedRealistic(ctx, db, acct, user, 100000, nil); err != nil {
			b.Fatal(err)
		}
	}()
	db, err := store.Open(ctx, opt)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a, err := account.NewStore(db).ByID(ctx, acct)
	if err != nil {
		b.Fatal(err)
	}
	actor := ticket.Actor{UserID: user, Role: identity.Admin, Name: "Admin"}
	svc := ticket.NewService(db)
	gen := NewRealistic()
	var worst time.Duration
	b.ResetTimer()
	c0 := cpuTime()
	for i := range b.N {
		rt := gen.Next(int64(i + 1))
		st, tags := ticket.Status(rt.Status), rt.Tags
		p := &ticket.Patch{Subject: &rt.Subject, Status: &st, Tags: &tags, RequesterID: &user, Comment: &ticket.CommentInput{Body: rt.Body}}
		c := cpuTime()
		if _, err := svc.Create(ctx, a, actor, p); err != nil {
			b.Fatal(err)
		}
		worst = max(worst, cpuTime()-c)
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/1e6, "cpu-ms/create")
	b.ReportMetric(float64(worst)/1e6, "worst-cpu-ms")
}

// seedSchema lists the database's indexes with their definitions and its triggers with
// their state, which a seeding suspends and rebuilds and must leave as they were.
func seedSchema(t *testing.T, db *store.DB) []string {
	t.Helper()
	q := `SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name`
	if db.Dialect == store.Postgres {
		q = `SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
			UNION ALL SELECT tgname || ' ' || CAST(tgenabled AS TEXT) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`
	}
	return storetest.Strings(t, context.Background(), db, q)
}

// TestSeedPostgresPartsShareNothing: the two transactions of a PostgreSQL load may run
// side by side only because no table is in both (neither then waits for a lock the
// other holds); a comment's uuid is in its audit's events, so both come from one
// generator; every suspended trigger belongs to the part that loads its table, and the
// part that writes the export log holds export_changes.
func TestSeedPostgresPartsShareNothing(t *testing.T) {
	owner := map[string]string{}
	logs := 0
	for _, p := range seedPgParts {
		for _, table := range p.tables {
			if o, ok := owner[table]; ok {
				t.Errorf("%s is in the %s part and the %s part", table, o, p.name)
			}
			owner[table] = p.name
		}
		for _, st := range p.copied(seedBatch{}) {
			if !slices.Contains(p.tables, st.table) {
				t.Errorf("the %s part copies %s, not among its tables", p.name, st.table)
			}
		}
		if p.exportLog {
			logs++
			if !slices.Contains(p.tables, "export_changes") {
				t.Errorf("the %s part writes the export log without export_changes among its tables", p.name)
			}
		}
	}
	if logs != 1 {
		t.Errorf("%d parts write the export log, want 1", logs)
	}
	if owner["ticket_audits"] != owner["ticket_comments"] {
		t.Errorf("audits in the %s part, comments in the %s part: their uuids would differ", owner["ticket_audits"], owner["ticket_comments"])
	}
	for _, table := range []string{"tickets", "ticket_audits", "ticket_comments", "ticket_tags", "export_changes"} {
		if owner[table] == "" {
			t.Errorf("%s is loaded by no part", table)
		}
	}
	for _, tr := range seedTriggers[store.Postgres] {
		if owner[tr[0]] == "" {
			t.Errorf("trigger %s: its table %s is in no part", tr[1], tr[0])
		}
	}
}

// TestSeedPostgresPartFails: when one part of a PostgreSQL load fails (here a trigger of
// the test's refuses a row), SeedRealistic returns that part's own error, the part's
// rows are not in the database, and the schema's indexes and triggers are whole again
// whether or not the other part had committed.
func TestSeedPostgresPartFails(t *testing.T) {
	if !slices.Contains(storetest.Dialects(), store.Postgres) {
		t.Skip("PostgreSQL not configured")
	}
	for _, c := range []struct{ table, part string }{{"tickets", "tickets part"}, {"ticket_comments", "comments part"}} {
		t.Run(c.table, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, store.Postgres)
			var a *account.Account
			u := &identity.User{Name: "Admin", Email: "admin@seeded.test", Role: identity.Admin, Verified: true}
			err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				if a, err = account.Create(ctx, tx, "seeded", "seeded", account.Enterprise); err != nil {
					return err
				}
				u.AccountID = a.ID
				if err := identity.Insert(ctx, tx, u); err != nil {
					return err
				}
				// The row of ticket 2,500 is refused: the part has copied rows before it.
				col := "ticket_id"
				if c.table == "tickets" {
					col = "id"
				}
				if _, err := tx.ExecContext(ctx, `CREATE FUNCTION seed_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN IF NEW.`+col+` = 2500 THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`); err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `CREATE TRIGGER seed_test_refuse BEFORE INSERT ON `+c.table+` FOR EACH ROW EXECUTE FUNCTION seed_test_refuse()`)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			schema := func() []string { return seedSchema(t, db) }
			before := schema()
			err = SeedRealistic(ctx, db, a.ID, u.ID, 3000, nil)
			if err == nil || !strings.Contains(err.Error(), "refused by the test") || !strings.Contains(err.Error(), c.part) {
				t.Fatalf("SeedRealistic = %v, want the %s's own error", err, c.part)
			}
			t.Logf("SeedRealistic: %v", err)
			if after := schema(); !slices.Equal(before, after) {
				t.Errorf("the schema's indexes and triggers changed:\nbefore %q\nafter  %q", before, after)
			}
			var rows int
			if err := db.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if rows != 0 {
				t.Errorf("%s holds %d rows of the failed part", c.table, rows)
			}
		})
	}
}
