package sharing

import (
	"context"
	"net/http"
	"strings"
	"time"

	"tandem/internal/delivery"
	"tandem/internal/ids"
	"tandem/internal/sharing/peer"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
)

// The outbox is a client of the shared delivery queue (internal/delivery): rows of one
// share (or, for agreement messages, of one agreement) go out in order, one at a time;
// different shares go out in parallel; claims, leases, backoff and shutdown are the
// queue's. Network errors, timeouts, 408, 429 and 5xx are retried; 401, 403, 404, 410 and
// 422 are not: the share is marked failed with the partner's answer.

// outboxRow is a protocol call as queued in sharing_outbox.
type outboxRow struct {
	agreementID, shareID    int64
	ticketID                int64 // the share's ticket (0 for agreement messages)
	kind, method, url, body string
}

type outboxJob = delivery.Job[outboxRow]

// Coalescing: after an outage a shared ticket may have many updates queued. They go in
// one request (comments in order, the latest fields, the latest version), which the
// receiver applies exactly as it would apply them one by one. Up to 250 rows a request
// (50 until branch pgshare): a lane's deliveries go one after the other, so a backlog of
// 100 updates a ticket went in two rounds; the byte cap still bounds the request.
const (
	maxCoalesce     = 250
	maxCoalesceBody = 2 << 20
)

// deliveryTimeout bounds one call to a partner.
const deliveryTimeout = 30 * time.Second

// wakeBehindHead is how long after its commit an update queued behind its lane's head
// wakes the worker, unless a claim started meanwhile (delivery's WakeLater): the bound
// on its wait when the head's outcome committed between its insert and its commit.
const wakeBehindHead = 5 * time.Millisecond

// errNoAgreement is the reason a row of a deleted agreement is dropped.
const errNoAgreement = "agreement no longer exists"

func (s *Service) newOutbox() *delivery.Queue[outboxRow] {
	return delivery.New(s.db, delivery.Spec[outboxRow]{
		Name:    "sharing",
		Table:   "sharing_outbox",
		Lane:    []string{"agreement_id", "share_id"},
		Columns: []string{"agreement_id", "share_id", "ticket_id", "kind", "method", "url", "body"},
		Fields: func(r *outboxRow) []any {
			return []any{&r.agreementID, &r.shareID, &r.ticketID, &r.kind, &r.method, &r.url, &r.body}
		},
		Prepare: func(ctx context.Context, tx *store.Tx, j *outboxJob) error {
			if j.Item.kind != "update" || j.Attempts > 0 {
				// A retry goes alone, as a probe of the partner: while it is down, each
				// attempt used to lease and then record every row queued behind the head
				// (up to maxCoalesce), so an outage rewrote its whole backlog at every
				// retry interval and slowed the writes queuing it. Once the probe is
				// delivered, the lane's next head takes the rest in one request.
				return nil
			}
			return s.coalesce(ctx, tx, j)
		},
		Deliver: s.deliver,
		Settled: s.settled,
		Recorded: func(ctx context.Context, tx *store.Tx, j outboxJob, _ string) error {
			if s.cfg.DeliveryChanged == nil || j.Item.shareID == 0 {
				return nil
			}
			return s.cfg.DeliveryChanged(ctx, tx, ids.Account(j.AccountID), ids.Ticket(j.Item.ticketID), j.Item.shareID)
		},
		LogAttrs: func(j outboxJob) []any {
			return []any{"agreement", j.Item.agreementID, "share", j.Item.shareID, "kind", j.Item.kind}
		},
	}, delivery.Config{Workers: s.cfg.Workers, BaseBackoff: s.cfg.BaseBackoff, MaxBackoff: s.cfg.MaxBackoff,
		Timeout: deliveryTimeout, Owner: s.cfg.Owner}, s.log)
}

// Run delivers the outbox, and fetches partners' files, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.fetches.Run(ctx)
	}()
	s.outbox.Run(ctx)
	<-done
}

func (s *Service) deliver(ctx context.Context, j outboxJob) delivery.Result {
	row := j.Item
	ag, err := GetAgreement(ctx, s.db.R(), idsAccount(j.AccountID), row.agreementID)
	if err != nil {
		return delivery.Result{Outcome: delivery.Fatal, Reason: errNoAgreement}
	}
	var body []byte
	if row.body != "" {
		body = []byte(s.refreshLinks(ctx, idsAccount(j.AccountID), ag, row.body))
	}
	token := ""
	if row.kind != "invite" {
		token = ag.UUID + ":" + ag.AccessKey
	}
	resp, err := s.transport.Do(ctx, row.method, row.url, token, ag.AccessKey, body)
	res := delivery.Result{}
	if resp != nil {
		res.Status, res.RetryAfter = resp.Status, resp.RetryAfter
	}
	switch outcome(resp, err) {
	case delivered:
		return res
	case retry:
		res.Outcome = delivery.Retry
	case fatal:
		res.Outcome = delivery.Fatal
	}
	_, res.Reason = failureStatus(resp, err)
	s.countFailure(row.agreementID)
	return res
}

