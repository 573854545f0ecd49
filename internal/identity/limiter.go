package identity

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/limit"
	"tandem/internal/store"
)

// Guard is the one way passwords are checked (web sign-in and API Basic auth alike). It
// limits guessing and bounds the cost of checking:
//
//   - Every attempt is counted before the slow hash, so concurrent guesses cannot all
//     slip through between a check and a count.
//   - Per email and client address, PerEmailAddr attempts per Window; per client address
//     (any email), PerAddr. These refuse only the guesser's own address, so knowing
//     someone's email is not enough to lock them out.
//   - Per email across all addresses, past SlowAfter attempts in a Window the email is
//     slowed down: one attempt per SlowStep from addresses it has not signed in from
//     lately. A spread-out attack gets a trickle of guesses, while the owner, from an
//     address they signed in from within KnownFor, is not slowed at all.
//   - At most Slots hashes run at once (argon2id takes ~19 MiB and a core's time); a
//     check waits up to QueueWait for a slot, then is answered 503 with Retry-After. So
//     password traffic cannot starve token requests of CPU or the server of memory.
//
// Counters live in a limit.Counter: in the database with several processes on
// PostgreSQL, so the limits hold in total.
type Guard struct {
	cfg   GuardConfig
	count limit.Counter
	slots chan struct{}
}

// GuardConfig tunes a Guard; zero fields take the defaults.
type GuardConfig struct {
	Window       time.Duration // default 15 minutes
	PerEmailAddr int64         // default 5
	PerAddr      int64         // default 50
	SlowAfter    int64         // default 20
	SlowStep     time.Duration // default 5 seconds
	KnownFor     time.Duration // default 30 days
	// Slots is how many hashes may run at once: default half the cores (at least one),
	// leaving the rest for everything else.
	Slots     int
	QueueWait time.Duration // default 2 seconds
}

// NewGuard returns a guard counting in c.
func NewGuard(c limit.Counter, cfg GuardConfig) *Guard {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defD(&cfg.Window, 15*time.Minute)
	def(&cfg.PerEmailAddr, 5)
	def(&cfg.PerAddr, 50)
	def(&cfg.SlowAfter, 20)
	defD(&cfg.SlowStep, 5*time.Second)
	defD(&cfg.KnownFor, 30*24*time.Hour)
	defD(&cfg.QueueWait, 2*time.Second)
	if cfg.Slots <= 0 {
		cfg.Slots = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &Guard{cfg: cfg, count: c, slots: make(chan struct{}, cfg.Slots)}
}

// Throttled is the error of a password check that was not attempted: too many attempts
// (429) or no hashing slot free in time (503). Wait is when to try again.
type Throttled struct {
	Wait time.Duration
	Busy bool // no slot: the server is busy, not the caller too eager
}

// Error returns the client-safe message.
func (e *Throttled) Error() string { return e.err().Message }

// Unwrap gives the errs code, so the error maps to its HTTP status in the usual place.
func (e *Throttled) Unwrap() error { return e.err() }

func (e *Throttled) err() *errs.Error {
	if e.Busy {
		return errs.E(errs.Unavailable, "Too many sign-ins are being checked right now; retry in %d seconds", e.RetryAfter())
	}
	return errs.E(errs.RateLimited, "Too many sign-in attempts; retry in %d seconds", e.RetryAfter())
}

// RetryAfter is Wait in whole seconds, rounded up, for a Retry-After header.
func (e *Throttled) RetryAfter() int { return int((e.Wait + time.Second - 1) / time.Second) }

// ByPassword returns the user of the account whose email and password match, checked
// for a client at addr within the guard's limits. A wrong email or password is ErrAuth;
// a check not attempted is a *Throttled.
func (g *Guard) ByPassword(ctx context.Context, q store.Queryer, acct ids.Account, email, pw, addr string) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	who := fmt.Sprintf("%d|%s", acct, email)
	if err := g.admit(ctx, who, addr); err != nil {
		return nil, err
	}
	u, err := g.check(ctx, q, acct, email, pw)
	if err != nil {
		return nil, err
	}
	// The owner's address: cleared for this email, and exempt from its slow-down.
	if err := g.count.Clear(ctx, "pw|ea|"+who+"|"+addr); err != nil {
		return nil, err
	}
	if _, _, err := g.count.Hit(ctx, "pw|known|"+who+"|"+addr, g.cfg.KnownFor); err != nil {
		return nil, err
	}
	return u, nil
}

// admit counts the attempt and decides, before any hashing, whether it may go on.
func (g *Guard) admit(ctx context.Context, who, addr string) error {
	n, ends, err := g.count.Hit(ctx, "pw|a|"+addr, g.cfg.Window)
	if err != nil {
		return err
	}
	if n > g.cfg.PerAddr {
		return &Throttled{Wait: time.Until(ends)}
	}
	n, ends, err = g.count.Hit(ctx, "pw|ea|"+who+"|"+addr, g.cfg.Window)
	if err != nil {
		return err
	}
	if n > g.cfg.PerEmailAddr {
		return &Throttled{Wait: time.Until(ends)}
	}
	n, _, err = g.count.Hit(ctx, "pw|e|"+who, g.cfg.Window)
	if err != nil || n <= g.cfg.SlowAfter {
		return err
	}
	known, _, err := g.count.Count(ctx, "pw|known|"+who+"|"+addr)
	if err != nil || known > 0 {
		return err
	}
	n, ends, err = g.count.Hit(ctx, "pw|slow|"+who, g.cfg.SlowStep)
	if err != nil {
		return err
	}
	if n > 1 {
		return &Throttled{Wait: time.Until(ends)}
	}
	return nil
}

// check runs the slow comparison in a hashing slot.
func (g *Guard) check(ctx context.Context, q store.Queryer, acct ids.Account, email, pw string) (*User, error) {
	timer := time.NewTimer(g.cfg.QueueWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-timer.C:
		return nil, &Throttled{Wait: time.Second, Busy: true}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-g.slots }()
	return byPassword(ctx, q, acct, email, pw)
}
