// Package sharing shares tickets between help desks: agreements with partners, the
// shares of tickets through them, two-way sync of comments, status, tags and fields
// according to the agreement's terms, and durable delivery through a transactional
// outbox. Partners on the same server and on other servers go through the same
// protocol code path; only the transport differs.
package sharing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Directions of agreements and shares.
const (
	Outbound = "outbound" // we share tickets to the partner
	Inbound  = "inbound"  // the partner shares tickets to us
)

// Agreement statuses: the protocol's four, plus local delivery failures.
const (
	Pending            = "pending"
	Accepted           = "accepted"
	Declined           = "declined"
	Inactive           = "inactive"
	Failed             = "failed"
	SSLError           = "ssl_error"
	ConfigurationError = "configuration_error"
)

// Terms are what the sender lets flow through an agreement.
type Terms struct {
	SharePrivateComments bool // internal notes travel too (else public comments only)
	SyncStatus           bool
	SyncTags             bool
	SyncCustomFields     bool // matched by field key
	AllowsPublicComments bool // the receiver may post public comments
}

// Agreement is a one-way sharing agreement with a partner help desk.
type Agreement struct {
	ID              int64
	AccountID       ids.Account
	UUID            string
	AccessKey       string
	Direction       string
	Name            string // the partner's name
	RemoteSubdomain string // partner account on this server ("" for remote servers)
	RemoteURL       string // partner's sharing base URL (local://sub/sharing for this server)
	LocalURL        string // our sharing base URL as the partner knows it
	Status          string
	StatusReason    string
	DeactivatedBy   string
	Terms
	Verified  bool
	CreatedBy ids.User
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Active reports whether tickets may flow through the agreement.
func (a *Agreement) Active() bool { return a.Status == Accepted }

const agreementCols = `id, account_id, uuid, access_key, direction, name, remote_subdomain, remote_url, local_url, status, status_reason, deactivated_by, share_private_comments, sync_status, sync_tags, sync_custom_fields, allows_public_comments, verified, created_by, created_at, updated_at`

// prefixedAgreementCols are agreementCols of the table aliased a.
const prefixedAgreementCols = `a.id, a.account_id, a.uuid, a.access_key, a.direction, a.name, a.remote_subdomain, a.remote_url, a.local_url, a.status, a.status_reason, a.deactivated_by, a.share_private_comments, a.sync_status, a.sync_tags, a.sync_custom_fields, a.allows_public_comments, a.verified, a.created_by, a.created_at, a.updated_at`

func scanAgreement(row interface{ Scan(...any) error }) (*Agreement, error) {
	return scanAgreementWith(row.Scan)
}

// scanAgreementWith scans agreementCols through scan, which may read other columns
// before them.
func scanAgreementWith(scan func(dest ...any) error) (*Agreement, error) {
	var a Agreement
	var sub, deact sql.NullString
	var by sql.NullInt64
	var c, u int64
	err := scan(&a.ID, &a.AccountID, &a.UUID, &a.AccessKey, &a.Direction, &a.Name, &sub, &a.RemoteURL, &a.LocalURL, &a.Status, &a.StatusReason, &deact,
		&a.SharePrivateComments, &a.SyncStatus, &a.SyncTags, &a.SyncCustomFields, &a.AllowsPublicComments, &a.Verified, &by, &c, &u)
	if err != nil {
		return nil, err
	}
	a.RemoteSubdomain, a.DeactivatedBy, a.CreatedBy = sub.String, deact.String, ids.User(by.Int64)
	a.CreatedAt, a.UpdatedAt = store.Time(c), store.Time(u)
	return &a, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertAgreement(ctx context.Context, tx *store.Tx, a *Agreement) error {
	now := store.Now()
	a.CreatedAt, a.UpdatedAt = now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO sharing_agreements (account_id, uuid, access_key, direction, name, remote_subdomain, remote_url, local_url, status, status_reason, deactivated_by, share_private_comments, sync_status, sync_tags, sync_custom_fields, allows_public_comments, verified, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.AccountID, a.UUID, a.AccessKey, a.Direction, a.Name, nullStr(a.RemoteSubdomain), a.RemoteURL, a.LocalURL, a.Status, a.StatusReason, nullStr(a.DeactivatedBy),
		a.SharePrivateComments, a.SyncStatus, a.SyncTags, a.SyncCustomFields, a.AllowsPublicComments, a.Verified, nullStr(""), store.Micros(now), store.Micros(now)).Scan(&a.ID)
	if store.IsUniqueViolation(err) {
		return errs.E(errs.Invalid, "an agreement with this uuid already exists")
	}
	if err != nil {
		return fmt.Errorf("sharing: insert agreement: %w", err)
	}
	if a.CreatedBy != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET created_by = ? WHERE id = ?`, a.CreatedBy, a.ID); err != nil {
			return err
		}
	}
	return nil
}

func setAgreementStatus(ctx context.Context, tx *store.Tx, a *Agreement, status, reason, deactivatedBy string) error {
	a.Status, a.StatusReason, a.UpdatedAt = status, reason, store.Now()
	if deactivatedBy != "" {
		a.DeactivatedBy = deactivatedBy
	}
	_, err := tx.ExecContext(ctx, `UPDATE sharing_agreements SET status = ?, status_reason = ?, deactivated_by = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		status, reason, nullStr(a.DeactivatedBy), store.Micros(a.UpdatedAt), a.AccountID, a.ID)
	if err != nil {
		return fmt.Errorf("sharing: set agreement status: %w", err)
	}
	return nil
}

// GetAgreement loads an agreement of the account.
func GetAgreement(ctx context.Context, q store.Queryer, acct ids.Account, id int64) (*Agreement, error) {
	a, err := scanAgreement(q.QueryRowContext(ctx, `SELECT `+agreementCols+` FROM sharing_agreements WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("sharing agreement %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sharing: get agreement: %w", err)
	}
	return a, nil
}

// AgreementByUUID loads an agreement of the account by its protocol uuid.
func AgreementByUUID(ctx context.Context, q store.Queryer, acct ids.Account, uuid string) (*Agreement, error) {
	a, err := scanAgreement(q.QueryRowContext(ctx, `SELECT `+agreementCols+` FROM sharing_agreements WHERE account_id = ? AND uuid = ?`, acct, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("sharing agreement not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sharing: agreement by uuid: %w", err)
	}
	return a, nil
}

// Agreements lists the account's agreements, newest first.
func Agreements(ctx context.Context, q store.Queryer, acct ids.Account) ([]*Agreement, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+agreementCols+` FROM sharing_agreements WHERE account_id = ? ORDER BY id DESC`, acct)
	if err != nil {
		return nil, fmt.Errorf("sharing: list agreements: %w", err)
	}
	defer rows.Close()
	var out []*Agreement
	for rows.Next() {
		a, err := scanAgreement(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Share states.
const (
	ShareActive   = "active"
	ShareUnshared = "unshared" // sync stopped by us or by the partner
	ShareOrphaned = "orphaned" // inbound copy whose sender unshared it
	ShareFailed   = "failed"   // delivery failed for good; see StateReason
)

// Share is one ticket shared through one agreement.
type Share struct {
	ID             int64
	AccountID      ids.Account
	TicketID       ids.Ticket
	AgreementID    int64
	UUID           string
	Direction      string // "out" or "in"
	State          string
	StateReason    string
	PartnerVersion int64
	SharedAt       time.Time
	UpdatedAt      time.Time
	EndedAt        time.Time

	// owed is what the share's row said of its debts when sharesForWrite read it (nil
	// when read otherwise): the ticket write's hooks decide from it whether owed_since
	// needs a statement at all.
	owed *owedState
}

// owedState is a share's owed_since and first_answer_at (micros) as read.
type owedState struct{ since, firstAnswer int64 }

const shareCols = `id, account_id, ticket_id, agreement_id, uuid, direction, state, state_reason, partner_version, shared_at, updated_at, ended_at`

func scanShare(row interface{ Scan(...any) error }) (*Share, error) {
	var s Share
	var a, u, e int64
	if err := row.Scan(&s.ID, &s.AccountID, &s.TicketID, &s.AgreementID, &s.UUID, &s.Direction, &s.State, &s.StateReason, &s.PartnerVersion, &a, &u, &e); err != nil {
		return nil, err
	}
	s.SharedAt, s.UpdatedAt, s.EndedAt = store.Time(a), store.Time(u), store.Time(e)
	return &s, nil
}

func insertShare(ctx context.Context, tx *store.Tx, s *Share) error {
	now := store.Now()
	s.SharedAt, s.UpdatedAt = now, now
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_shares (account_id, ticket_id, agreement_id, uuid, direction, state, state_reason, partner_version, shared_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.AccountID, s.TicketID, s.AgreementID, s.UUID, s.Direction, s.State, s.StateReason, s.PartnerVersion, store.Micros(now), store.Micros(now)).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("sharing: insert share: %w", err)
	}
	return nil
}

func setShareState(ctx context.Context, q store.Queryer, s *Share, state, reason string) error {
	s.State, s.StateReason, s.UpdatedAt = state, reason, store.Now()
	if state != ShareActive && s.EndedAt.IsZero() {
		s.EndedAt = s.UpdatedAt
	}
	_, err := q.ExecContext(ctx, `UPDATE ticket_shares SET state = ?, state_reason = ?, updated_at = ?, ended_at = ? WHERE id = ?`,
		state, reason, store.Micros(s.UpdatedAt), store.Micros(s.EndedAt), s.ID)
	if err != nil {
		return fmt.Errorf("sharing: set share state: %w", err)
	}
	return nil
}

// shareWithAgreement is a share of a ticket with its agreement.
type shareWithAgreement struct {
	*Share
	ag *Agreement
}

// sharesForWrite lists every share of a ticket (all states), oldest first, each with its
// agreement and what it owes, in one statement: the ticket write's after-hook runs it
// while the ticket's row is locked, where a share list and then an agreement for each
// share were a round trip each (every update of a shared ticket waits for the one
// before it to commit). A share's agreement always exists (foreign key).
func sharesForWrite(ctx context.Context, q store.Queryer, acct ids.Account, t ids.Ticket) ([]shareWithAgreement, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.id, s.account_id, s.ticket_id, s.agreement_id, s.uuid, s.direction, s.state, s.state_reason, s.partner_version, s.shared_at, s.updated_at, s.ended_at,
		s.owed_since, s.first_answer_at, `+prefixedAgreementCols+`
		FROM ticket_shares s JOIN sharing_agreements a ON a.id = s.agreement_id AND a.account_id = s.account_id
		WHERE s.account_id = ? AND s.ticket_id = ? ORDER BY s.id`, acct, t)
	if err != nil {
		return nil, fmt.Errorf("sharing: shares of ticket: %w", err)
	}
	defer rows.Close()
	var out []shareWithAgreement
	for rows.Next() {
		var sh Share
		var o owedState
		var at, up, end int64
		ag, err := scanAgreementWith(func(agDest ...any) error {
			return rows.Scan(append([]any{&sh.ID, &sh.AccountID, &sh.TicketID, &sh.AgreementID, &sh.UUID, &sh.Direction, &sh.State, &sh.StateReason, &sh.PartnerVersion, &at, &up, &end,
				&o.since, &o.firstAnswer}, agDest...)...)
		})
		if err != nil {
			return nil, fmt.Errorf("sharing: shares of ticket: %w", err)
		}
		sh.SharedAt, sh.UpdatedAt, sh.EndedAt = store.Time(at), store.Time(up), store.Time(end)
		sh.owed = &o
		out = append(out, shareWithAgreement{Share: &sh, ag: ag})
	}
	return out, rows.Err()
}

// SharesOfTicket lists every share of a ticket (all states), oldest first.
func SharesOfTicket(ctx context.Context, q store.Queryer, acct ids.Account, t ids.Ticket) ([]*Share, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+shareCols+` FROM ticket_shares WHERE account_id = ? AND ticket_id = ? ORDER BY id`, acct, t)
	if err != nil {
		return nil, fmt.Errorf("sharing: shares of ticket: %w", err)
	}
	defer rows.Close()
	var out []*Share
	for rows.Next() {
		s, err := scanShare(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func shareByUUID(ctx context.Context, q store.Queryer, acct ids.Account, agreement int64, uuid string) (*Share, error) {
	s, err := scanShare(q.QueryRowContext(ctx, `SELECT `+shareCols+` FROM ticket_shares WHERE account_id = ? AND agreement_id = ? AND uuid = ?`, acct, agreement, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("shared ticket not found")
	}
	if err != nil {
		return nil, fmt.Errorf("sharing: share by uuid: %w", err)
	}
	return s, nil
}

func getShare(ctx context.Context, q store.Queryer, id int64) (*Share, error) {
	s, err := scanShare(q.QueryRowContext(ctx, `SELECT `+shareCols+` FROM ticket_shares WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("share not found")
	}
	return s, err
}

func idsAccount(v int64) ids.Account { return ids.Account(v) }
