package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
)

const cols = `id, account_id, name, description, endpoint, http_method, request_format, status, subscriptions,
	auth_type, auth_data, custom_headers, signing_secret, failing_since, last_failure, created_by, updated_by, created_at, updated_at`

func scan(row interface{ Scan(...any) error }) (*Webhook, error) {
	var w Webhook
	var subs, authType, authData, headers string
	var failing, created, updated int64
	err := row.Scan(&w.ID, &w.AccountID, &w.Name, &w.Description, &w.Endpoint, &w.HTTPMethod, &w.RequestFormat, &w.Status, &subs,
		&authType, &authData, &headers, &w.SigningSecret, &failing, &w.LastFailure, &w.CreatedBy, &w.UpdatedBy, &created, &updated)
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(subs), &w.Subscriptions)
	_ = json.Unmarshal([]byte(headers), &w.CustomHeaders)
	if authType != "" {
		w.Auth = &Auth{Type: authType, AddPosition: "header"}
		_ = json.Unmarshal([]byte(authData), &w.Auth.Data)
	}
	w.FailingSince, w.CreatedAt, w.UpdatedAt = store.Time(failing), store.Time(created), store.Time(updated)
	return &w, nil
}

// columns returns the stored form of w's JSON columns.
func (w *Webhook) columns() (subs, authType, authData, headers string) {
	b, _ := json.Marshal(w.Subscriptions)
	subs = string(b)
	authData = "{}"
	if w.Auth != nil {
		authType = w.Auth.Type
		b, _ = json.Marshal(w.Auth.Data)
		authData = string(b)
	}
	if w.CustomHeaders == nil {
		headers = "{}"
	} else {
		b, _ = json.Marshal(w.CustomHeaders)
		headers = string(b)
	}
	return
}

// Create validates w and stores it with a new id and signing secret.
func Create(ctx context.Context, tx *store.Tx, acct ids.Account, by ids.User, w *Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	now := store.Now()
	w.ID, w.AccountID, w.SigningSecret = NewID(), acct, NewSecret()
	w.CreatedBy, w.UpdatedBy, w.CreatedAt, w.UpdatedAt = by, by, now, now
	subs, at, ad, hd := w.columns()
	_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?, ?, ?)`,
		w.ID, acct, w.Name, w.Description, w.Endpoint, w.HTTPMethod, w.RequestFormat, w.Status, subs, at, ad, hd, w.SigningSecret,
		by, by, store.Micros(now), store.Micros(now))
	if err != nil {
		return fmt.Errorf("webhook: create: %w", err)
	}
	return nil
}

// Get returns a webhook of the account; another account's is not found.
func Get(ctx context.Context, q store.Queryer, acct ids.Account, id string) (*Webhook, error) {
	w, err := scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM webhooks WHERE account_id = ? AND id = ?`, acct, id))
	if errors.Is(err, store.ErrNoRows) {
		return nil, errs.NotFoundf("Webhook %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: get: %w", err)
	}
	return w, nil
}

// Filter narrows List.
type Filter struct {
	Status       string
	NameContains string
	// After is the id the page starts after ("" from the first).
	After string
	Limit int
}

// List returns the account's webhooks in creation order (ids are ULIDs), at most
// f.Limit of them, and whether more follow.
func List(ctx context.Context, q store.Queryer, acct ids.Account, f Filter) ([]*Webhook, bool, error) {
	where, args := `account_id = ?`, []any{acct}
	if f.Status != "" {
		where, args = where+` AND status = ?`, append(args, f.Status)
	}
	if f.NameContains != "" {
		where, args = where+` AND LOWER(name) LIKE ? ESCAPE '\'`, append(args, "%"+likeEscape(strings.ToLower(f.NameContains))+"%")
	}
	if f.After != "" {
		where, args = where+` AND id > ?`, append(args, f.After)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := q.QueryContext(ctx, `SELECT `+cols+` FROM webhooks WHERE `+where+` ORDER BY id LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("webhook: list: %w", err)
	}
	defer rows.Close()
	var out []*Webhook
	for rows.Next() {
		w, err := scan(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Save validates w and stores its editable fields.
func Save(ctx context.Context, tx *store.Tx, by ids.User, w *Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	w.UpdatedBy, w.UpdatedAt = by, store.Now()
	subs, at, ad, hd := w.columns()
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET name = ?, description = ?, endpoint = ?, http_method = ?, request_format = ?, status = ?,
		subscriptions = ?, auth_type = ?, auth_data = ?, custom_headers = ?, updated_by = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		w.Name, w.Description, w.Endpoint, w.HTTPMethod, w.RequestFormat, w.Status, subs, at, ad, hd, by, store.Micros(w.UpdatedAt), w.AccountID, w.ID)
	if err != nil {
		return fmt.Errorf("webhook: save: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Webhook %s not found", w.ID)
	}
	return nil
}

// Delete removes a webhook; its calls still waiting are cancelled (and retention
// removes its log with the other cancelled calls).
func Delete(ctx context.Context, tx *store.Tx, acct ids.Account, id string) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE account_id = ? AND id = ?`, acct, id)
	if err != nil {
		return fmt.Errorf("webhook: delete: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("Webhook %s not found", id)
	}
	if err := delivery.Cancel(ctx, tx, "webhook_outbox", "webhook deleted", "account_id = ? AND webhook_id = ?", acct, id); err != nil {
		return fmt.Errorf("webhook: cancel calls: %w", err)
	}
	return nil
}

// ResetSecret gives a webhook a new signing secret and returns it.
func ResetSecret(ctx context.Context, tx *store.Tx, acct ids.Account, by ids.User, id string) (string, error) {
	secret := NewSecret()
	res, err := tx.ExecContext(ctx, `UPDATE webhooks SET signing_secret = ?, updated_by = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		secret, by, store.Micros(store.Now()), acct, id)
	if err != nil {
		return "", fmt.Errorf("webhook: reset secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", errs.NotFoundf("Webhook %s not found", id)
	}
	return secret, nil
}

// SetFailing records that a call of the webhook was given up on (reason != "") or
// that one was delivered again (reason == ""). It reports whether the webhook's health
// changed (healthy to failing, or back).
func SetFailing(ctx context.Context, tx *store.Tx, acct ids.Account, id, reason string) (bool, error) {
	if reason == "" { // the common case, one statement: a delivered call
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = 0, last_failure = '' WHERE account_id = ? AND id = ? AND failing_since <> 0`, acct, id)
		if err != nil {
			return false, fmt.Errorf("webhook: health: %w", err)
		}
		n, _ := res.RowsAffected()
		return n > 0, nil
	}
	var since int64
	err := tx.QueryRowContext(ctx, `SELECT failing_since FROM webhooks WHERE account_id = ? AND id = ?`, acct, id).Scan(&since)
	if errors.Is(err, store.ErrNoRows) {
		return false, nil // deleted meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("webhook: health: %w", err)
	}
	healthy := since == 0
	if healthy {
		since = store.Micros(store.Now())
	}
	_, err = tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = ?, last_failure = ? WHERE account_id = ? AND id = ?`, since, reason, acct, id)
	return healthy && err == nil, err
}