// settled acts on a recorded outcome: a partner that answers again gets what waits for
// it now; a permanent failure is shown on the share or the agreement.
func (s *Service) settled(ctx context.Context, j outboxJob, res delivery.Result) {
	switch {
	case res.Outcome == delivery.Delivered:
		if !s.hurryDue(j) {
			return
		}
		_, err := hurry(ctx, s.db, j.Item.agreementID)
		if err != nil && ctx.Err() == nil { // at shutdown the rows wait for their backoff instead
			s.log.Error("sharing: retry rows waiting for a partner that answers again", "agreement", j.Item.agreementID, "err", err)
		}
		s.Wake()
	case res.Outcome == delivery.Retry:
		s.mu.Lock()
		s.pruneHurries(time.Now())
		h := s.hurries[j.Item.agreementID]
		h.retried = true
		s.hurries[j.Item.agreementID] = h
		s.mu.Unlock()
	case res.Outcome == delivery.Fatal && res.Reason != errNoAgreement:
		s.markBroken(ctx, j, res.Status, res.Reason)
	}
}

// hurryState is what a process knows of an agreement's rows waiting for a retry.
type hurryState struct {
	last    time.Time // this process's last hurry
	retried bool      // this process recorded a retry since
}

// hurryEvery is how often a process hurries an agreement whose deliveries it sees
// succeed with nothing in this process saying that rows wait for a retry (another
// process, or one that died, may have left some).
const hurryEvery = time.Second

// hurryDue says whether a successful delivery should hurry its agreement's waiting rows:
// when it was itself a retry (the partner answers again: the first success of a
// recovery is a waiting lane head), when this process recorded a retry for the agreement
// since its last hurry, or when it has not hurried the agreement for hurryEvery. Every
// success used to hurry: a transaction of its own for each delivery (three round trips
// on PostgreSQL) that, outside an outage, found nothing to move. A retry recorded after
// a hurry started sets the flag again, so the next success hurries it.
func (s *Service) hurryDue(j outboxJob) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneHurries(now)
	h := s.hurries[j.Item.agreementID]
	if j.Attempts == 0 && !h.retried && now.Sub(h.last) < hurryEvery {
		return false
	}
	s.hurries[j.Item.agreementID] = hurryState{last: now}
	return true
}

// pruneHurries forgets, at most once per hurryEvery, the agreements this process has not
// hurried for hurryEvery: their next success hurries whatever the entry says, exactly as
// for an agreement with no entry, so the map holds the agreements hurried in the last
// second instead of every agreement the process ever delivered for. s.mu is held.
func (s *Service) pruneHurries(now time.Time) {
	if now.Sub(s.hurriesPruned) < hurryEvery {
		return
	}
	s.hurriesPruned = now
	for id, h := range s.hurries {
		if now.Sub(h.last) >= hurryEvery {
			delete(s.hurries, id)
		}
	}
}

