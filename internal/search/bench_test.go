package search

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket"
)

// BenchmarkSearch measures search latency (p50 and p99 of one /search page: the count
// plus the first 100 hits, without rendering) over one generated account:
//
//	TANDEM_BENCH_SEARCH_TICKETS  tickets to generate (default 2000; about 2.5 comments each)
//	TANDEM_BENCH_SEARCH_DB       SQLite file (PostgreSQL: schema) to keep the data in
//	                             between runs (generated when missing, reused when it
//	                             holds the same size)
//	TANDEM_BENCH_SEARCH_DIALECT  postgres to run on TANDEM_TEST_POSTGRES instead of SQLite
//	TANDEM_BENCH_SEARCH_CLIENTS  searches running at once (default 1)
//
// Besides p50 and p99 it reports cpu-ms/search: the CPU time of this process (where
// SQLite runs) and, on PostgreSQL, of the server processes serving its connections
// (those with its application_name; parallel workers, which exit, are not counted), per
// search.
//
// for example
//
//	TANDEM_BENCH_SEARCH_TICKETS=100000 TANDEM_BENCH_SEARCH_DB=/tmp/search100k.db \
//	  go test ./internal/search -run '^$' -bench Search -benchtime 100x
//
// Rows are written with batched INSERTs, so the FTS triggers do the indexing, as they
// would for tickets written through the API.
func BenchmarkSearch(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_SEARCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	clients := 1
	if v, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_SEARCH_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	db, acct := benchDB(b, n)
	ctx := context.Background()
	s := New(db)
	var agent, org, group int64
	var orgName string
	q := db.R()
	if err := q.QueryRowContext(ctx, `SELECT MIN(id) FROM users WHERE account_id = ? AND role = 'agent'`, acct).Scan(&agent); err != nil {
		b.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, `SELECT id, name FROM organizations WHERE account_id = ? ORDER BY id LIMIT 1`, acct).Scan(&org, &orgName); err != nil {
		b.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, `SELECT MIN(id) FROM groups WHERE account_id = ?`, acct).Scan(&group); err != nil {
		b.Fatal(err)
	}
	admin := ticket.Actor{UserID: ids.User(agent), Role: identity.Admin}
	restricted := ticket.Actor{UserID: ids.User(agent), Role: identity.Agent, Restriction: identity.RestrictGroups}
	cases := []struct {
		name, query string
		actor       ticket.Actor
	}{
		{"text/common-word", "please", admin},
		{"text/frequent-word", "printer", admin},
		{"text/mid-word", benchWord(300), admin},
		{"text/rare-word", benchWord(8000), admin},
		{"text/two-words", "printer error", admin},
		{"text/two-common-words", "please help", admin},
		{"text/common-and-rare", "please " + benchWord(8000), admin},
		{"text/subject-and-word", "subject:printer error", admin},
		{"text/phrase", `"printer error"`, admin},
		{"text/prefix-family", "pass*", admin},
		{"text/prefix-short", benchWord(40)[:2] + "*", admin},
		{"text/subject", "subject:printer", admin},
		{"text/negated", "printer -error", admin},
		{"text/restricted-agent", "printer", restricted},
		{"struct/status", "status:open", admin},
		{"struct/status-range", "status<solved", admin},
		{"struct/status-priority", "status:new priority:urgent", admin},
		{"struct/assignee", fmt.Sprintf("assignee:%d status<solved", agent), admin},
		{"struct/tags", "tags:vip", admin},
		{"struct/created", "created>1week", admin},
		{"struct/organization", fmt.Sprintf("organization:%q", strings.ToLower(orgName)), admin},
		{"struct/group-mix", fmt.Sprintf("group:%d -tags:spam priority>=high", group), admin},
		{"struct/custom-field", "custom_field_9001:gold", admin},
		{"struct/restricted-agent", "status:open", restricted},
		{"mixed/text-status", "printer status:open", admin},
		{"mixed/two-words-status", "printer error status:open", admin},
		{"mixed/two-words-assignee", fmt.Sprintf("please help assignee:%d", agent), admin},
		{"mixed/text-tags-created", "refund tags:vip created>3months", admin},
		{"people/user-name", "type:user jane", admin},
		{"people/organization", "type:organization " + strings.Fields(orgName)[0], admin},
		{"people/everything", "jane", admin},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			pq, err := Parse(c.query)
			if err != nil {
				b.Fatal(err)
			}
			req := Request{Account: acct, Actor: c.actor, Query: pq, Now: time.Now(), Limit: 100, Count: true, Desc: true}
			if pq.Kind == "" && !strings.HasPrefix(c.name, "people/") {
				req.Kind = Tickets
			}
			// Each of b.N iterations is one search by each of the clients at once.
			var lat []time.Duration
			var count int
			var mu sync.Mutex
			cpu0 := benchCPU(ctx, db)
			for b.Loop() {
				var wg sync.WaitGroup
				for range clients {
					wg.Go(func() {
						start := time.Now()
						res, err := s.Search(ctx, q, req)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lat = append(lat, time.Since(start))
						count = res.Count
						mu.Unlock()
					})
				}
				wg.Wait()
			}
			reportLatency(b, lat)
			b.ReportMetric(float64(count), "matches")
			if len(lat) > 0 {
				b.ReportMetric(float64((benchCPU(ctx, db)-cpu0).Microseconds())/1000/float64(len(lat)), "cpu-ms/search")
			}
		})
	}
	// The price of indexing: one ticket with two comments per transaction.
	b.Run("write/ticket+2-comments", func(b *testing.B) {
		r := rand.New(rand.NewPCG(9, 9))
		g := newBenchGen(r)
		var next int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tickets WHERE account_id = ?`, acct).Scan(&next); err != nil {
			b.Fatal(err)
		}
		// Leave a kept database as it was.
		first := next + 1
		b.Cleanup(func() {
			_ = db.Write(ctx, func(tx *store.Tx) error {
				for _, t := range []string{"ticket_comments", "ticket_tags"} {
					if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE account_id = ? AND ticket_id >= ?`, acct, first); err != nil {
						return err
					}
				}
				_, err := tx.ExecContext(ctx, `DELETE FROM tickets WHERE account_id = ? AND id >= ?`, acct, first)
				return err
			})
		})
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			next++
			t := g.ticket(next)
			t.comments = t.comments[:min(2, len(t.comments))]
			start := time.Now()
			err := db.Write(ctx, func(tx *store.Tx) error {
				return writeBenchTickets(ctx, tx, acct, []*refTicket{t})
			})
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
}

