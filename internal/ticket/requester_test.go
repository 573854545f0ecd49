package ticket_test

import (
	"context"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestCreateTakesRequesterUser: a create given the requester's user (Patch.RequesterUser,
// inbound mail's sender) takes it instead of reading it again; a user of another
// account, or another user than RequesterID names, is not taken: the requester is read
// as before, so a user of another account is refused.
func TestCreateTakesRequesterUser(t *testing.T) {
	ctx := context.Background()
	desk := testkit.Start(t, store.SQLite)
	a := desk.Account(t, "acme", account.Enterprise)
	b := desk.Account(t, "globex", account.Enterprise)
	acct, err := desk.Srv.Accounts.ByID(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	user := func(acc *testkit.Acct, email string) *identity.User {
		c := acc.User(t, identity.EndUser, email, "U")
		u, err := identity.Get(ctx, desk.DB.R(), acc.ID, ids.User(c.UserID))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	u1, u2, other := user(a, "u1@example.test"), user(a, "u2@example.test"), user(b, "x@example.test")
	create := func(id ids.User, given *identity.User) (*ticket.Result, error) {
		actor := ticket.Actor{UserID: id, Role: identity.EndUser}
		return desk.Srv.Tickets.Create(ctx, acct, actor, &ticket.Patch{Subject: ticket.Ptr("help"), RequesterID: &id, RequesterUser: given,
			Comment: &ticket.CommentInput{Body: "help", AuthorID: id}})
	}

	res, err := create(u1.ID, u1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Change.Requester != u1 {
		t.Errorf("the requester given was read again: %+v", res.Change.Requester)
	}

	res, err = create(u1.ID, u2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Change.Requester == u2 || res.Change.Requester.ID != u1.ID || res.Ticket.RequesterID != u1.ID {
		t.Errorf("another user than RequesterID was taken: requester %d, ticket's %d", res.Change.Requester.ID, res.Ticket.RequesterID)
	}

	// globex's user, with an id that is no user of acme's.
	if _, err := identity.Get(ctx, desk.DB.R(), a.ID, other.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("globex's user %d is acme's too (%v): the test needs it not to be", other.ID, err)
	}
	if res, err := create(other.ID, other); !errs.Is(err, errs.Invalid) {
		t.Fatalf("a ticket of acme for globex's user: %v, %+v", err, res)
	}
}
