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
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/webhook"
)

// OutsideWebhookResult is one change rate of the webhook benchmark against a server
// process.
type OutsideWebhookResult struct {
	// Rate is the target changes/s; Achieved the rate the API took them at; Delivered
	// the rate calls reached the receiver, from the first change to the last call.
	Rate                int
	Achieved, Delivered float64
	N                   int   // calls received
	Errors              int64 // changes the API refused or failed
	P50, P99            time.Duration
	// ServerCPU is the server process's CPU time from the first change to the last call.
	ServerCPU time.Duration
}

// OutsideWebhookDrain is a backlog of calls, queued while the server was stopped,
// drained to the receiver by a freshly started server.
type OutsideWebhookDrain struct {
	Calls     int
	Elapsed   time.Duration // from the server's listening to the last call received
	ServerCPU time.Duration // over Elapsed
}

// OutsideWebhooks is `tandem serve` with account "acme", a webhook to a receiver in
// this process, a trigger that calls it on every ticket change, and 50 tickets made
// through the API.
type OutsideWebhooks struct {
	bin  string
	db   OutsideDB
	Srv  *Server
	c    *Client
	rc   *hookReceiver
	h    *store.DB // this process's handle: the outbox's queuing times
	hook string
	tkts []int64
	acct ids.Account
}

// StartOutsideWebhooks provisions the account with the CLI, starts the server and sets
// up the webhook, the trigger and the tickets through the API.
func StartOutsideWebhooks(bin string, db OutsideDB) (*OutsideWebhooks, error) {
	ctx := context.Background()
	email, token, err := db.Account(bin, "acme")
	if err != nil {
		return nil, err
	}
	w := &OutsideWebhooks{bin: bin, db: db, rc: newHookReceiver()}
	if w.h, err = db.Open(ctx); err != nil {
		w.Stop()
		return nil, err
	}
	acct, err := account.NewStore(w.h).BySubdomain(ctx, "acme")
	if err != nil {
		w.Stop()
		return nil, err
	}
	w.acct = acct.ID
	if w.Srv, err = db.Serve(bin, 0, "--allow-private-partners"); err != nil {
		w.Stop()
		return nil, err
	}
	w.c = OutsideClient(w.Srv.Addr, "acme", email, token)
	var hook struct {
		Webhook struct{ ID string } `json:"webhook"`
	}
	if code, err := w.c.Do("POST", "/api/v2/webhooks", map[string]any{"webhook": map[string]any{"name": "Bench", "endpoint": w.rc.srv.URL,
		"http_method": "POST", "request_format": "json", "status": "active", "subscriptions": []string{webhook.ConditionalTicketEvents}}}, &hook); err != nil || code != 201 {
		w.Stop()
		return nil, fmt.Errorf("create webhook: %d %v", code, err)
	}
	w.hook = hook.Webhook.ID
	body := `{"ticket": "{{ticket.id}}", "comment": "{{ticket.latest_comment}}"}`
	if code, err := w.c.Do("POST", "/api/v2/triggers.json", map[string]any{"trigger": map[string]any{"title": "Bench hook",
		"conditions": map[string]any{"all": []any{map[string]any{"field": "update_type", "operator": "is", "value": "Change"}}},
		"actions":    []any{map[string]any{"field": "notification_webhook", "value": []string{w.hook, body}}}}}, nil); err != nil || code != 201 {
		w.Stop()
		return nil, fmt.Errorf("create trigger: %d %v", code, err)
	}
	for i := range 50 {
		var tk struct {
			T struct {
				ID int64 `json:"id"`
			} `json:"ticket"`
		}
		if code, err := w.c.Do("POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("Hooked %d", i), "comment": map[string]any{"body": "start"}}}, &tk); err != nil || code != 201 {
			w.Stop()
			return nil, fmt.Errorf("create ticket: %d %v", code, err)
		}
		w.tkts = append(w.tkts, tk.T.ID)
	}
	return w, nil
}

// Stop stops the server and the receiver.
func (w *OutsideWebhooks) Stop() {
	if w.Srv != nil {
		w.Srv.Stop()
	}
	w.rc.srv.Close()
	if w.h != nil {
		w.h.Close()
	}
}