// benchCPU is the CPU time used so far by this process and, on PostgreSQL, by the
// server backends connected to the benchmark's database (from /proc: the server runs
// on the same machine).
func benchCPU(ctx context.Context, db *store.DB) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	total := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if db.Dialect != store.Postgres {
		return total
	}
	// Only this benchmark's connections (pgSchema names them): other tests may use the
	// same database at the same time.
	rows, err := db.R().QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = current_setting('application_name')`)
	if err != nil {
		return total
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime are the 12th and
		// 13th, in clock ticks (100 a second on Linux).
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			total += time.Duration(u+s) * 10 * time.Millisecond
		}
	}
	return total
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// benchDB opens (or generates) the benchmark database.
func benchDB(b *testing.B, n int) (*store.DB, ids.Account) {
	ctx := context.Background()
	d := store.SQLite
	if os.Getenv("TANDEM_BENCH_SEARCH_DIALECT") == "postgres" {
		d = store.Postgres
	}
	var db *store.DB
	path := os.Getenv("TANDEM_BENCH_SEARCH_DB")
	if path != "" {
		opt := store.Options{Path: path}
		if d == store.Postgres {
			opt = pgSchema(b, path)
		}
		var err error
		if db, err = store.Open(ctx, opt); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		var size int
		var acct ids.Account
		err = db.R().QueryRowContext(ctx, `SELECT tickets, account_id FROM search_bench_meta`).Scan(&size, &acct)
		if err == nil && size == n {
			return db, acct
		}
		if err == nil {
			b.Fatalf("%s holds %d tickets, not %d; remove it or choose another file", path, size, n)
		}
	} else {
		db = storetest.Open(b, d)
	}
	start := time.Now()
	acct := generateBench(b, db, n)
	b.Logf("generated %d tickets on %s in %s", n, d, time.Since(start).Round(time.Second))
	return db, acct
}

// pgSchema returns options for a kept PostgreSQL schema on TANDEM_TEST_POSTGRES.
func pgSchema(b *testing.B, schema string) store.Options {
	base := storetest.PostgresURL()
	if base == "" {
		b.Skip("TANDEM_TEST_POSTGRES not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{schema}.Sanitize()); err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", "tandem-bench-search")
	u.RawQuery = q.Encode()
	return store.Options{URL: u.String()}
}

// benchWords are the most frequent words (rank 0 first), then made-up ones.
var benchWords = strings.Fields(`the to and i is my a it not for you please on this can we have with help
	printer error account login password order refund shipping
	invoice payment email update issue problem thanks customer support ticket question request
	broken slow crash install mobile app website page report billing charge cancel subscription
	delivery address phone number reset access user admin settings passport passwords passage`)

var syllables = strings.Fields("ka lo mi ne su ta ri po ve du za fe gi ho ju")

// benchWord is the word of a frequency rank.
func benchWord(rank int) string {
	if rank < len(benchWords) {
		return benchWords[rank]
	}
	var b strings.Builder
	for n := rank; ; n /= len(syllables) {
		b.WriteString(syllables[n%len(syllables)])
		if n < len(syllables) {
			break
		}
	}
	return b.String()
}

type benchGen struct {
	r      *rand.Rand
	zipf   *rand.Zipf
	users  []int64
	agents []int64
	orgs   []int64
	groups []int64
	now    int64
}

func newBenchGen(r *rand.Rand) *benchGen {
	return &benchGen{r: r, zipf: rand.NewZipf(r, 1.07, 2, 20000), now: store.Micros(time.Now())}
}

func (g *benchGen) text(min, max int) string {
	n := min + g.r.IntN(max-min+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = benchWord(int(g.zipf.Uint64()))
	}
	return strings.Join(ws, " ")
}

func (g *benchGen) ticket(id int64) *refTicket {
	r := g.r
	created := g.now - r.Int64N(int64(2*365*24*time.Hour/time.Microsecond))
	t := &refTicket{id: id, subject: g.text(3, 8), desc: g.text(10, 40), created: created, updated: created + r.Int64N(g.now-created+1),
		status: string(ticket.Statuses[min(5, r.IntN(8))]), via: pick(r, []int{0, 4, 5, 50}), custom: map[string]any{}}
	if len(g.users) > 0 {
		t.requester, t.submitter = pick(r, g.users), pick(r, g.users)
	}
	if len(g.agents) > 0 && r.IntN(5) > 0 {
		t.assignee = pick(r, g.agents)
	}
	if len(g.orgs) > 0 && r.IntN(2) == 0 {
		t.org = pick(r, g.orgs)
	}
	if len(g.groups) > 0 && r.IntN(4) > 0 {
		t.group = pick(r, g.groups)
	}
	if r.IntN(3) > 0 {
		t.priority = pick(r, ticket.Priorities)
	}
	if r.IntN(2) == 0 {
		t.typ = pick(r, ticket.Types)
	}
	for range r.IntN(4) {
		if tag := fmt.Sprintf("tag%d", r.IntN(40)); !slices.Contains(t.tags, tag) {
			t.tags = append(t.tags, tag)
		}
	}
	if r.IntN(20) == 0 {
		t.tags = append(t.tags, "vip")
	}
	if t.status == "solved" || t.status == "closed" {
		t.solved = t.updated
	}
	if r.IntN(10) == 0 {
		t.custom["9001"] = pick(r, []string{"gold", "silver"})
	}
	t.comments = append(t.comments, refComment{body: t.desc})
	for range r.IntN(4) {
		t.comments = append(t.comments, refComment{body: g.text(5, 40)})
	}
	return t
}

// writeBenchTickets inserts tickets and lets the database number the comments.
func writeBenchTickets(ctx context.Context, tx *store.Tx, acct ids.Account, ts []*refTicket) error {
	var trows, tagRows, crows [][]any
	for _, t := range ts {
		tags := t.tags
		if tags == nil {
			tags = []string{}
		}
		trows = append(trows, []any{acct, t.id, nullStr(t.typ), t.subject, t.desc, nullStr(t.priority), t.status, t.requester, t.submitter,
			nullID(t.assignee), nullID(t.org), nullID(t.group), jsonText(tags), jsonText(t.custom), t.via, t.due, 0, t.created, t.updated, t.solved})
		for _, tag := range t.tags {
			tagRows = append(tagRows, []any{acct, t.id, tag})
		}
		for i, c := range t.comments {
			crows = append(crows, []any{acct, t.id, 0, t.requester, c.body, c.body, c.body, true, fmt.Sprintf("%d-%d", t.id, i), t.created})
		}
	}
	if err := insertRows(ctx, tx, "tickets", ticketCols, trows); err != nil {
		return err
	}
	if err := insertRows(ctx, tx, "ticket_tags", []string{"account_id", "ticket_id", "tag"}, tagRows); err != nil {
		return err
	}
	return insertRows(ctx, tx, "ticket_comments", strings.Split("account_id, ticket_id, audit_id, author_id, body, html_body, plain_body, public, uuid, created_at", ", "), crows)
}

// generateBench writes one account with n tickets, 5% as many end users, 50 agents,
// 200 organizations and 10 groups.
func generateBench(b *testing.B, db *store.DB, n int) ids.Account {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(42, uint64(n)))
	g := newBenchGen(r)
	var acct ids.Account
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if acct, err = insertAccount(ctx, tx, "bench"); err != nil {
			return err
		}
		for i := range 200 {
			var id int64
			name := fmt.Sprintf("%s %s %d", strings.ToUpper(pick(r, lastNames)[:1])+pick(r, lastNames)[1:], pick(r, []string{"Inc", "GmbH", "Ltd", "Co"}), i)
			if err := tx.QueryRowContext(ctx, `INSERT INTO organizations (account_id, name, name_lower, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				acct, name, strings.ToLower(name), g.now, g.now).Scan(&id); err != nil {
				return err
			}
			g.orgs = append(g.orgs, id)
		}
		for i := range 10 {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO groups (account_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`, acct, fmt.Sprintf("Group %d", i), g.now, g.now).Scan(&id); err != nil {
				return err
			}
			g.groups = append(g.groups, id)
		}
		for i := range 50 + max(100, n/20) {
			role := "end-user"
			if i < 50 {
				role = "agent"
			}
			first, last := pick(r, firstNames), pick(r, lastNames)
			email := fmt.Sprintf("%s.%s%d@example%d.com", first, strings.ReplaceAll(last, "'", ""), i, i%300)
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO users (account_id, name, email, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				acct, first+" "+last, email, role, g.now, g.now).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_identities (account_id, user_id, type, value, created_at, updated_at) VALUES (?, ?, 'email', ?, 0, 0)`, acct, id, email); err != nil {
				return err
			}
			if role == "agent" {
				g.agents = append(g.agents, id)
				if _, err := tx.ExecContext(ctx, `INSERT INTO group_memberships (account_id, user_id, group_id, created_at, updated_at) VALUES (?, ?, ?, 0, 0)`, acct, id, g.groups[i%10]); err != nil {
					return err
				}
			} else {
				g.users = append(g.users, id)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	for lo := 1; lo <= n; lo += batch {
		var ts []*refTicket
		for id := lo; id < lo+batch && id <= n; id++ {
			ts = append(ts, g.ticket(int64(id)))
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return writeBenchTickets(ctx, tx, acct, ts) }); err != nil {
			b.Fatal(err)
		}
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		stmts := []string{`CREATE TABLE search_bench_meta (tickets BIGINT, account_id BIGINT)`}
		if db.Dialect == store.Postgres || os.Getenv("TANDEM_BENCH_SEARCH_ANALYZE") != "" {
			// PostgreSQL's autovacuum analyzes a table this size within a minute; SQLite
			// only ever has statistics when someone runs ANALYZE.
			stmts = append(stmts, `ANALYZE`)
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO search_bench_meta (tickets, account_id) VALUES (?, ?)`, n, acct)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return acct
}
