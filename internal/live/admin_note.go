package live

import (
	"context"
	"fmt"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// NoteWebhook: a webhook started failing (admins).
const NoteWebhook = "webhook"

// NotifyAdmins records, in tx, a notification of kind for every active admin of the
// account (something only they can act on, such as a failing webhook).
func (h *Hub) NotifyAdmins(ctx context.Context, tx *store.Tx, acct ids.Account, kind, body string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO live_notifications (account_id, user_id, kind, ticket_id, actor_id, body, created_at)
		SELECT account_id, id, ?, 0, 0, ?, ? FROM users WHERE account_id = ? AND role = 'admin' AND active = TRUE`,
		kind, body, store.Micros(store.Now()), acct)
	if err != nil {
		return fmt.Errorf("live: notify admins: %w", err)
	}
	return nil
}
