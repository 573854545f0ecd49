package sharing

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"tandem/internal/account"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// TestAuthDatabaseFailureIsNotForbidden: when the agreement cannot be read (here the
// request's context is gone, as when the database refuses or times out), auth returns
// the error itself, which the handler answers with a 500 the sender retries; only an
// agreement that is really not there, or a wrong key, is a 403 that ends the delivery.
func TestAuthDatabaseFailureIsNotForbidden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := &Service{db: db}
		acct := &account.Account{ID: 1}
		token := wire.FormatToken(wire.NewUUID(), wire.NewAccessKey())

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		r := httptest.NewRequestWithContext(ctx, http.MethodPut, "/sharing/tickets/x", nil)
		r.Header.Set(wire.TokenHeader, token)
		err := s.auth(r, &protoCall{acct: acct})
		var pe *protoError
		if err == nil || errors.As(err, &pe) {
			t.Fatalf("auth with a failed read = %v, want the read's own error", err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("auth with a failed read = %v, want it to wrap context.Canceled", err)
		}

		r = httptest.NewRequestWithContext(t.Context(), http.MethodPut, "/sharing/tickets/x", nil)
		r.Header.Set(wire.TokenHeader, token)
		err = s.auth(r, &protoCall{acct: acct})
		if !errors.As(err, &pe) || pe.status != http.StatusForbidden {
			t.Fatalf("auth with an unknown agreement = %v, want a 403", err)
		}
	})
}
