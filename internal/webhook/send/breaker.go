package send

import (
	"sync"
	"time"
)

// breaker keeps, per endpoint (scheme, host and port) and per process, a circuit that opens after a run of
// failed calls and a cap on calls in flight, so that calls to a dead or hanging
// endpoint wait in the queue instead of in the workers.
type breaker struct {
	mu          sync.Mutex
	after       int
	base, limit time.Duration
	maxInFlight int
	m           map[string]*circuit
}

type circuit struct {
	fails     int
	openUntil time.Time
	cool      time.Duration
	inFlight  int
	probing   bool
}

func newBreaker(after int, base, limit time.Duration, maxInFlight int) *breaker {
	return &breaker{after: after, base: base, limit: max(limit, base), maxInFlight: maxInFlight, m: map[string]*circuit{}}
}

// busyWait is how long a call refused for want of a slot waits before it is tried again.
const busyWait = 50 * time.Millisecond

// acquire says whether a call of webhook id may be made now, and if not how long to wait.
func (b *breaker) acquire(id string) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.m[id]
	if c == nil {
		c = &circuit{}
		b.m[id] = c
	}
	now := time.Now()
	switch {
	case now.Before(c.openUntil):
		return false, c.openUntil.Sub(now)
	case c.fails >= b.after && c.probing:
		return false, busyWait // half open: one trial call at a time
	case c.inFlight >= b.maxInFlight:
		return false, busyWait
	}
	c.inFlight++
	c.probing = c.fails >= b.after
	return true, 0
}

// release ends a call: ok closes the circuit, a failure counts towards opening it.
func (b *breaker) release(id string, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.m[id]
	c.inFlight--
	c.probing = false
	if ok {
		c.fails, c.cool, c.openUntil = 0, 0, time.Time{}
		return
	}
	c.fails++
	if c.fails >= b.after {
		c.cool = min(max(c.cool*2, b.base), b.limit)
		c.openUntil = time.Now().Add(c.cool)
	}
}
