package identity_test

import (
	"context"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func newAccount(t *testing.T, db *store.DB) ids.Account {
	t.Helper()
	ctx := context.Background()
	var id ids.Account
	err := db.Write(ctx, func(tx *store.Tx) error {
		a, err := account.Create(ctx, tx, "acme", "Acme", account.Team)
		if a != nil {
			id = a.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func insert(t *testing.T, db *store.DB, u *identity.User) {
	t.Helper()
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error { return identity.Insert(ctx, tx, u) }); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	ok := identity.User{Name: "Eve", Role: identity.EndUser, Email: "eve@x.test", Locale: "en-US"}
	if err := identity.Validate(&ok); err != nil {
		t.Fatalf("valid user: %v", err)
	}
	for field, mutate := range map[string]func(u *identity.User){
		"name":               func(u *identity.User) { u.Name = " " },
		"role":               func(u *identity.User) { u.Role = "owner" },
		"email":              func(u *identity.User) { u.Email = "Eve@X.test" },
		"ticket_restriction": func(u *identity.User) { u.TicketRestriction = "all" },
		"locale":             func(u *identity.User) { u.Locale = "en US" },
		"phone":              func(u *identity.User) { u.Phone = strings.Repeat("1", 51) },
		"notes":              func(u *identity.User) { u.Notes = strings.Repeat("n", 65536) },
		"tags":               func(u *identity.User) { u.Tags = []string{strings.Repeat("t", 256)} },
	} {
		u := ok
		mutate(&u)
		e, isErr := errs.As(identity.Validate(&u))
		if !isErr || len(e.Details[field]) == 0 {
			t.Errorf("%s: Validate = %v, want an error on %s", field, e, field)
		}
	}
}

// An address that is another user's secondary identity can't become anyone's primary.
func TestSaveDoesNotTakeAnotherUsersIdentity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acct := newAccount(t, db)
		a := &identity.User{AccountID: acct, Name: "A", Email: "a@x.test", Role: identity.EndUser, Verified: true}
		b := &identity.User{AccountID: acct, Name: "B", Email: "b@x.test", Role: identity.EndUser, Verified: true}
		insert(t, db, a)
		insert(t, db, b)
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := identity.AddIdentity(ctx, tx, acct, a.ID, "email", "A2@x.test", false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		b.Email = "a2@x.test"
		err = db.Write(ctx, func(tx *store.Tx) error { return identity.Save(ctx, tx, b) })
		if e, ok := errs.As(err); !ok || len(e.Details["email"]) == 0 || e.Details["email"][0].Error != "DuplicateValue" {
			t.Fatalf("Save with another user's address: %v", err)
		}
		owner, err := identity.ByEmail(ctx, db.R(), acct, "a2@x.test")
		if err != nil || owner.ID != a.ID {
			t.Fatalf("a2@x.test belongs to %v (%v), want %d", owner, err, a.ID)
		}
		is, err := identity.Identities(ctx, db.R(), acct, a.ID)
		if err != nil || len(is) != 2 || !is[0].Primary || is[0].Value != "a@x.test" || is[1].Primary {
			t.Fatalf("a's identities = %+v (%v)", is, err)
		}
	})
}

func TestIdentitiesAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acct := newAccount(t, db)
		// A user without email gets the first identity as primary.
		u := &identity.User{AccountID: acct, Name: "Phone Only", Role: identity.EndUser}
		insert(t, db, u)
		var first, second *identity.Identity
		err := db.Write(ctx, func(tx *store.Tx) error {
			var err error
			if first, err = identity.AddIdentity(ctx, tx, acct, u.ID, "email", "p@x.test", true); err != nil {
				return err
			}
			second, err = identity.AddIdentity(ctx, tx, acct, u.ID, "", "p2@x.test", false)
			return err
		})
		if err != nil || !first.Primary || second.Primary {
			t.Fatalf("identities: %v %+v %+v", err, first, second)
		}
		got, _ := identity.Get(ctx, db.R(), acct, u.ID)
		if got.Email != "p@x.test" || !got.Verified {
			t.Fatalf("user after first identity = %+v", got)
		}
		err = db.Write(ctx, func(tx *store.Tx) error { return identity.DeleteIdentity(ctx, tx, acct, u.ID, first.ID) })
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("deleting the primary identity: %v", err)
		}
		err = db.Write(ctx, func(tx *store.Tx) error {
			if _, err := identity.MakePrimary(ctx, tx, acct, u.ID, second.ID); err != nil {
				return err
			}
			return identity.DeleteIdentity(ctx, tx, acct, u.ID, first.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = identity.Get(ctx, db.R(), acct, u.ID)
		if got.Email != "p2@x.test" || got.Verified {
			t.Fatalf("user after make primary = %+v", got)
		}

		// Tokens: issued, listed without secrets, refused once revoked or suspended.
		var tok *identity.Token
		var secret string
		err = db.Write(ctx, func(tx *store.Tx) error {
			var err error
			tok, secret, err = identity.IssueToken(ctx, tx, acct, u.ID, "ci")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := identity.ByToken(ctx, db.R(), acct, "p2@x.test", secret); err != nil {
			t.Fatalf("ByToken: %v", err)
		}
		list, err := identity.Tokens(ctx, db.R(), acct)
		if err != nil || len(list) != 1 || list[0].ID != tok.ID || list[0].Description != "ci" {
			t.Fatalf("tokens = %+v (%v)", list, err)
		}
		got.Suspended = true
		if err := db.Write(ctx, func(tx *store.Tx) error { return identity.Save(ctx, tx, got) }); err != nil {
			t.Fatal(err)
		}
		if _, err := identity.ByToken(ctx, db.R(), acct, "", secret); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("suspended user's token: %v", err)
		}
		got.Suspended = false
		if err := db.Write(ctx, func(tx *store.Tx) error { return identity.Save(ctx, tx, got) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return identity.DeleteToken(ctx, tx, acct, tok.ID) }); err != nil {
			t.Fatal(err)
		}
		if _, err := identity.ByToken(ctx, db.R(), acct, "", secret); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("revoked token: %v", err)
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return identity.DeleteToken(ctx, tx, acct, tok.ID) }); !errs.Is(err, errs.NotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}

// A taken external ID is named as such (not as a taken email), on insert and on save,
// on both databases: the violated index is read from the driver's error, not its text.
func TestDuplicateExternalIDNamesTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acct := newAccount(t, db)
		a := &identity.User{AccountID: acct, Name: "A", Email: "a@x.test", ExternalID: "crm-1", Role: identity.EndUser}
		b := &identity.User{AccountID: acct, Name: "B", Email: "b@x.test", Role: identity.EndUser}
		insert(t, db, a)
		insert(t, db, b)
		wantExternal := func(what string, err error) {
			t.Helper()
			if e, ok := errs.As(err); !ok || len(e.Details["external_id"]) == 0 || e.Details["external_id"][0].Error != "DuplicateValue" {
				t.Fatalf("%s with a taken external ID: %v", what, err)
			}
		}
		c := &identity.User{AccountID: acct, Name: "C", Email: "c@x.test", ExternalID: "CRM-1", Role: identity.EndUser}
		wantExternal("Insert", db.Write(ctx, func(tx *store.Tx) error { return identity.Insert(ctx, tx, c) }))
		b.ExternalID = "crm-1"
		wantExternal("Save", db.Write(ctx, func(tx *store.Tx) error { return identity.Save(ctx, tx, b) }))
	})
}
