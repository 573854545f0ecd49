package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
	"tandem/internal/webhook"
)

// WebhookResult is one load level of the webhook benchmark.
type WebhookResult struct {
	// Rate is the target events/s; Achieved the rate the changes were committed at;
	// Delivered the rate calls reached the receiver, over the whole run.
	Rate                int
	Achieved, Delivered float64
	N                   int
	P50, P99            time.Duration
	// CPU is the process's CPU time over the level (server, queue, receiver and load
	// generator share the process): per call, the figure the machine's other load does
	// not inflate.
	CPU time.Duration
}

// CPUPerCall is the process's CPU time per call delivered.
func (r WebhookResult) CPUPerCall() time.Duration { return perItem(r.CPU, r.N) }

// perItem divides a CPU time by a count (0 for none).
func perItem(cpu time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// WebhookDrainResult is a backlog of calls drained to the receiver.
type WebhookDrainResult struct {
	Calls   int
	Elapsed time.Duration
	CPU     time.Duration // the process's, over the drain
	// Claims is the queue's claim transactions over the drain.
	Claims int64
}

// hookReceiver is a loopback endpoint that notes when each invocation arrived.
type hookReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	at  map[string]time.Time
}

func newHookReceiver() *hookReceiver {
	r := &hookReceiver{at: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		r.mu.Lock()
		r.at[req.Header.Get("X-Zendesk-Webhook-Invocation-Id")] = now
		r.mu.Unlock()
	}))
	return r
}

func (r *hookReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}

// webhookRig is a server with an account, 50 tickets, a webhook to a loopback receiver
// and a trigger that calls it on every ticket change.
type webhookRig struct {
	d      *Desk
	acct   *account.Account
	admin  ids.User
	hookID string
	rc     *hookReceiver
	ids    []ids.Ticket
}

func newWebhookRig(db *store.DB) (*webhookRig, error) {
	ctx := context.Background()
	d, err := StartDesk(db)
	if err != nil {
		return nil, err
	}
	rg := &webhookRig{d: d, rc: newHookReceiver()}
	c, err := d.NewAccount("acme", account.Enterprise)
	if err != nil {
		return nil, err
	}
	if rg.acct, err = d.Srv.Accounts.BySubdomain(ctx, "acme"); err != nil {
		return nil, err
	}
	var hook struct {
		Webhook struct{ ID string } `json:"webhook"`
	}
	if code, err := c.Do("POST", "/api/v2/webhooks", map[string]any{"webhook": map[string]any{"name": "Bench", "endpoint": rg.rc.srv.URL,
		"http_method": "POST", "request_format": "json", "status": "active", "subscriptions": []string{webhook.ConditionalTicketEvents}}}, &hook); err != nil || code != 201 {
		return nil, fmt.Errorf("create webhook: %d %v", code, err)
	}
	rg.hookID = hook.Webhook.ID
	body := `{"ticket": "{{ticket.id}}", "comment": "{{ticket.latest_comment}}"}`
	if code, err := c.Do("POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Bench hook",
		"conditions": map[string]any{"all": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Change"}}},
		"actions":    []any{map[string]any{"field": "notification_webhook", "value": []string{rg.hookID, body}}}}}, nil); err != nil || code != 201 {
		return nil, fmt.Errorf("create trigger: %d %v", code, err)
	}
	if err := db.R().QueryRowContext(ctx, `SELECT id FROM users WHERE account_id = ? AND role = 'admin'`, rg.acct.ID).Scan(&rg.admin); err != nil {
		return nil, err
	}
	if err := SeedTickets(ctx, db, rg.acct.ID, rg.admin, 50); err != nil {
		return nil, err
	}
	// Every ticket open, so that each change is allowed (closed tickets refuse them).
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'open' WHERE account_id = ?`, rg.acct.ID)
		return err
	}); err != nil {
		return nil, err
	}
	for i := 1; i <= 50; i++ {
		rg.ids = append(rg.ids, ids.Ticket(i))
	}
	return rg, nil
}

func (rg *webhookRig) stop() {
	rg.d.Stop()
	rg.rc.srv.Close()
}

// waitFor waits until the receiver has n calls and the queue is empty.
func (rg *webhookRig) waitFor(n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for rg.rc.count() < n || !rg.d.Srv.Webhooks.Drained(context.Background()) {
		if time.Now().After(deadline) {
			return fmt.Errorf("webhooks: %d of %d calls delivered after %s", rg.rc.count(), n, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// WebhookLatency changes tickets through the ticket write path (a comment each, 50
// tickets in turn) at each target rate for d, open loop, and measures for every call
// the time from its row's write in the change's transaction to its arrival at a
// loopback receiver.
func WebhookLatency(db *store.DB, rates []int, d time.Duration) ([]WebhookResult, error) {
	rg, err := newWebhookRig(db)
	if err != nil {
		return nil, err
	}
	defer rg.stop()
	ctx := context.Background()
	actor := ticket.Actor{UserID: rg.admin, Role: identity.Admin, Name: "Bench"}
	var out []WebhookResult
	for _, rate := range rates {
		before := rg.rc.count()
		var since int64
		_ = db.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM webhook_outbox`).Scan(&since)
		n := int(d.Seconds() * float64(rate))
		interval := time.Second / time.Duration(rate)
		sem := make(chan struct{}, 64)
		var failed sync.Once
		var werr error
		cpu0 := cpuTime()
		start := time.Now()
		for i := 0; i < n; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
				time.Sleep(wait)
			}
			sem <- struct{}{}
			go func(i int) {
				defer func() { <-sem }()
				body := fmt.Sprintf("event %d at %d/s", i, rate)
				if _, err := rg.d.Srv.Tickets.Update(ctx, rg.acct, actor, rg.ids[i%len(rg.ids)], &ticket.Patch{Comment: &ticket.CommentInput{Body: body}}); err != nil {
					failed.Do(func() { werr = err })
				}
			}(i)
		}
		for i := 0; i < cap(sem); i++ {
			sem <- struct{}{}
		}
		if werr != nil {
			return nil, werr
		}
		achieved := float64(n) / time.Since(start).Seconds()
		if err := rg.waitFor(before+n, 2*time.Minute); err != nil {
			return nil, err
		}
		delivered := float64(n) / time.Since(start).Seconds()
		cpu := cpuTime() - cpu0
		lat, err := rg.latencies(ctx, since)
		if err != nil {
			return nil, err
		}
		r := WebhookResult{Rate: rate, Achieved: achieved, Delivered: delivered, N: len(lat), CPU: cpu}
		if len(lat) > 0 {
			r.P50, r.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
		}
		out = append(out, r)
	}
	return out, nil
}

