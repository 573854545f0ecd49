package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/limit"
)

// rateLimiter counts requests per account in one-minute windows, as Zendesk's limits are
// expressed (requests per minute by plan), and sets the same headers. The counts are in
// a limit.Counter: in the database on PostgreSQL, so several processes behind a
// balancer hold the limit in total.
type rateLimiter struct {
	override int // 0 = plan defaults, <0 = off, >0 = this many per minute for every plan
	count    limit.Counter
}

func newRateLimiter(override int, c limit.Counter) *rateLimiter {
	return &rateLimiter{override: override, count: c}
}

func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct := account.FromContext(r.Context())
		if acct == nil || s.limiter.override < 0 {
			next.ServeHTTP(w, r)
			return
		}
		perMinute := acct.Plan.RateLimit()
		if s.limiter.override > 0 {
			perMinute = s.limiter.override
		}
		n, ends, err := s.limiter.count.Hit(r.Context(), fmt.Sprintf("api|%d", acct.ID), time.Minute)
		if err != nil {
			// The limit protects the service; a failure to count must not take the
			// service down with it.
			s.log.WarnContext(r.Context(), "rate limit: count", "err", err)
			next.ServeHTTP(w, r)
			return
		}
		reset := int(time.Until(ends).Seconds()) + 1
		remaining := max(perMinute-int(n), 0)
		h := w.Header()
		l, rem, rs := strconv.Itoa(perMinute), strconv.Itoa(remaining), strconv.Itoa(reset)
		h.Set("X-Rate-Limit", l)
		h.Set("X-Rate-Limit-Remaining", rem)
		h.Set("Ratelimit-Limit", l)
		h.Set("Ratelimit-Remaining", rem)
		h.Set("Ratelimit-Reset", rs)
		if n > int64(perMinute) {
			h.Set("Retry-After", rs)
			writeErr(w, r, errs.E(errs.RateLimited, "Rate limit of %d requests per minute exceeded; retry after %s seconds", perMinute, rs))
			return
		}
		next.ServeHTTP(w, r)
	})
}
