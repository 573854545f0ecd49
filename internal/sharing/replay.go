package sharing

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"tandem/internal/store"
)

// replayed records the signature of a verified signed call and reports whether it was
// already recorded within the signature window, that is, whether the call is a replay.
// The window lives in the database (sharing_replay), so a call captured and replayed to
// another server process on the same database is refused as well; the hourly
// housekeeping deletes expired signatures.
//
// A signature stays recorded for twice the window: its timestamp may lie up to a window
// ahead of this server's clock and still verify for a window after that.
func (s *Service) replayed(ctx context.Context, sig string, now time.Time) (bool, error) {
	var fresh bool
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		fresh, err = s.recordSignature(ctx, tx, sig, now)
		return err
	})
	return !fresh, err
}

// recordSignature records sig in tx and says whether it is new (not recorded within the
// window). On PostgreSQL a transaction recording the same signature meanwhile makes it
// wait for that one's end: after its commit the signature is not new, after its
// rollback it is.
func (s *Service) recordSignature(ctx context.Context, tx *store.Tx, sig string, now time.Time) (bool, error) {
	// A row whose time has passed is taken over; a live one is left alone, and no
	// row changes.
	res, err := tx.ExecContext(ctx, `INSERT INTO sharing_replay (signature, expires_at) VALUES (?, ?)
		ON CONFLICT (signature) DO UPDATE SET expires_at = excluded.expires_at WHERE sharing_replay.expires_at < ?`,
		sig, store.Micros(now.Add(2*s.cfg.SignatureWindow)), store.Micros(now))
	if err != nil {
		return false, fmt.Errorf("sharing: record signature: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sharing: record signature: %w", err)
	}
	return n > 0, nil
}

// errReplayed refuses a signed call already received: answered as retryable, since an
// honest sender retrying within the same second produces the same signature, and
// re-signs its next try.
var errReplayed = perr(http.StatusConflict, "Replayed", "this signed request was already received")
