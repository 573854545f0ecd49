package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"tandem/internal/store"
)

// OutsideSyncResult is one update rate of the sharing benchmark between server processes.
type OutsideSyncResult struct {
	Rate     int // target updates per second
	Achieved float64
	N        int   // updates seen on the receiver
	Errors   int64 // updates the sender refused or failed
	P50, P99 time.Duration
	// CPU is each server process's CPU time over the level, the sending processes' first
	// and the receiver's last, from the first update to the sender's empty outbox.
	CPU []time.Duration
	// PGCPU is the PostgreSQL server processes' CPU time over the same span serving both
	// desks, this process's own connections (its polls and reads) left out (0 on SQLite);
	// PGOwn is theirs.
	PGCPU, PGOwn time.Duration
}

// OutsideDrainResult is the backlog drain after the receiving process was down.
type OutsideDrainResult struct {
	Updates int
	// Elapsed is from the receiver's restart (its listening) to the sender's empty
	// outbox; it includes the wait for the first retry (up to --sharing-max-backoff, 1s).
	Elapsed time.Duration
	// FromFirst is from the first update delivered to the empty outbox: the drain itself.
	FromFirst time.Duration
	// CPU is each process's CPU time from the restart to the empty outbox (senders first).
	CPU []time.Duration
	// PGCPU is the PostgreSQL server processes' CPU time over the same span serving both
	// desks, this process's own connections left out (0 on SQLite); PGOwn is theirs.
	PGCPU, PGOwn time.Duration
}

// OutsideSharing is a sending desk (one or more `tandem serve` processes on one
// database, as behind a load balancer) and a receiving desk (one process, its own
// database), with an agreement set up and accepted through the API and 20 tickets
// shared.
type OutsideSharing struct {
	bin       string
	recvDB    OutsideDB
	recvPort  int
	Senders   []*Server
	Receiver  *Server
	clients   []*Client // the sending account through each sending process
	tickets   []int64
	dbA, dbB  *store.DB // read by this process: outbox counts, audit times
	agreement int64
	pgName    string // the PostgreSQL database both desks' schemas are in ("" on SQLite)
}

// sharingFlags are the servers' flags: partners on loopback are allowed, and a partner
// that was down is retried within a second.
var sharingFlags = []string{"--allow-private-partners", "--sharing-max-backoff", "1s"}

// StartOutsideSharing provisions account "acme" on a and "globex" on b with the CLI,
// starts `senders` processes on a and one on b, and sets up the agreement and 20
// shared tickets through the API.
func StartOutsideSharing(bin string, a OutsideDB, senders int, b OutsideDB) (*OutsideSharing, error) {
	ctx := context.Background()
	ea, ta, err := a.Account(bin, "acme")
	if err != nil {
		return nil, err
	}
	eb, tb, err := b.Account(bin, "globex")
	if err != nil {
		return nil, err
	}
	p := &OutsideSharing{bin: bin, recvDB: b, pgName: postgresName(a.URL)}
	if p.dbA, err = a.Open(ctx); err != nil {
		return nil, err
	}
	if p.dbB, err = b.Open(ctx); err != nil {
		p.Stop()
		return nil, err
	}
	port, err := FreePort(0)
	if err != nil {
		p.Stop()
		return nil, err
	}
	p.recvPort, _ = strconv.Atoi(port)
	if p.Receiver, err = b.Serve(bin, p.recvPort, sharingFlags...); err != nil {
		p.Stop()
		return nil, err
	}
	for range senders {
		s, err := a.Serve(bin, 0, sharingFlags...)
		if err != nil {
			p.Stop()
			return nil, err
		}
		p.Senders = append(p.Senders, s)
		p.clients = append(p.clients, OutsideClient(s.Addr, "acme", ea, ta))
	}
	if err := p.setUp(OutsideClient(p.Receiver.Addr, "globex", eb, tb)); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// setUp invites the receiver, accepts there and shares 20 tickets, as an admin would.
func (p *OutsideSharing) setUp(cb *Client) error {
	ca := p.clients[0]
	var inv struct {
		A struct {
			ID int64 `json:"id"`
		} `json:"sharing_agreement"`
	}
	remote := fmt.Sprintf("http://globex.localhost:%d/sharing", p.recvPort)
	if code, err := ca.Do("POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_url": remote}}, &inv); err != nil || code != 201 {
		return fmt.Errorf("invite: %d %v", code, err)
	}
	p.agreement = inv.A.ID
	var list struct {
		L []struct {
			ID int64 `json:"id"`
		} `json:"sharing_agreements"`
	}
	if _, err := cb.Do("GET", "/api/v2/sharing_agreements.json", nil, &list); err != nil || len(list.L) != 1 {
		return fmt.Errorf("receiver agreements: %d, %v", len(list.L), err)
	}
	if code, err := cb.Do("PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", list.L[0].ID), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}, nil); err != nil || code != 200 {
		return fmt.Errorf("accept: %d %v", code, err)
	}
	for i := range 20 {
		var tk struct {
			T struct {
				ID int64 `json:"id"`
			} `json:"ticket"`
		}
		if code, err := ca.Do("POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("Shared %d", i), "comment": map[string]any{"body": "start"}, "sharing_agreement_ids": []int64{p.agreement}}}, &tk); err != nil || code != 201 {
			return fmt.Errorf("create: %d %v", code, err)
		}
		// And with an update, as the in-process benchmark did (some clients share so).
		if code, err := ca.Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk.T.ID), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{p.agreement}}}, nil); err != nil || code != 200 {
			return fmt.Errorf("share: %d %v", code, err)
		}
		p.tickets = append(p.tickets, tk.T.ID)
	}
	return p.waitDrained(time.Minute)
}

