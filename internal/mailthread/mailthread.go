// Package mailthread ties email conversations to tickets. Each ticket that mail is sent
// or received about has one unguessable reply token (table mail_threads). Outgoing mail
// carries the token in its Message-ID (<tkt-TOKEN.UNIQUE@domain>) and in the plus-address
// of its Reply-To (support+tkt-TOKEN@domain); an incoming reply finds its ticket by the
// tokens in its In-Reply-To, References and recipient addresses (TokensIn), looked up
// within the account the message was delivered to (Lookup).
package mailthread

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"

	"tandem/internal/store"
)

// prefix starts every token as it appears in headers and addresses.
const prefix = "tkt-"

// tokenLen is the length of a token without its prefix: rand.Text's 26 base32 letters,
// 130 bits.
const tokenLen = 26

// Token returns the ticket's reply token, creating it in tx on first use. Call it in the
// transaction that queues the outgoing mail, so the token exists whenever mail that
// carries it does.
func Token(ctx context.Context, tx *store.Tx, accountID, ticketID int64) (string, error) {
	var tok string
	err := tx.QueryRowContext(ctx,
		`SELECT token FROM mail_threads WHERE account_id = ? AND ticket_id = ?`,
		accountID, ticketID).Scan(&tok)
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return New(ctx, tx, accountID, ticketID)
}

// New creates the reply token of a ticket that has none yet, in tx: for a caller that
// knows the ticket has none (Token finds or creates it). A second token for the same
// ticket is refused by the table's unique key.
func New(ctx context.Context, tx *store.Tx, accountID, ticketID int64) (string, error) {
	tok := NewToken()
	if _, err := tx.ExecContext(ctx, Insert, accountID, ticketID, tok, store.Micros(store.Now())); err != nil {
		return "", err
	}
	return tok, nil
}

// NewToken returns a new reply token, not yet stored: for a caller that stores it with
// Insert inside a statement of its own (New is both).
func NewToken() string { return strings.ToLower(rand.Text()) }

// Insert is the statement that stores a ticket's reply token (New's). Its arguments are
// the account, the ticket, the token and the time (store.Micros). A second token for
// the same ticket is refused by the table's unique key.
const Insert = `INSERT INTO mail_threads (account_id, ticket_id, token, created_at) VALUES (?, ?, ?, ?)`

// Lookup finds the ticket a token belongs to within the account. A token of another
// account, or a malformed one, is not found (ok false, no error).
func Lookup(ctx context.Context, q store.Queryer, accountID int64, token string) (ticketID int64, ok bool, err error) {
	token = strings.ToLower(token)
	if !valid(token) {
		return 0, false, nil
	}
	err = q.QueryRowContext(ctx,
		`SELECT ticket_id FROM mail_threads WHERE account_id = ? AND token = ?`,
		accountID, token).Scan(&ticketID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return ticketID, true, nil
}

// MessageID returns a new Message-ID, angle brackets included, for mail about the
// ticket whose token is given: <tkt-TOKEN.UNIQUE@domain>. Each call gives a different id.
func MessageID(token, domain string) string {
	return "<" + prefix + token + "." + strings.ToLower(rand.Text()[:16]) + "@" + domain + ">"
}

// ReplyAddress returns the plus-address of a support address for the token:
// support@acme.example becomes support+tkt-TOKEN@acme.example.
func ReplyAddress(address, token string) string {
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return address
	}
	return address[:at] + "+" + prefix + token + address[at:]
}

// TokensIn returns the tokens found in header values (In-Reply-To, References) and
// addresses (To, Cc, Delivered-To), in the order found, without duplicates. It reads
// every "tkt-" followed by a well-formed token, so it does not need the values parsed.
func TokensIn(values ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		v = strings.ToLower(v)
		for {
			i := strings.Index(v, prefix)
			if i < 0 {
				break
			}
			v = v[i+len(prefix):]
			if len(v) < tokenLen {
				break
			}
			tok := v[:tokenLen]
			if valid(tok) && (len(v) == tokenLen || !isTokenChar(v[tokenLen])) && !seen[tok] {
				seen[tok] = true
				out = append(out, tok)
			}
		}
	}
	return out
}

// valid reports whether s has the shape of a token (lower-case base32).
func valid(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool { return c >= 'a' && c <= 'z' || c >= '2' && c <= '7' }
