package server

import (
	"context"
	"strings"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/mailin"
	"tandem/internal/people"
	"tandem/internal/rules"
	"tandem/internal/store"
)

// NewAccount describes an account to create with its first admin.
type NewAccount struct {
	Subdomain  string
	Name       string
	Plan       account.Plan
	AdminEmail string
	AdminName  string
	// AdminPassword is optional (API-token-only admins can set one later).
	AdminPassword string
	// SupportAddress is the account's default support address (Config.SupportAddress);
	// empty leaves it to be created on first use.
	SupportAddress string
}

// Provisioned is a created account, its admin and the admin's API token (shown once).
type Provisioned struct {
	Account  *account.Account
	Admin    *identity.User
	APIToken string
}

// Provision creates an account, its admin user and an API token, in one transaction.
func Provision(ctx context.Context, db *store.DB, in NewAccount) (*Provisioned, error) {
	email, ok := identity.NormalizeEmail(in.AdminEmail)
	if !ok {
		return nil, errs.Invalidf("admin_email", "InvalidValue", "%q is not a valid email address", in.AdminEmail)
	}
	if in.AdminName == "" {
		in.AdminName = strings.SplitN(email, "@", 2)[0]
	}
	var out Provisioned
	err := db.Write(ctx, func(tx *store.Tx) error {
		a, err := account.Create(ctx, tx, in.Subdomain, in.Name, in.Plan)
		if err != nil {
			return err
		}
		res, err := people.WriteUser(ctx, tx, a, people.System, &people.UserChange{
			User:     &identity.User{Name: in.AdminName, Email: email, Role: identity.Admin, Verified: true},
			Password: in.AdminPassword,
		})
		if err != nil {
			return err
		}
		u := res.User
		tok, err := identity.CreateToken(ctx, tx, a.ID, u.ID, "created with the account")
		if err != nil {
			return err
		}
		out = Provisioned{Account: a, Admin: u, APIToken: tok}
		if in.SupportAddress != "" {
			if err := mailin.CreateDefaultAddress(ctx, tx, a.ID, in.SupportAddress); err != nil {
				return err
			}
		}
		// The account starts with Zendesk's default views and triggers.
		return rules.Provision(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