// hurry makes the agreement's rows that wait for a retry due now, and says how many it
// moved. Successful deliveries call it (hurryDue), in every worker of every process: it moves
// only rows not due yet (after the first call of a recovery there are none), and on
// PostgreSQL it skips rows another transaction holds instead of waiting for them. A held
// row is being claimed, recorded or hurried meanwhile, or is the next head of a lane
// whose finished delivery hurries in its turn. Waiting for them instead queued these
// updates (a thousand rows each after an outage) behind one another, claims and
// outcomes: they deadlocked, an outcome that lost a deadlock left its rows leased for
// the lease's 40 s, and a drain of 2,000 updates with two senders took 35 to 50 s.
func hurry(ctx context.Context, db *store.DB, agreementID int64) (int64, error) {
	now := store.Micros(store.Now())
	var n int64
	err := db.WriteRetry(ctx, func(tx *store.Tx) error {
		q := `UPDATE sharing_outbox SET next_attempt_at = ? WHERE agreement_id = ? AND status = 'pending' AND attempts > 0 AND next_attempt_at > ?`
		if tx.D() == store.Postgres {
			q = `UPDATE sharing_outbox SET next_attempt_at = ? WHERE id IN (SELECT id FROM sharing_outbox WHERE agreement_id = ? AND status = 'pending' AND attempts > 0 AND next_attempt_at > ? FOR UPDATE SKIP LOCKED)`
		}
		res, err := tx.ExecContext(ctx, q, now, agreementID, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

type result int

const (
	delivered result = iota
	retry
	fatal
)

// outcome classifies a delivery attempt as the peer client's Classify does, so a
// redirect to another host, a TLS failure or a blocked address fails the share at once
// instead of being retried forever.
func outcome(resp *Response, err error) result {
	status := 0
	if resp != nil {
		status = resp.Status
	}
	switch peer.Classify(status, err) {
	case peer.Delivered:
		return delivered
	case peer.Fatal:
		return fatal
	}
	return retry
}

// coalesce adds to row the updates queued right behind it for the same share, and
// merges their bodies into one.
func (s *Service) coalesce(ctx context.Context, tx *store.Tx, j *outboxJob) error {
	row := &j.Item
	rows, err := tx.QueryContext(ctx, `SELECT id, kind, body FROM sharing_outbox WHERE agreement_id = ? AND share_id = ? AND status = 'pending' AND id > ? ORDER BY id LIMIT ?`,
		row.agreementID, row.shareID, j.ID, maxCoalesce)
	if err != nil {
		return err
	}
	type queued struct {
		id         int64
		kind, body string
	}
	var next []queued
	for rows.Next() {
		var q queued
		if err := rows.Scan(&q.id, &q.kind, &q.body); err != nil {
			rows.Close()
			return err
		}
		next = append(next, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(next) == 0 {
		return err
	}
	merged, err := wire.DecodeTicket(strings.NewReader(row.body), s.cfg.MaxBody)
	if err != nil {
		return nil // not ours to fix here: deliver it alone
	}
	size := len(row.body)
	for _, q := range next {
		if q.kind != "update" || size+len(q.body) > maxCoalesceBody {
			break // an unshare (or a huge update) keeps its own place in line
		}
		t, err := wire.DecodeTicket(strings.NewReader(q.body), s.cfg.MaxBody)
		if err != nil {
			break
		}
		comments := append(merged.Comments, t.Comments...)
		*merged = *t
		merged.Comments = comments
		size += len(q.body)
		j.More = append(j.More, q.id)
	}
	if len(j.More) == 0 {
		return nil
	}
	body, err := wire.EncodeTicket(merged)
	if err != nil {
		return err
	}
	row.body = string(body)
	return nil
}

// markBroken records a permanent failure where an admin will see it: on the share (and
// its queued updates are cancelled), or on the agreement for agreement messages.
func (s *Service) markBroken(ctx context.Context, j outboxJob, status int, reason string) {
	row := j.Item
	ctx = context.WithoutCancel(ctx) // recorded even when shutdown starts meanwhile, as in finish
	// Safe to run again after a lost deadlock: the share is read in the transaction.
	err := s.db.WriteRetry(ctx, func(tx *store.Tx) error {
		if row.shareID == 0 {
			ag, err := GetAgreement(ctx, tx, idsAccount(j.AccountID), row.agreementID)
			if err != nil {
				return nil
			}
			if ag.Status == Inactive {
				return nil // the partner never heard we deactivated; nothing more to do
			}
			return setAgreementStatus(ctx, tx, ag, Failed, reason, "")
		}
		sh, err := getShare(ctx, tx, row.shareID)
		if err != nil {
			return nil
		}
		if row.kind == "unshare" {
			return nil // the share already ended here
		}
		state := ShareFailed
		if status == http.StatusGone {
			state = ShareUnshared // the partner closed or unshared its side
		}
		if err := setShareState(ctx, tx, sh, state, reason); err != nil {
			return err
		}
		return delivery.Cancel(ctx, tx, "sharing_outbox", "share "+state+": "+reason, "share_id = ?", sh.ID)
	})
	if err != nil {
		s.log.Error("sharing: mark broken", "row", j.ID, "err", err)
	}
}

func (s *Service) countFailure(agreement int64) {
	s.mu.Lock()
	s.failures[agreement]++
	s.mu.Unlock()
}

// Failures returns delivery failures per agreement since the process started.
func (s *Service) Failures() map[int64]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int64, len(s.failures))
	for k, v := range s.failures {
		out[k] = v
	}
	return out
}

// OutboxStats reports the queue depth and the age of the oldest pending row.
func (s *Service) OutboxStats(ctx context.Context) (pending int64, oldest time.Duration, err error) {
	return s.outbox.Stats(ctx)
}

// Drained reports whether nothing is pending (tests and benchmarks wait on it).
func (s *Service) Drained(ctx context.Context) bool { return s.outbox.Drained(ctx) }