// Stop stops every process and closes this process's handles on the databases.
func (p *OutsideSharing) Stop() {
	for _, s := range p.Senders {
		s.Stop()
	}
	if p.Receiver != nil {
		p.Receiver.Stop()
	}
	for _, db := range []*store.DB{p.dbA, p.dbB} {
		if db != nil {
			db.Close()
		}
	}
}

func (p *OutsideSharing) all() []*Server {
	return append(append([]*Server{}, p.Senders...), p.Receiver)
}

// waitDrained waits until the sender's outbox has nothing pending.
func (p *OutsideSharing) waitDrained(limit time.Duration) error {
	return waitUntil(limit, 5*time.Millisecond, "sharing outbox", func() (bool, error) {
		found, err := p.anyPending(context.Background())
		return !found, err
	})
}

// anyPending reports whether the sender's outbox has a pending row: the drain's poll,
// which stops at the first one instead of counting them all.
func (p *OutsideSharing) anyPending(ctx context.Context) (bool, error) {
	var found bool
	err := p.dbA.R().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sharing_outbox WHERE status = 'pending')`).Scan(&found)
	return found, err
}

// pgCPUSince is PostgreSQL's CPU time since before serving the desks, and apart that of
// this process's own connections.
func (p *OutsideSharing) pgCPUSince(before map[int]time.Duration) (desks, own time.Duration) {
	skip := ownBackends(context.Background(), p.dbA)
	for pid := range ownBackends(context.Background(), p.dbB) {
		skip[pid] = true
	}
	all := postgresCPUSince(p.pgName, before, nil)
	desks = postgresCPUSince(p.pgName, before, skip)
	return desks, all - desks
}

// update adds comment body to the i-th update's ticket through sending process i mod n.
func (p *OutsideSharing) update(i int, body string) error {
	code, err := p.clients[i%len(p.clients)].Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", p.tickets[i%len(p.tickets)]), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": body}}}, nil)
	if err == nil && code != 200 {
		err = fmt.Errorf("update: status %d", code)
	}
	return err
}

// Latency updates the shared tickets (a comment each, through the sending processes in
// turn) open loop at each rate for d, waits for the sender's outbox to drain, and
// measures for each comment its sender's audit time (commit) to its receiver's audit
// time (visible), same clock.
//
// Before the first level, one unmeasured second at the highest rate warms the servers
// up: their pools open the connections the levels use (on PostgreSQL, each a new
// backend that fills its catalog caches and prepares the statements on first use). The
// first level measured that warm-up until branch sh12, which made it slower than the
// next level ten times its rate.
func (p *OutsideSharing) Latency(rates []int, d time.Duration) ([]OutsideSyncResult, error) {
	if len(rates) > 0 {
		top := slices.Max(rates)
		openLoop(top, time.Second, func(i int) error { return p.update(i, fmt.Sprintf("warm-up %d at rate %d", i, top)) })
		if err := p.waitDrained(2 * time.Minute); err != nil {
			return nil, err
		}
	}
	var out []OutsideSyncResult
	for _, rate := range rates {
		since := time.Now()
		cpu0, pg0 := cpuOf(p.all()), PostgresBackends(p.pgName)
		// Open loop: issue at the target rate whatever the latency.
		n, errs, took := openLoop(rate, d, func(i int) error { return p.update(i, fmt.Sprintf("update %d at rate %d", i, rate)) })
		achieved := float64(n) / took.Seconds()
		if err := p.waitDrained(2 * time.Minute); err != nil {
			return nil, err
		}
		cpu := cpuSince(p.all(), cpu0)
		pgCPU, pgOwn := p.pgCPUSince(pg0)
		lat, err := p.latencies(since)
		if err != nil {
			return nil, err
		}
		r := OutsideSyncResult{Rate: rate, Achieved: achieved, N: len(lat), Errors: errs, CPU: cpu, PGCPU: pgCPU, PGOwn: pgOwn}
		r.P50, r.P99 = percentiles(lat)
		out = append(out, r)
	}
	return out, nil
}

// latencies matches comments made after since by uuid: the receiver's audit time minus
// the sender's.
func (p *OutsideSharing) latencies(since time.Time) ([]time.Duration, error) {
	ctx := context.Background()
	sent := map[string]int64{}
	rows, err := p.dbA.R().QueryContext(ctx, `SELECT c.uuid, a.created_at FROM ticket_comments c JOIN ticket_audits a ON a.id = c.audit_id WHERE c.created_at >= ?`, store.Micros(since))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var u string
		var at int64
		if err := rows.Scan(&u, &at); err != nil {
			rows.Close()
			return nil, err
		}
		sent[u] = at
	}
	rows.Close()
	// The receiver's comments carry the sender's time to the second: its audits are read
	// whole, as the uuids select.
	rows, err = p.dbB.R().QueryContext(ctx, `SELECT c.uuid, a.created_at FROM ticket_comments c JOIN ticket_audits a ON a.id = c.audit_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var u string
		var at int64
		if err := rows.Scan(&u, &at); err != nil {
			return nil, err
		}
		if s, ok := sent[u]; ok {
			out = append(out, time.Duration(at-s)*time.Microsecond)
		}
	}
	return out, rows.Err()
}

