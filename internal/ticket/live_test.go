package ticket_test

import (
	"context"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/testkit"
	"tandem/internal/ticket"
)

// TestLiveCountCountsEachCreateOnce (both databases): the account's live ticket count
// (ticket.LiveCount, what the list's count shows) follows creates of every kind and
// deletes, and a create that fails counts nothing. On PostgreSQL a plain create
// inserts its count difference in the statement that writes the ticket (insertCreated),
// a create with a rating through addLive: each must count once.
func TestLiveCountCountsEachCreateOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, desk *testkit.Desk) {
		ctx := context.Background()
		a := desk.Account(t, "acme", account.Enterprise)
		acct := a.Loaded(t)
		actor := a.User(t, identity.Agent, "agent@example.test", "Agent").Actor()
		requester := a.User(t, identity.EndUser, "r@example.test", "R").Actor()
		rid := requester.UserID
		create := func(p *ticket.Patch) ids.Ticket {
			t.Helper()
			p.RequesterID = &rid
			res, err := desk.Srv.Tickets.Create(ctx, acct, actor, p)
			if err != nil {
				t.Fatal(err)
			}
			return res.Ticket.ID
		}
		check := func(want int) {
			t.Helper()
			live, err := ticket.LiveCount(ctx, desk.DB.R(), acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			var rows int
			if err := desk.DB.R().QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE account_id = ? AND deleted_at = 0`, acct.ID).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if live != want || rows != want {
				t.Fatalf("live count %d, live tickets %d, want %d", live, rows, want)
			}
		}

		check(0)
		// More creates than foldLiveEvery, so that folds run among them.
		var first ids.Ticket
		for i := range 150 {
			id := create(&ticket.Patch{Subject: ticket.Ptr("printer"), Tags: &[]string{"a", "b"},
				Comment: &ticket.CommentInput{Body: "the printer jams", AuthorID: rid}})
			if i == 0 {
				first = id
			}
		}
		check(150)
		// Rated by its requester as it is created: the path without insertCreated.
		if _, err := desk.Srv.Tickets.Create(ctx, acct, requester, &ticket.Patch{Subject: ticket.Ptr("rated"), RequesterID: &rid, Status: ticket.Ptr(ticket.Solved),
			Satisfaction: &ticket.Satisfaction{Score: ticket.ScoreGood}, Comment: &ticket.CommentInput{Body: "thanks", AuthorID: rid}}); err != nil {
			t.Fatal(err)
		}
		create(&ticket.Patch{Subject: ticket.Ptr("no tags"), Comment: &ticket.CommentInput{Body: "untagged", AuthorID: rid}})
		check(152)

		// A create refused inside its statement (two comments with one uuid) rolls
		// back with its count.
		_, err := desk.Srv.Tickets.Create(ctx, acct, actor, &ticket.Patch{Subject: ticket.Ptr("twice"), RequesterID: &rid,
			Comment:      &ticket.CommentInput{Body: "one", AuthorID: rid, UUID: "dup"},
			MoreComments: []*ticket.CommentInput{{Body: "two", AuthorID: rid, UUID: "dup"}}})
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("a create with two comments of one uuid: %v, want a conflict", err)
		}
		check(152)

		if _, err := desk.Srv.Tickets.Update(ctx, acct, actor, first, &ticket.Patch{Delete: true}); err != nil {
			t.Fatal(err)
		}
		check(151)
	})
}
