package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store"
)

// livePassword is the web password of the live benchmarks' admin.
const livePassword = "correct horse battery"

// LiveResult is commit-to-event latency at one update rate.
type LiveResult struct {
	Rate     int // target ticket updates per second
	Achieved float64
	N        int // events received
	Resyncs  int // times the stream said it lost events
	P50, P99 time.Duration
}

// webSession signs the account's admin in through the sign-in form and returns the
// session cookie.
func webSession(d *Desk, sub string) (string, error) {
	host := sub + ".localhost:" + d.Port()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	req, _ := http.NewRequest("GET", "http://"+d.Addr+"/login", nil)
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("sign-in form has no token")
	}
	form := url.Values{"email": {"admin@" + sub + ".test"}, "password": {livePassword}, "csrf_token": {string(m[1])}}
	req, _ = http.NewRequest("POST", "http://"+d.Addr+"/login", strings.NewReader(form.Encode()))
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "tandem_session" && c.Value != "" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("sign-in: status %d, no session", resp.StatusCode)
}

// liveAccount provisions the account with a web password for its admin.
func liveAccount(d *Desk, sub string) (*Client, error) {
	return d.provision(server.NewAccount{Subdomain: sub, Plan: account.Enterprise,
		AdminEmail: "admin@" + sub + ".test", AdminName: "Admin", AdminPassword: livePassword})
}

// LiveLatency measures commit-to-event latency: ticket updates go through the API of
// one server (on writeDB) at each rate, and an agent's event stream on another server
// (on readDB: the same database opened again, as a second process would) receives
// them. Latency is the stream's receive time minus the event's time, taken in the
// write transaction just before commit (same clock). With one SQLite database pass the
// same db twice: one server then does both.
func LiveLatency(writeDB, readDB *store.DB, rates []int, d time.Duration) ([]LiveResult, error) {
	w, err := StartDesk(writeDB)
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	r := w
	if readDB != writeDB {
		if r, err = StartDesk(readDB); err != nil {
			return nil, err
		}
		defer r.Stop()
	}
	<-r.Srv.Live.Ready()
	c, err := liveAccount(w, "acme")
	if err != nil {
		return nil, err
	}
	var tickets []int64
	for i := 0; i < 20; i++ {
		var out struct {
			T struct {
				ID int64 `json:"id"`
			} `json:"ticket"`
		}
		if code, err := c.Do("POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": fmt.Sprintf("Live %d", i), "comment": map[string]any{"body": "start"}}}, &out); err != nil || code != 201 {
			return nil, fmt.Errorf("create: %d %v", code, err)
		}
		tickets = append(tickets, out.T.ID)
	}
	cookie, err := webSession(r, "acme")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+r.Addr+"/agent/events", nil)
	req.Host = "acme.localhost:" + r.Port()
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("event stream: status %d", resp.StatusCode)
	}
	var mu sync.Mutex
	var lat []time.Duration
	resyncs := 0
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if line == "event: resync" {
				mu.Lock()
				resyncs++
				mu.Unlock()
			}
			if !strings.HasPrefix(line, "data: ") {
				continue
			}
			now := time.Now()
			var ev struct {
				Kind string    `json:"kind"`
				At   time.Time `json:"at"`
			}
			if json.Unmarshal([]byte(line[6:]), &ev) == nil && ev.Kind == "ticket" {
				mu.Lock()
				lat = append(lat, now.Sub(ev.At))
				mu.Unlock()
			}
		}
	}()
	var out []LiveResult
	for _, rate := range rates {
		mu.Lock()
		lat, resyncs = lat[:0], 0
		mu.Unlock()
		sent := paced(rate, d, 16, func(i int) error {
			id := tickets[i%len(tickets)]
			code, err := c.Do("PUT", fmt.Sprintf("/api/v2/tickets/%d.json", id), map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": fmt.Sprintf("update %d", i), "public": false}}}, nil)
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			return err
		})
		// Let the last events arrive.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(lat)
			mu.Unlock()
			if n >= sent {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		s := summarize(append([]time.Duration(nil), lat...), 0, d)
		lost := resyncs
		mu.Unlock()
		out = append(out, LiveResult{Rate: rate, Achieved: float64(sent) / d.Seconds(), N: s.N, Resyncs: lost, P50: s.P50, P99: s.P99})
	}
	return out, nil
}

// paced calls op rate times a second for d, from up to workers goroutines, and returns
// how many calls succeeded.
func paced(rate int, d time.Duration, workers int, op func(i int) error) int {
	jobs := make(chan int, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if op(i) == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return ok
}

// IdleResult is the cost of idle event streams on one server.
type IdleResult struct {
	Conns       int
	BytesPer    float64       // heap and stacks of the process, per connection
	StackPer    float64       // of which goroutine stacks
	APIP99Idle  time.Duration // API p99 with no streams open
	APIP99Conns time.Duration // API p99 with the streams open
}

// IdleStreams opens n idle event streams (raw connections that send one request and
// never read) to one server and reports the process's memory per stream (server and
// the client's raw sockets, all in this process) and API p99 before and after.
func IdleStreams(db *store.DB, n int, d time.Duration) (IdleResult, error) {
	res := IdleResult{Conns: n}
	srv, err := StartDesk(db)
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	c, err := liveAccount(srv, "acme")
	if err != nil {
		return res, err
	}
	var out struct {
		T struct {
			ID int64 `json:"id"`
		} `json:"ticket"`
	}
	if code, err := c.Do("POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{"subject": "Idle", "comment": map[string]any{"body": "start"}}}, &out); err != nil || code != 201 {
		return res, fmt.Errorf("create: %d %v", code, err)
	}
	show := func() time.Duration {
		s := Load(4, d, func(_, _ int) error {
			code, err := c.Do("GET", fmt.Sprintf("/api/v2/tickets/%d.json", out.T.ID), nil, nil)
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			return err
		})
		return s.P99
	}
	res.APIP99Idle = show()
	cookie, err := webSession(srv, "acme")
	if err != nil {
		return res, err
	}
	before, beforeStack := inUse()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	request := "GET /agent/events HTTP/1.1\r\nHost: acme.localhost:" + srv.Port() + "\r\nCookie: " + cookie + "\r\nAccept: text/event-stream\r\n\r\n"
	for i := 0; i < n; i++ {
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			return res, fmt.Errorf("stream %d: %w", i, err)
		}
		if _, err := io.WriteString(conn, request); err != nil {
			return res, err
		}
		conns = append(conns, conn)
	}
	// Wait until every stream is subscribed.
	for deadline := time.Now().Add(2 * time.Minute); srv.Srv.Live.Subscribers() < n; {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("only %d of %d streams opened", srv.Srv.Live.Subscribers(), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	after, afterStack := inUse()
	res.BytesPer = float64(after-before) / float64(n)
	res.StackPer = float64(afterStack-beforeStack) / float64(n)
	res.APIP99Conns = show()
	return res, nil
}

// inUse is the heap and goroutine stacks in use (and the stacks alone) in steady state:
// after a few collections, which also shrink the stacks that grew while a stream
// started and no longer need the room.
func inUse() (total, stacks int64) {
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse), int64(m.StackInuse)
}
