package org_test

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
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

func TestNormalizeDomains(t *testing.T) {
	cases := []struct {
		in       []string
		out, bad []string
	}{
		{[]string{"Example.COM", "example.com", "@other.test."}, []string{"example.com", "other.test"}, nil},
		{[]string{"a.test b.test,c.test"}, []string{"a.test", "b.test", "c.test"}, nil},
		{[]string{"localhost", "bad_domain.com", "-x.com", "ok.io"}, []string{"ok.io"}, []string{"localhost", "bad_domain.com", "-x.com"}},
		{nil, []string{}, nil},
	}
	for _, c := range cases {
		out, bad := org.NormalizeDomains(c.in)
		if !slices.Equal(out, c.out) || !slices.Equal(bad, c.bad) {
			t.Errorf("NormalizeDomains(%q) = %q, %q; want %q, %q", c.in, out, bad, c.out, c.bad)
		}
	}
}

// setup creates an account of the plan with users; each email is verified unless it
// starts with "unverified".
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

func TestOrgValidationAndUniqueness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, _ := setup(t, db, account.Team)
		create := func(o *org.Organization) error {
			return write(t, db, func(ctx context.Context, tx *store.Tx) error { return org.CreateOrg(ctx, tx, acct, o) })
		}
		if err := create(&org.Organization{Name: "Acme", ExternalID: "X1"}); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct {
			o     *org.Organization
			field string
			code  string
		}{
			"blank name":       {&org.Organization{Name: "  "}, "name", "BlankValue"},
			"duplicate name":   {&org.Organization{Name: " ACME "}, "name", "DuplicateValue"},
			"duplicate ext id": {&org.Organization{Name: "Other", ExternalID: "x1"}, "external_id", "DuplicateValue"},
			"bad domain":       {&org.Organization{Name: "Dom", DomainNames: []string{"no way"}}, "domain_names", "InvalidValue"},
			"missing group":    {&org.Organization{Name: "Routed", GroupID: 12345}, "group_id", "InvalidValue"},
		} {
			err := create(c.o)
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || len(e.Details[c.field]) == 0 || e.Details[c.field][0].Error != c.code {
				t.Errorf("%s: err = %v, want %s on %s", name, err, c.code, c.field)
			}
		}
	})
}

func TestMembershipDefaultsAndOrgDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, us := setup(t, db, account.Professional, "a@x.test")
		u := us[0].ID
		var o1, o2 *org.Organization
		var m1, m2 int64
		err := write(t, db, func(ctx context.Context, tx *store.Tx) error {
			o1, o2 = &org.Organization{Name: "One"}, &org.Organization{Name: "Two"}
			if err := org.CreateOrg(ctx, tx, acct, o1); err != nil {
				return err
			}
			if err := org.CreateOrg(ctx, tx, acct, o2); err != nil {
				return err
			}
			var err error
			if m1, err = org.InsertMembership(ctx, tx, acct.ID, u, o1.ID, true, ""); err != nil {
				return err
			}
			m2, err = org.InsertMembership(ctx, tx, acct.ID, u, o2.ID, true, "")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		userOrg := func() ids.Org {
			got, err := identity.Get(context.Background(), db.R(), acct.ID, u)
			if err != nil {
				t.Fatal(err)
			}
			return got.OrganizationID
		}
		if userOrg() != o2.ID {
			t.Fatalf("default org = %d, want %d", userOrg(), o2.ID)
		}
		// Removing the default promotes the other membership.
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error { return org.RemoveMembership(ctx, tx, acct.ID, m2) }); err != nil {
			t.Fatal(err)
		}
		m, err := org.GetMembership(context.Background(), db.R(), acct.ID, m1)
		if err != nil || !m.Default || userOrg() != o1.ID {
			t.Fatalf("after removing default: membership %+v (%v), user org %d", m, err, userOrg())
		}
		// Deleting the organization clears the user's default.
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error { return org.DeleteOrg(ctx, tx, acct.ID, o1.ID) }); err != nil {
			t.Fatal(err)
		}
		if userOrg() != 0 {
			t.Fatalf("user org after delete = %d", userOrg())
		}
		if _, err := org.GetMembership(context.Background(), db.R(), acct.ID, m1); !errs.Is(err, errs.NotFound) {
			t.Fatalf("membership after org delete: %v", err)
		}
	})
}

func TestGroupMembershipsAreForStaff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		acct, us := setup(t, db, account.Team, "end@x.test")
		ctx := context.Background()
		var agent *identity.User
		g1, g2 := &org.Group{AccountID: acct.ID, Name: "One", IsPublic: true}, &org.Group{AccountID: acct.ID, Name: "Two", IsPublic: true}
		err := write(t, db, func(ctx context.Context, tx *store.Tx) error {
			agent = &identity.User{AccountID: acct.ID, Name: "Agent", Email: "agent@x.test", Role: identity.Agent, Verified: true}
			if err := identity.Insert(ctx, tx, agent); err != nil {
				return err
			}
			if err := org.CreateGroup(ctx, tx, g1); err != nil {
				return err
			}
			return org.CreateGroup(ctx, tx, g2)
		})
		if err != nil {
			t.Fatal(err)
		}
		if !g1.Default || g2.Default {
			t.Fatalf("defaults: %v %v", g1.Default, g2.Default)
		}
		err = write(t, db, func(ctx context.Context, tx *store.Tx) error {
			_, _, err := org.AddGroupMembership(ctx, tx, acct.ID, us[0].ID, g1.ID, false)
			return err
		})
		if e, ok := errs.As(err); !ok || len(e.Details["user_id"]) == 0 {
			t.Fatalf("end user in a group: %v", err)
		}
		var m1 *org.GroupMembership
		err = write(t, db, func(ctx context.Context, tx *store.Tx) error {
			var err error
			if m1, _, err = org.AddGroupMembership(ctx, tx, acct.ID, agent.ID, g1.ID, false); err != nil {
				return err
			}
			_, _, err = org.AddGroupMembership(ctx, tx, acct.ID, agent.ID, g2.ID, false)
			return err
		})
		if err != nil || !m1.Default {
			t.Fatalf("memberships: %v %+v", err, m1)
		}
		// Deleting the default group moves both defaults along.
		if err := write(t, db, func(ctx context.Context, tx *store.Tx) error { return org.DeleteGroup(ctx, tx, acct.ID, g1.ID) }); err != nil {
			t.Fatal(err)
		}
		u, _ := identity.Get(ctx, db.R(), acct.ID, agent.ID)
		g, _ := org.GetGroup(ctx, db.R(), acct.ID, g2.ID)
		if u.DefaultGroupID != g2.ID || !g.Default {
			t.Fatalf("after deleting the default group: user default %d, group two default %v", u.DefaultGroupID, g.Default)
		}
	})
}
