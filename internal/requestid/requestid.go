// Package requestid gives every HTTP request an id: the client receives it in the
// X-Request-Id header (and in the body of an internal error), the request's context
// carries it, and every log line written with that context carries it as request_id,
// so that an operator can find every line about the request a client reports.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
)

// Header is the request and response header carrying the id.
const Header = "X-Request-Id"

// Key is the log attribute naming the id.
const Key = "request_id"

type ctxKey struct{}

// NewContext returns ctx carrying the request id.
func NewContext(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the request id ctx carries ("" if none).
func FromContext(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Middleware gives each request its id: the caller's X-Request-Id when it is sane (so
// that a proxy's id follows the request), else a new one. It sets the response header
// and puts the id in the request's context.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if len(id) == 0 || len(id) > 128 || strings.ContainsAny(id, "\r\n\t ") {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// Logger returns log adding request_id to every line logged with a context that
// carries one (the ...Context methods: log.ErrorContext(r.Context(), ...)).
func Logger(log *slog.Logger) *slog.Logger {
	if _, ok := log.Handler().(handler); ok {
		return log
	}
	return slog.New(handler{log.Handler()})
}

// handler adds the context's request id to each record.
type handler struct{ next slog.Handler }

func (h handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if id := FromContext(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String(Key, id))
	}
	return h.next.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.next.WithAttrs(as)} }

func (h handler) WithGroup(name string) slog.Handler { return handler{h.next.WithGroup(name)} }