// waitFor waits until the receiver has n calls and the outbox has nothing pending.
func (w *OutsideWebhooks) waitFor(n int, limit time.Duration) error {
	return waitUntil(limit, 2*time.Millisecond, fmt.Sprintf("webhooks: %d calls", n), func() (bool, error) {
		if w.rc.count() < n {
			return false, nil
		}
		left, err := pending(context.Background(), w.h, "webhook_outbox")
		return left == 0, err
	})
}

// Latency changes tickets through the API (a comment each, the 50 tickets in turn) open
// loop at each rate for d and measures, for every call, its arrival at the receiver
// minus its row's writing in the change's transaction (same clock).
func (w *OutsideWebhooks) Latency(rates []int, d time.Duration) ([]OutsideWebhookResult, error) {
	ctx := context.Background()
	var out []OutsideWebhookResult
	for _, rate := range rates {
		before := w.rc.count()
		var since int64
		if err := w.h.R().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM webhook_outbox`).Scan(&since); err != nil {
			return nil, err
		}
		cpu0 := w.Srv.CPU()
		start := time.Now()
		n, errs, took := openLoop(rate, d, func(i int) error {
			code, err := w.c.Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", w.tkts[i%len(w.tkts)]), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("event %d at %d/s", i, rate), "public": false}}}, nil)
			if err == nil && code != 200 {
				err = fmt.Errorf("change: status %d", code)
			}
			return err
		})
		achieved := float64(n) / took.Seconds()
		if err := w.waitFor(before+n-int(errs), 2*time.Minute); err != nil {
			return nil, err
		}
		delivered := float64(w.rc.count()-before) / time.Since(start).Seconds()
		cpu := w.Srv.CPU() - cpu0
		lat, err := w.latencies(ctx, since)
		if err != nil {
			return nil, err
		}
		r := OutsideWebhookResult{Rate: rate, Achieved: achieved, Delivered: delivered, N: len(lat), Errors: errs, ServerCPU: cpu}
		r.P50, r.P99 = percentiles(lat)
		out = append(out, r)
	}
	return out, nil
}

// latencies are arrival minus queuing time of the calls queued after row since.
func (w *OutsideWebhooks) latencies(ctx context.Context, since int64) ([]time.Duration, error) {
	rows, err := w.h.R().QueryContext(ctx, `SELECT invocation_id, created_at FROM webhook_outbox WHERE id > ?`, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	w.rc.mu.Lock()
	defer w.rc.mu.Unlock()
	var lat []time.Duration
	for rows.Next() {
		var inv string
		var at int64
		if err := rows.Scan(&inv, &at); err != nil {
			return nil, err
		}
		if got, ok := w.rc.at[inv]; ok {
			lat = append(lat, got.Sub(store.Time(at)))
		}
	}
	slices.Sort(lat)
	return lat, rows.Err()
}

// Drain stops the server, queues n calls in the database (500 to a transaction, on the
// 50 tickets' lanes, as changes would have while the receiver or Tandem was down),
// starts the server again and times until all reached the receiver.
func (w *OutsideWebhooks) Drain(n int) (OutsideWebhookDrain, error) {
	ctx := context.Background()
	w.Srv.Stop()
	w.Srv = nil
	before := w.rc.count()
	body, _ := json.Marshal(map[string]string{"message": "backlog"})
	for i := 0; i < n; {
		err := w.h.Write(ctx, func(tx *store.Tx) error {
			for end := min(i+500, n); i < end; i++ {
				if _, err := webhook.QueueCall(ctx, tx, w.acct, w.hook, webhook.TicketLane(ids.Ticket(w.tkts[i%len(w.tkts)])), string(body)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return OutsideWebhookDrain{}, err
		}
	}
	var err error
	if w.Srv, err = w.db.Serve(w.bin, 0, "--allow-private-partners"); err != nil {
		return OutsideWebhookDrain{}, err
	}
	cpu0 := w.Srv.CPU()
	start := time.Now()
	if err := w.waitFor(before+n, 5*time.Minute); err != nil {
		return OutsideWebhookDrain{}, err
	}
	return OutsideWebhookDrain{Calls: n, Elapsed: time.Since(start), ServerCPU: w.Srv.CPU() - cpu0}, nil
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
