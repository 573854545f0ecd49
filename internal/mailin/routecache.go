package mailin

import (
	"sync"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
)

// routeTTL is how long a support address's route (its row and its account) and the
// answer whether an address is a support address are reused: the listener asks for
// every recipient of every message, and the worker for every sender and recipient. A change made
// through this process (addresses.go) forgets them at once; one made by another
// process (PostgreSQL) is seen within this time.
const routeTTL = time.Second

// maxCached bounds each cache; a full one is emptied.
const maxCached = 10000

type cachedRoute struct {
	acct *account.Account
	addr *Address
	at   time.Time
}

type cachedBool struct {
	v  bool
	at time.Time
}

// routeCache caches resolve's lookups (by support address, without plus-tag) and
// isSupportAddress's answers (by address).
type routeCache struct {
	mu      sync.Mutex
	routes  map[string]cachedRoute
	support map[string]cachedBool
}

func (c *routeCache) route(addr string) (*account.Account, *Address, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.routes[addr]
	if !ok || time.Since(r.at) > routeTTL {
		return nil, nil, false
	}
	return r.acct, r.addr, true
}

func (c *routeCache) putRoute(addr string, acct *account.Account, a *Address) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.routes == nil || len(c.routes) >= maxCached {
		c.routes = map[string]cachedRoute{}
	}
	c.routes[addr] = cachedRoute{acct: acct, addr: a, at: time.Now()}
}

// groupOf returns the default group of the support address addr when it is cached
// as one of account acct's; ok is false when the cache does not know addr (or its
// entry is too old). An address cached as another account's is not acct's (a support
// address belongs to one account): found is then false.
func (c *routeCache) groupOf(acct ids.Account, addr string) (group ids.Group, found, ok bool) {
	a, r, ok := c.route(addr)
	if !ok || a == nil || r == nil {
		return 0, false, false
	}
	if r.AccountID != acct {
		return 0, false, true
	}
	return r.GroupID, true, true
}

func (c *routeCache) isSupport(addr string) (v, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.support[addr]
	if !ok || time.Since(b.at) > routeTTL {
		return false, false
	}
	return b.v, true
}

func (c *routeCache) putSupport(addr string, v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.support == nil || len(c.support) >= maxCached {
		c.support = map[string]cachedBool{}
	}
	c.support[addr] = cachedBool{v: v, at: time.Now()}
}

// forget drops everything cached (a support address was written).
func (c *routeCache) forget() {
	c.mu.Lock()
	c.routes, c.support = nil, nil
	c.mu.Unlock()
}