// latencies are arrival minus queuing time of the calls queued after row since, sorted.
func (rg *webhookRig) latencies(ctx context.Context, since int64) ([]time.Duration, error) {
	rows, err := rg.d.DB.R().QueryContext(ctx, `SELECT invocation_id, created_at FROM webhook_outbox WHERE id > ?`, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rg.rc.mu.Lock()
	defer rg.rc.mu.Unlock()
	var lat []time.Duration
	for rows.Next() {
		var inv string
		var at int64
		if err := rows.Scan(&inv, &at); err != nil {
			return nil, err
		}
		if got, ok := rg.rc.at[inv]; ok {
			lat = append(lat, got.Sub(store.Time(at)))
		}
	}
	slices.Sort(lat)
	return lat, rows.Err()
}

// WebhookDrain queues n calls (500 to a transaction, on the 50 tickets' lanes) as
// fast as it can and times until all reached the receiver: the queue's throughput.
func WebhookDrain(db *store.DB, n int) (WebhookDrainResult, error) {
	rg, err := newWebhookRig(db)
	if err != nil {
		return WebhookDrainResult{}, err
	}
	defer rg.stop()
	ctx := context.Background()
	body, _ := json.Marshal(map[string]string{"message": "backlog"})
	cpu0, claims0 := cpuTime(), rg.d.Srv.Webhooks.Claims()
	start := time.Now()
	for i := 0; i < n; {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for end := min(i+500, n); i < end; i++ {
				if _, err := webhook.QueueCall(ctx, tx, rg.acct.ID, rg.hookID, webhook.TicketLane(rg.ids[i%len(rg.ids)]), string(body)); err != nil {
					return err
				}
			}
			tx.AfterCommit(rg.d.Srv.Webhooks.Wake)
			return nil
		})
		if err != nil {
			return WebhookDrainResult{}, err
		}
	}
	if err := rg.waitFor(n, 5*time.Minute); err != nil {
		return WebhookDrainResult{}, err
	}
	return WebhookDrainResult{Calls: n, Elapsed: time.Since(start), CPU: cpuTime() - cpu0, Claims: rg.d.Srv.Webhooks.Claims() - claims0}, nil
}
