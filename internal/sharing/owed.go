package sharing

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Partners' promises (issue 18): an agreement may carry the response time the partner
// promised, and each outbound share records since when the partner owes an answer. A
// share starts owing when it is made; a local public reply makes an answered share owe
// again; the partner's update through the share answers it (and, the first time, gives
// its response time); solving the ticket here ends what is owed.

// MaxPromisedMinutes bounds a promised response time (a year).
const MaxPromisedMinutes = 366 * 24 * 60

// owe keeps the outbound shares' owed_since and first_answer_at for a ticket write, at
// the end of AfterWrite (after the shares the change starts are recorded). current are
// the ticket's shares as AfterWrite read them, with the row lock on the ticket that every
// write of owed_since holds: a statement that would change no row is skipped (most
// updates of a shared ticket: the partner already owes an answer).
func (s *Service) owe(ctx context.Context, tx *store.Tx, ch *ticket.Change, current []shareWithAgreement) error {
	t := ch.Ticket
	now := store.Micros(t.UpdatedAt)
	started, _ := ch.Sharing()
	if ch.Created && len(started) == 0 {
		return nil
	}
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("sharing: owed: %w", err)
		}
		return nil
	}
	// some says whether one of the shares read matches, or whether some share is not known
	// as read (one the change started).
	some := func(match func(sh *Share, o owedState) bool) bool {
		if len(started) > 0 {
			return true
		}
		for _, sh := range current {
			if sh.owed == nil || match(sh.Share, *sh.owed) {
				return true
			}
		}
		return false
	}
	if ch.Origin != nil && ch.Origin.ShareID != 0 {
		// The partner's update answers its share.
		if !some(func(sh *Share, o owedState) bool {
			return sh.ID == ch.Origin.ShareID && sh.Direction == "out" && (o.since != 0 || o.firstAnswer == 0)
		}) {
			return nil
		}
		return exec(`UPDATE ticket_shares SET owed_since = 0, first_answer_at = CASE WHEN first_answer_at = 0 THEN ? ELSE first_answer_at END
			WHERE account_id = ? AND ticket_id = ? AND id = ? AND direction = 'out'`, now, t.AccountID, t.ID, ch.Origin.ShareID)
	}
	if ch.Origin != nil {
		return nil
	}
	if t.Status == ticket.Solved || t.Status == ticket.Closed {
		if !some(func(sh *Share, o owedState) bool { return sh.Direction == "out" && o.since > 0 }) {
			return nil
		}
		return exec(`UPDATE ticket_shares SET owed_since = 0 WHERE account_id = ? AND ticket_id = ? AND direction = 'out' AND owed_since > 0`, t.AccountID, t.ID)
	}
	asks := len(started) > 0
	for _, c := range ch.Comments {
		asks = asks || c.Public
	}
	if !asks || !some(func(sh *Share, o owedState) bool {
		return sh.Direction == "out" && sh.State == ShareActive && o.since == 0
	}) {
		return nil
	}
	return exec(`UPDATE ticket_shares SET owed_since = ? WHERE account_id = ? AND ticket_id = ? AND direction = 'out' AND state = 'active' AND owed_since = 0`,
		now, t.AccountID, t.ID)
}

// Owed is what a partner owes on one outbound share.
type Owed struct {
	AgreementID int64
	Partner     string
	Since       time.Time // zero: owes nothing
	Promised    time.Duration
}

// Late reports whether the partner has owed longer than it promised, at now.
func (o Owed) Late(now time.Time) bool {
	return !o.Since.IsZero() && o.Promised > 0 && now.Sub(o.Since) > o.Promised
}

// OwedOn returns, per agreement, what the partners owe on a ticket's active outbound
// shares.
func OwedOn(ctx context.Context, q store.Queryer, acct ids.Account, id ids.Ticket) (map[int64]Owed, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.agreement_id, a.name, s.owed_since, a.promised_minutes FROM ticket_shares s
		JOIN sharing_agreements a ON a.account_id = s.account_id AND a.id = s.agreement_id
		WHERE s.account_id = ? AND s.ticket_id = ? AND s.direction = 'out' AND s.state = 'active'`, acct, id)
	if err != nil {
		return nil, fmt.Errorf("sharing: owed: %w", err)
	}
	defer rows.Close()
	out := map[int64]Owed{}
	for rows.Next() {
		var o Owed
		var since, promised int64
		if err := rows.Scan(&o.AgreementID, &o.Partner, &since, &promised); err != nil {
			return nil, err
		}
		if since > 0 {
			o.Since = store.Time(since)
		}
		o.Promised = time.Duration(promised) * time.Minute
		out[o.AgreementID] = o
	}
	return out, rows.Err()
}

// PromisedMinutes returns the response time an agreement's partner promised (0: none).
func PromisedMinutes(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (int64, error) {
	var m int64
	err := q.QueryRowContext(ctx, `SELECT promised_minutes FROM sharing_agreements WHERE account_id = ? AND id = ?`, acct, id).Scan(&m)
	if err != nil {
		return 0, errs.NotFoundf("agreement %d not found", id)
	}
	return m, nil
}

// SetPromise records the response time an outbound agreement's partner promised, in
// minutes (0 removes it).
func (s *Service) SetPromise(ctx context.Context, acct ids.Account, id int64, minutes int64) error {
	if minutes < 0 || minutes > MaxPromisedMinutes {
		return errs.Invalidf("promised_response_minutes", "InvalidValue", "a promised response time is 0 (none) to %d minutes", MaxPromisedMinutes)
	}
	return s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET promised_minutes = ?, updated_at = ? WHERE account_id = ? AND id = ? AND direction = ?`,
			minutes, store.Micros(store.Now()), acct, id, Outbound)
		if err != nil {
			return fmt.Errorf("sharing: set promise: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("outbound agreement %d not found", id)
		}
		return nil
	})
}

// OwedSince returns, for those of the tickets on which a partner owes an answer, since
// when (the oldest debt of their active outbound shares).
func OwedSince(ctx context.Context, q store.Queryer, acct ids.Account, tickets []ids.Ticket) (map[ids.Ticket]time.Time, error) {
	out := map[ids.Ticket]time.Time{}
	if len(tickets) == 0 {
		return out, nil
	}
	args := []any{acct}
	for _, t := range tickets {
		args = append(args, t)
	}
	rows, err := q.QueryContext(ctx, `SELECT ticket_id, MIN(owed_since) FROM ticket_shares WHERE account_id = ? AND ticket_id IN (`+store.In(len(tickets))+`)
		AND direction = 'out' AND state = 'active' AND owed_since > 0 GROUP BY ticket_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sharing: owed: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id ids.Ticket
		var since int64
		if err := rows.Scan(&id, &since); err != nil {
			return nil, err
		}
		out[id] = store.Time(since)
	}
	return out, rows.Err()
}
