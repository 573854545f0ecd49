package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNotPostgres is returned by PgConn on a database that is not PostgreSQL.
var ErrNotPostgres = errors.New("store: needs PostgreSQL")

// PgConn runs f on one connection of the pool as the pgx connection underneath, for what
// database/sql cannot do (COPY, for a bulk load). f opens and ends its own transactions
// on it; the connection goes back to the pool afterwards, so f must leave no session
// setting behind (SET LOCAL, inside f's transaction, ends with it).
func (db *DB) PgConn(ctx context.Context, f func(*pgx.Conn) error) error {
	if db.Dialect != Postgres {
		return ErrNotPostgres
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return f(dc.(*stdlib.Conn).Conn()) })
}

// PrepareContext prepares q on the transaction's connection, for a statement that a bulk
// load runs many times in one transaction (the store's statement cache only learns a
// query after its transaction). The caller closes the statement.
func (tx *Tx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	tx.beforeStatement(tx.ctx(ctx))
	return tx.tx.PrepareContext(tx.ctx(ctx), tx.db.Rebind(q))
}
