package bench

import (
	"context"
	"fmt"
	"sort"
	"time"

	"tandem/internal/account"
	"tandem/internal/store"
)

// SyncResult is sync latency at one update rate.
type SyncResult struct {
	Rate     int // target updates per second
	Achieved float64
	N        int
	P50, P99 time.Duration
	// CPU is this process's CPU time over the level (every server and the load
	// generator); PostgreSQL's own processes are not in it.
	CPU time.Duration
}

// CPUPerUpdate is the process's CPU time per update delivered.
func (r SyncResult) CPUPerUpdate() time.Duration { return perItem(r.CPU, r.N) }

// sharedPair is a sender and a receiver with an accepted agreement and shared tickets.
// The sender may run as several servers on one database (senders), as several processes
// behind a load balancer would: updates go to each in turn, and every one's delivery
// queue sends.
type sharedPair struct {
	a, b       *Desk
	ca, cb     *Client
	senders    []*Desk
	clients    []*Client // the sender's account, through each of senders
	tickets    []int64
	dbA, dbB   *store.DB
	agreementA int64
}

// newSharedPair starts the sender on dbA (and one more sender server on each of more,
// the same database opened again) and the receiver on dbB.
func newSharedPair(dbA, dbB *store.DB, tickets int, more ...*store.DB) (*sharedPair, error) {
	a, err := StartDesk(dbA)
	if err != nil {
		return nil, err
	}
	b, err := StartDesk(dbB)
	if err != nil {
		a.Stop()
		return nil, err
	}
	p := &sharedPair{a: a, b: b, dbA: dbA, dbB: dbB, senders: []*Desk{a}}
	if p.ca, err = a.NewAccount("acme", account.Enterprise); err != nil {
		return nil, err
	}
	p.clients = []*Client{p.ca}
	for _, db := range more {
		d, err := StartDesk(db)
		if err != nil {
			p.stop()
			return nil, err
		}
		p.senders = append(p.senders, d)
		p.clients = append(p.clients, p.ca.via(d))
	}
	if p.cb, err = b.NewAccount("globex", account.Enterprise); err != nil {
		return nil, err
	}
	var inv struct {
		A struct {
			ID int64 `json:"id"`
		} `json:"sharing_agreement"`
	}
	if code, err := p.ca.Do("POST", "/api/v2/sharing_agreements.json", map[string]any{"sharing_agreement": map[string]any{"remote_url": "http://globex.localhost:" + b.Port() + "/sharing"}}, &inv); err != nil || code != 201 {
		return nil, fmt.Errorf("invite: %d %v", code, err)
	}
	p.agreementA = inv.A.ID
	var list struct {
		L []struct {
			ID int64 `json:"id"`
		} `json:"sharing_agreements"`
	}
	if _, err := p.cb.Do("GET", "/api/v2/sharing_agreements.json", nil, &list); err != nil || len(list.L) != 1 {
		return nil, fmt.Errorf("receiver agreements: %v", err)
	}
	if code, err := p.cb.Do("PUT", fmt.Sprintf("/api/v2/sharing_agreements/%d.json", list.L[0].ID), map[string]any{"sharing_agreement": map[string]any{"status": "accepted"}}, nil); err != nil || code != 200 {
		return nil, fmt.Errorf("accept: %d %v", code, err)
	}
	for i := 0; i < tickets; i++ {
		var tk struct {
			T struct {
				ID int64 `json:"id"`
			} `json:"ticket"`
		}
		if code, err := p.ca.Do("POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("Shared %d", i), "comment": map[string]any{"body": "start"}, "sharing_agreement_ids": []int64{p.agreementA}}}, &tk); err != nil || code != 201 {
			return nil, fmt.Errorf("create: %d %v", code, err)
		}
		// Share with an update: create with sharing_agreement_ids is not enough for all clients.
		if code, err := p.ca.Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", tk.T.ID), map[string]any{"ticket": map[string]any{"sharing_agreement_ids": []int64{p.agreementA}}}, nil); err != nil || code != 200 {
			return nil, fmt.Errorf("share: %d %v", code, err)
		}
		p.tickets = append(p.tickets, tk.T.ID)
	}
	if err := p.waitDrained(time.Minute); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *sharedPair) stop() {
	for _, d := range p.senders {
		d.Stop()
	}
	p.b.Stop()
}

// waitDrained waits until the sender's outbox (one table, whichever server wrote it) has
// nothing pending.
func (p *sharedPair) waitDrained(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if p.a.Srv.Sharing.Drained(context.Background()) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("outbox not drained after %s", limit)
}

