package kb

import (
	"context"
	"fmt"
	"slices"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/store"
)

// Visibility says who may read an article.
type Visibility string

// The visibilities (a simpler form of Zendesk's user segments, on Tandem's
// organizations).
const (
	Everyone      Visibility = "everyone"
	SignedIn      Visibility = "signed_in"
	Organizations Visibility = "organizations" // members of the article's OrgIDs
	AgentsOnly    Visibility = "agents"
)

// Valid reports whether v is a visibility.
func (v Visibility) Valid() bool {
	return v == Everyone || v == SignedIn || v == Organizations || v == AgentsOnly
}

// Viewer is who is reading: the zero value is an anonymous visitor.
type Viewer struct {
	UserID ids.User // 0 when anonymous
	Staff  bool     // agents and admins
	Orgs   []ids.Org
}

// ViewerOf returns the viewer for a user (nil: anonymous), with the organizations the
// user belongs to.
func ViewerOf(ctx context.Context, q store.Queryer, u *identity.User) (Viewer, error) {
	if u == nil {
		return Viewer{}, nil
	}
	v := Viewer{UserID: u.ID, Staff: u.Role.IsStaff()}
	if v.Staff {
		return v, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT organization_id FROM organization_memberships WHERE account_id = ? AND user_id = ?`, u.AccountID, u.ID)
	if err != nil {
		return v, fmt.Errorf("kb: viewer orgs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o ids.Org
		if err := rows.Scan(&o); err != nil {
			return v, fmt.Errorf("kb: viewer orgs: %w", err)
		}
		v.Orgs = append(v.Orgs, o)
	}
	return v, rows.Err()
}

// CanRead is the one rule for who may read an article in a translation: every page,
// API response, search result and suggestion asks it, and so will the AI layer (an
// answer may only cite what the requester may read). Drafts are for agents only.
func (v Viewer) CanRead(a *Article, t *Translation) bool {
	if v.Staff {
		return true
	}
	if t == nil || t.Draft {
		return false
	}
	switch a.Visibility {
	case Everyone:
		return true
	case SignedIn:
		return v.UserID != 0
	case Organizations:
		if v.UserID == 0 {
			return false
		}
		for _, o := range a.OrgIDs {
			if slices.Contains(v.Orgs, o) {
				return true
			}
		}
	}
	return false
}

// Public reports whether anyone at all may read the translation: what the sitemap and
// search engines get.
func Public(a *Article, t *Translation) bool { return Viewer{}.CanRead(a, t) }
