package mailthread_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/mailthread"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func TestTokenRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var tok, again string
		err := db.Write(ctx, func(tx *store.Tx) error {
			var err error
			if tok, err = mailthread.Token(ctx, tx, 1, 42); err != nil {
				return err
			}
			again, err = mailthread.Token(ctx, tx, 1, 42)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if tok != again {
			t.Fatalf("second Token = %q, want the first %q", again, tok)
		}
		id, ok, err := mailthread.Lookup(ctx, db.R(), 1, strings.ToUpper(tok))
		if err != nil || !ok || id != 42 {
			t.Fatalf("Lookup = %d %v %v, want 42", id, ok, err)
		}
		// Another account never finds it.
		if _, ok, _ := mailthread.Lookup(ctx, db.R(), 2, tok); ok {
			t.Fatal("a token was found in another account")
		}
		if _, ok, _ := mailthread.Lookup(ctx, db.R(), 1, "tkt-'; drop table x"); ok {
			t.Fatal("a malformed token was found")
		}

		mid := mailthread.MessageID(tok, "acme.example")
		reply := mailthread.ReplyAddress("support@acme.example", tok)
		got := mailthread.TokensIn("<a@b> "+mid, "Acme <"+reply+">", mid)
		if len(got) != 1 || got[0] != tok {
			t.Fatalf("TokensIn = %v, want [%s]", got, tok)
		}
		if a, b := mailthread.MessageID(tok, "d"), mailthread.MessageID(tok, "d"); a == b {
			t.Fatal("two Message-IDs are equal")
		}
	})
}

func TestTokensInIgnoresLookalikes(t *testing.T) {
	for _, v := range []string{"", "tkt-", "tkt-short", "tkt-abcdefghijklmnopqrstuvwxyz2", "tkt-ABCDEFGHIJKLMNOPQRSTUVWX01"} {
		if got := mailthread.TokensIn(v); len(got) != 0 {
			t.Errorf("TokensIn(%q) = %v, want none", v, got)
		}
	}
}
