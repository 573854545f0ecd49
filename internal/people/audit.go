package people

import (
	"context"
	"fmt"
	"time"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// Event is one recorded change to a person: their role, suspension, deletion, or an
// organization or group membership.
type Event struct {
	ID          int64
	AccountID   ids.Account
	ActorID     ids.User // 0: the system
	SourceType  string   // "user"
	SourceID    int64    // the user changed
	Action      string   // create, update or destroy
	Field       string   // role, suspended, active, organization_membership, group_membership
	Description string
	CreatedAt   time.Time
}

// EventCols is the column list matching ScanEvent.
const EventCols = `id, account_id, actor_id, source_type, source_id, action, field, change_description, created_at`

// ScanEvent reads one row selected with EventCols.
func ScanEvent(row interface{ Scan(...any) error }) (*Event, error) {
	var e Event
	var c int64
	if err := row.Scan(&e.ID, &e.AccountID, &e.ActorID, &e.SourceType, &e.SourceID, &e.Action, &e.Field, &e.Description, &c); err != nil {
		return nil, err
	}
	e.CreatedAt = store.Time(c)
	return &e, nil
}

// record appends an event about user to the audit log, in the change's transaction.
func record(ctx context.Context, tx *store.Tx, acct ids.Account, by Actor, user ids.User, action, field, desc string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_logs (account_id, actor_id, source_type, source_id, action, field, change_description, created_at) VALUES (?, ?, 'user', ?, ?, ?, ?, ?)`,
		acct, int64(by.ID), user, action, field, desc, store.Micros(store.Now()))
	if err != nil {
		return fmt.Errorf("people: audit: %w", err)
	}
	return nil
}

// UserEvents lists the latest events about a user, newest first.
func UserEvents(ctx context.Context, q store.Queryer, acct ids.Account, user ids.User, limit int) ([]*Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+EventCols+` FROM audit_logs WHERE account_id = ? AND source_type = 'user' AND source_id = ? ORDER BY id DESC LIMIT ?`, acct, user, limit)
	out, err := store.ScanAll(rows, err, ScanEvent)
	if err != nil {
		return nil, fmt.Errorf("people: user events: %w", err)
	}
	return out, nil
}
