package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/ids"
)

// rateLimiter counts requests per account in one-minute windows, as Zendesk's limits are
// expressed (requests per minute by plan), and sets the same headers. Counts are per
// process: several processes behind a balancer each allow the limit.
type rateLimiter struct {
	override int // 0 = plan defaults, <0 = off, >0 = this many per minute for every plan
	mu       sync.Mutex
	windows  map[ids.Account]*window
}

type window struct {
	start time.Time
	n     int
}

func newRateLimiter(override int) *rateLimiter {
	return &rateLimiter{override: override, windows: map[ids.Account]*window{}}
}

func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct := account.FromContext(r.Context())
		if acct == nil || s.limiter.override < 0 {
			next.ServeHTTP(w, r)
			return
		}
		limit := acct.Plan.RateLimit()
		if s.limiter.override > 0 {
			limit = s.limiter.override
		}
		now := time.Now()
		s.limiter.mu.Lock()
		win := s.limiter.windows[acct.ID]
		if win == nil || now.Sub(win.start) >= time.Minute {
			win = &window{start: now.Truncate(time.Second)}
			s.limiter.windows[acct.ID] = win
		}
		win.n++
		n, reset := win.n, int(time.Until(win.start.Add(time.Minute)).Seconds())+1
		s.limiter.mu.Unlock()
		remaining := max(limit-n, 0)
		h := w.Header()
		l, rem, rs := strconv.Itoa(limit), strconv.Itoa(remaining), strconv.Itoa(reset)
		h.Set("X-Rate-Limit", l)
		h.Set("X-Rate-Limit-Remaining", rem)
		h.Set("Ratelimit-Limit", l)
		h.Set("Ratelimit-Remaining", rem)
		h.Set("Ratelimit-Reset", rs)
		if n > limit {
			h.Set("Retry-After", rs)
			writeErr(w, r, errs.E(errs.RateLimited, "Rate limit of %d requests per minute exceeded; retry after %s seconds", limit, rs))
			return
		}
		next.ServeHTTP(w, r)
	})
}