// latencies matches comments by uuid: the sender's audit time (commit) against the
// receiver's audit time (visible), for comments created after since.
func (p *sharedPair) latencies(since time.Time) ([]time.Duration, error) {
	ctx := context.Background()
	sent := map[string]int64{}
	rows, err := p.dbA.R().QueryContext(ctx, `SELECT c.uuid, a.created_at FROM ticket_comments c JOIN ticket_audits a ON a.id = c.audit_id WHERE c.created_at >= ?`, store.Micros(since))
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var u string
		var at int64
		rows.Scan(&u, &at)
		sent[u] = at
	}
	rows.Close()
	rows, err = p.dbB.R().QueryContext(ctx, `SELECT c.uuid, a.created_at FROM ticket_comments c JOIN ticket_audits a ON a.id = c.audit_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var u string
		var at int64
		rows.Scan(&u, &at)
		if s, ok := sent[u]; ok {
			out = append(out, time.Duration(at-s)*time.Microsecond)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, rows.Err()
}

// SyncLatency measures commit-to-visible latency between two servers at each rate. Each
// of more is the sender's database opened again: a second sending server on it, and the
// updates go to the sending servers in turn.
func SyncLatency(dbA, dbB *store.DB, rates []int, d time.Duration, more ...*store.DB) ([]SyncResult, error) {
	p, err := newSharedPair(dbA, dbB, 20, more...)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	var out []SyncResult
	for _, rate := range rates {
		since := time.Now()
		cpu0 := cpuTime()
		interval := time.Second / time.Duration(rate)
		n := int(d.Seconds() * float64(rate))
		sem := make(chan struct{}, 64)
		start := time.Now()
		for i := 0; i < n; i++ {
			// Open loop: issue at the target rate whatever the latency.
			if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
				time.Sleep(wait)
			}
			sem <- struct{}{}
			go func(i int) {
				defer func() { <-sem }()
				id := p.tickets[i%len(p.tickets)]
				p.clients[i%len(p.clients)].Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("update %d at rate %d", i, rate)}}}, nil)
			}(i)
		}
		for i := 0; i < cap(sem); i++ {
			sem <- struct{}{}
		}
		achieved := float64(n) / time.Since(start).Seconds()
		if err := p.waitDrained(2 * time.Minute); err != nil {
			return nil, err
		}
		cpu := cpuTime() - cpu0
		lat, err := p.latencies(since)
		if err != nil {
			return nil, err
		}
		r := SyncResult{Rate: rate, Achieved: achieved, N: len(lat), CPU: cpu}
		if len(lat) > 0 {
			r.P50, r.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		}
		out = append(out, r)
	}
	return out, nil
}

// DrainResult is the backlog drain after an outage.
type DrainResult struct {
	Updates int
	// Elapsed is from the receiver's restart to the empty outbox; it includes the wait
	// for the first retry (up to the sender's maximum backoff, a second).
	Elapsed time.Duration
	// FromFirst is from the first update delivered to the empty outbox: the drain itself.
	FromFirst time.Duration
	CPU       time.Duration // this process's, from the restart to the empty outbox
}

// BacklogDrain stops the receiver, queues n updates (through each sending server in
// turn: dbA and each of more, the same database opened again), restarts it and times the
// drain.
func BacklogDrain(dbA, dbB *store.DB, n int, more ...*store.DB) (DrainResult, error) {
	p, err := newSharedPair(dbA, dbB, 20, more...)
	if err != nil {
		return DrainResult{}, err
	}
	defer func() {
		for _, d := range p.senders {
			d.Stop()
		}
	}()
	addr := p.b.Addr
	p.b.Stop()
	for i := 0; i < n; i++ {
		id := p.tickets[i%len(p.tickets)]
		if code, err := p.clients[i%len(p.clients)].Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("queued %d", i)}}}, nil); err != nil || code != 200 {
			return DrainResult{}, fmt.Errorf("queue update: %d %v", code, err)
		}
	}
	b, err := restartDesk(dbB, addr)
	if err != nil {
		return DrainResult{}, err
	}
	defer b.Stop()
	ctx := context.Background()
	cpu0 := cpuTime()
	start := time.Now()
	var first time.Time
	deadline := start.Add(10 * time.Minute)
	queued := -1
	for {
		var pending int
		if err := dbA.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM sharing_outbox WHERE status = 'pending'`).Scan(&pending); err != nil {
			return DrainResult{}, err
		}
		if queued < 0 {
			queued = pending
		}
		if first.IsZero() && pending < queued {
			first = time.Now()
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return DrainResult{}, fmt.Errorf("outbox not drained after 10 minutes: %d pending", pending)
		}
		time.Sleep(2 * time.Millisecond)
	}
	end := time.Now()
	return DrainResult{Updates: n, Elapsed: end.Sub(start), FromFirst: end.Sub(first), CPU: cpuTime() - cpu0}, nil
}
