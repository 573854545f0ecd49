package live

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestDeliveryEventNamesTheRowsTicket: a delivery's event names the ticket the outbox
// row gives, with no lookup of the share (a statement per delivery, so it is recorded
// even for a share this test never made); a row without one (0) looks the share up,
// and records nothing for a share that is gone.
func TestDeliveryEventNamesTheRowsTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{})
		events := func(tid ids.Ticket, share int64) []ids.Ticket {
			t.Helper()
			var got []ids.Ticket
			err := db.Write(ctx, func(tx *store.Tx) error {
				if err := h.DeliveryChanged(ctx, tx, 1, tid, share); err != nil {
					return err
				}
				rows, err := tx.QueryContext(ctx, `SELECT ticket_id FROM live_events WHERE kind = ? ORDER BY id`, KindDelivery)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var id ids.Ticket
					if err := rows.Scan(&id); err != nil {
						return err
					}
					got = append(got, id)
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := events(7, 999); len(got) != 1 || got[0] != 7 {
			t.Fatalf("delivery events %v after a delivery for ticket 7, want [7]", got)
		}
		if got := events(0, 999); len(got) != 1 {
			t.Fatalf("delivery events %v after a delivery without a ticket for a share that is gone, want [7] alone", got)
		}
	})
}
