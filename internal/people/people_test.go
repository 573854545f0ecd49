package people_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// setup creates an account of the plan with end users; each email is verified unless
// it starts with "unverified".
func setup(t *testing.T, db *store.DB, plan account.Plan, emails ...string) (*account.Account, []*identity.User) {
	t.Helper()
	ctx := context.Background()
	var acct *account.Account
	var users []*identity.User
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if acct, err = account.Create(ctx, tx, "acme", "Acme", plan); err != nil {
			return err
		}
		for i, e := range emails {
			u := &identity.User{AccountID: acct.ID, Name: fmt.Sprintf("User %d", i), Email: e, Role: identity.EndUser, Verified: e[:3] != "unv"}
			if err := identity.Insert(ctx, tx, u); err != nil {
				return err
			}
			users = append(users, u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return acct, users
}

func write(t *testing.T, db *store.DB, f func(ctx context.Context, tx *store.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	return db.Write(ctx, func(tx *store.Tx) error { return f(ctx, tx) })
}

func writeOrg(ctx context.Context, tx *store.Tx, acct *account.Account, before, o *org.Organization) error {
	cp := *o
	res, err := people.WriteOrg(ctx, tx, acct, people.System, &people.OrgChange{Before: before, Org: &cp})
	if err == nil {
		*o = *res.Org
	}
	return err
}

func get(t *testing.T, db *store.DB, acct ids.Account, id ids.Org) *org.Organization {
	t.Helper()
	o, err := org.GetOrg(context.Background(), db.R(), acct, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func members(t *testing.T, db *store.DB, acct ids.Account, o ids.Org) []ids.User {
	t.Helper()
	ms, err := org.OrgMemberships(context.Background(), db.R(), acct, o)
	if err != nil {
		t.Fatal(err)
	}
	var out []ids.User
	for _, m := range ms {
		out = append(out, m.UserID)
	}
	slices.Sort(out)
	return out
}

func TestOrgDomainsJoinVerifiedUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, us := setup(t, db, account.Enterprise, "a@example.com", "unverified@example.com", "b@sub.example.com", "c@other.test")
		o := &org.Organization{Name: "Example", DomainNames: []string{"EXAMPLE.com"}}
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error { return writeOrg(ctx, tx, acct, nil, o) }); err != nil {
			t.Fatal(err)
		}
		if got := members(t, db, acct.ID, o.ID); !slices.Equal(got, []ids.User{us[0].ID}) {
			t.Fatalf("members = %v, want only %d", got, us[0].ID)
		}
		// Adding a domain joins that domain's verified users; the old ones stay.
		o.DomainNames = []string{"example.com", "other.test"}
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error {
			return writeOrg(ctx, tx, acct, get(t, db, acct.ID, o.ID), o)
		}); err != nil {
			t.Fatal(err)
		}
		if got := members(t, db, acct.ID, o.ID); !slices.Equal(got, []ids.User{us[0].ID, us[3].ID}) {
			t.Fatalf("members after adding other.test = %v", got)
		}
		// The joined user's default organization is set.
		u, err := identity.Get(context.Background(), db.R(), acct.ID, us[3].ID)
		if err != nil || u.OrganizationID != o.ID {
			t.Fatalf("user = %+v, %v", u, err)
		}
		// Removing a domain removes the users it mapped in.
		o.DomainNames = []string{"other.test"}
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error {
			return writeOrg(ctx, tx, acct, get(t, db, acct.ID, o.ID), o)
		}); err != nil {
			t.Fatal(err)
		}
		if got := members(t, db, acct.ID, o.ID); !slices.Equal(got, []ids.User{us[3].ID}) {
			t.Fatalf("members after removing example.com = %v", got)
		}
		if u, _ := identity.Get(context.Background(), db.R(), acct.ID, us[0].ID); u.OrganizationID != 0 {
			t.Fatalf("unmapped user keeps organization %d", u.OrganizationID)
		}
	})
}

func TestPlanLimitsMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, us := setup(t, db, account.Team, "a@x.test")
		one, two := &org.Organization{Name: "One"}, &org.Organization{Name: "Two"}
		err := write(t, db, func(ctx context.Context, tx *store.Tx) error {
			if err := writeOrg(ctx, tx, acct, nil, one); err != nil {
				return err
			}
			if err := writeOrg(ctx, tx, acct, nil, two); err != nil {
				return err
			}
			_, err := people.AddMembership(ctx, tx, acct, people.System, us[0].ID, one.ID, false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = write(t, db, func(ctx context.Context, tx *store.Tx) error {
			_, err := people.AddMembership(ctx, tx, acct, people.System, us[0].ID, two.ID, false)
			return err
		})
		if !errs.Is(err, errs.PlanRequired) {
			t.Fatalf("second organization on Team: %v, want PlanRequired", err)
		}
	})
}

// TestRulesRefuseTheSameWayForEveryActor checks the rules that do not depend on who
// asks: an admin, and the system, get the same answers.
func TestRulesRefuseTheSameWayForEveryActor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, _ := setup(t, db, account.Enterprise)
		first := &org.Organization{Name: "First", DomainNames: []string{"first.test"}}
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error { return writeOrg(ctx, tx, acct, nil, first) }); err != nil {
			t.Fatal(err)
		}
		admin := &identity.User{ID: 999, Role: identity.Admin}
		for _, by := range []people.Actor{people.System, people.By(admin)} {
			err := write(t, db, func(ctx context.Context, tx *store.Tx) error {
				_, err := people.WriteOrg(ctx, tx, acct, by, &people.OrgChange{Org: &org.Organization{Name: "Talkative", SharedComments: true}})
				return err
			})
			if e, ok := errs.As(err); !ok || len(e.Details["shared_comments"]) == 0 {
				t.Errorf("shared_comments without shared_tickets by %+v: %v", by, err)
			}
			err = write(t, db, func(ctx context.Context, tx *store.Tx) error {
				_, err := people.WriteOrg(ctx, tx, acct, by, &people.OrgChange{Org: &org.Organization{Name: "Copycat", DomainNames: []string{"FIRST.test"}}})
				return err
			})
			if e, ok := errs.As(err); !ok || len(e.Details["domain_names"]) == 0 || e.Details["domain_names"][0].Error != "DuplicateValue" {
				t.Errorf("a domain of First by %+v: %v", by, err)
			}
		}
	})
}

// TestNewUserAsStoredAfterDomainJoin: a user created from an email joins its domain's
// organization, and the user returned is as stored (read again after the join: its
// default organization); one that joins nothing is returned as stored too, without
// that second read.
func TestNewUserAsStoredAfterDomainJoin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, _ := setup(t, db, account.Enterprise)
		o := &org.Organization{Name: "Example", DomainNames: []string{"example.com"}}
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error { return writeOrg(ctx, tx, acct, nil, o) }); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			email string
			org   ids.Org
		}{{"new@example.com", o.ID}, {"new@elsewhere.test", 0}} {
			var u *identity.User
			if err := write(t, db, func(ctx context.Context, tx *store.Tx) (err error) {
				u, err = people.FindOrCreateUser(ctx, tx, acct, people.System, "New", c.email, "")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			stored, err := identity.Get(context.Background(), db.R(), acct.ID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if u.OrganizationID != c.org || stored.OrganizationID != c.org || !u.UpdatedAt.Equal(stored.UpdatedAt) {
				t.Errorf("%s: returned organization %d (updated %v), stored %d (updated %v), want %d", c.email, u.OrganizationID, u.UpdatedAt, stored.OrganizationID, stored.UpdatedAt, c.org)
			}
		}
	})
}