// BacklogDrain stops the receiving process, queues n updates through the sending
// processes in turn, restarts the receiver on its port and times the drain of the
// sender's outbox.
func (p *OutsideSharing) BacklogDrain(n int) (OutsideDrainResult, error) {
	ctx := context.Background()
	p.Receiver.Stop()
	p.Receiver = nil
	for i := range n {
		if err := p.update(i, fmt.Sprintf("queued %d", i)); err != nil {
			return OutsideDrainResult{}, fmt.Errorf("queue update: %w", err)
		}
	}
	queued, err := pending(ctx, p.dbA, "sharing_outbox")
	if err != nil {
		return OutsideDrainResult{}, err
	}
	if p.Receiver, err = p.recvDB.Serve(p.bin, p.recvPort, sharingFlags...); err != nil {
		return OutsideDrainResult{}, err
	}
	cpu0, pg0 := cpuOf(p.all()), PostgresBackends(p.pgName)
	start := time.Now()
	var first time.Time
	err = waitUntil(10*time.Minute, 2*time.Millisecond, "sharing backlog", func() (bool, error) {
		if !first.IsZero() {
			found, err := p.anyPending(ctx)
			return !found, err
		}
		left, err := pending(ctx, p.dbA, "sharing_outbox")
		if left < queued {
			first = time.Now()
		}
		return left == 0, err
	})
	if err != nil {
		return OutsideDrainResult{}, err
	}
	end := time.Now()
	r := OutsideDrainResult{Updates: n, Elapsed: end.Sub(start), FromFirst: end.Sub(first), CPU: cpuSince(p.all(), cpu0)}
	r.PGCPU, r.PGOwn = p.pgCPUSince(pg0)
	return r, nil
}
