package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNoListen is returned by Listen on a database without LISTEN/NOTIFY (SQLite).
var ErrNoListen = errors.New("store: LISTEN needs PostgreSQL")

// Listen takes a connection out of the pool for as long as it runs, LISTENs on channel,
// calls ready once listening, and then f with each notification's payload, in order,
// until ctx ends or the connection fails. It returns the reason; the caller reconnects
// (the connection is never returned to the pool, so no LISTEN outlives it).
func (db *DB) Listen(ctx context.Context, channel string, ready func(), f func(payload string)) error {
	if db.Dialect != Postgres {
		return ErrNoListen
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Close()
	var lerr error
	_ = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		lerr = listen(ctx, pc, channel, ready, f)
		return driver.ErrBadConn // discard the connection: it is still listening
	})
	return lerr
}

func listen(ctx context.Context, pc *pgx.Conn, channel string, ready func(), f func(payload string)) error {
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("store: listen %s: %w", channel, err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("store: wait for notification: %w", err)
		}
		f(n.Payload)
	}
}
