package ai

import (
	"context"
	"fmt"

	"tandem/internal/account"
	"tandem/internal/errs"
	"tandem/internal/identity"
	"tandem/internal/people"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// UserName is the name of an account's AI user.
const UserName = "Tandem AI"

// userExternalID marks the AI user among the account's people.
const userExternalID = "tandem-ai"

// Actor returns the account's AI user as the author of a change, creating it on first
// use through the people write path. The AI user has the agent role, so its changes
// are staff changes to the write path and the triggers, but no email, no password and
// no token: nobody can sign in as it, and it is not a person holding a seat (Tandem
// counts no seats; the user list shows it as "Tandem AI"). Its changes carry via
// channel "ai" (ticket.ViaAI), set by the caller on the patch.
func Actor(ctx context.Context, tx *store.Tx, acct *account.Account) (ticket.Actor, error) {
	if a, ok, err := existingActor(ctx, tx, acct); ok || err != nil {
		return a, err
	}
	// Two processes creating it at once would make two users: serialise on the account
	// (only here: once it exists, concurrent tickets never wait for each other).
	if err := tx.Lock(ctx, fmt.Sprintf("ai-user-%d", acct.ID)); err != nil {
		return ticket.Actor{}, err
	}
	if a, ok, err := existingActor(ctx, tx, acct); ok || err != nil {
		return a, err
	}
	res, err := people.WriteUser(ctx, tx, acct, people.System, &people.UserChange{User: &identity.User{
		Name: UserName, Role: identity.Agent, Active: true, Verified: true, ExternalID: fmt.Sprintf("%s-%d", userExternalID, store.Now().UnixMicro()),
		Details: "The account's AI: triage and suggestions. Its changes show via AI; nobody signs in as it.",
	}})
	if err != nil {
		return ticket.Actor{}, fmt.Errorf("ai: create the AI user: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ai_settings (account_id, user_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET user_id = excluded.user_id`, acct.ID, res.User.ID, store.Micros(store.Now())); err != nil {
		return ticket.Actor{}, fmt.Errorf("ai: record the AI user: %w", err)
	}
	return ticket.Actor{UserID: res.User.ID, Role: identity.Agent, Name: res.User.Name}, nil
}

// existingActor returns the AI user when it exists and is active.
func existingActor(ctx context.Context, tx *store.Tx, acct *account.Account) (ticket.Actor, bool, error) {
	s, err := LoadSettings(ctx, tx, acct.ID)
	if err != nil || s.UserID == 0 {
		return ticket.Actor{}, false, err
	}
	u, err := identity.Get(ctx, tx, acct.ID, s.UserID)
	switch {
	case err == nil && u.Active:
		return ticket.Actor{UserID: u.ID, Role: identity.Agent, Name: u.Name}, true, nil
	case err != nil && errs.CodeOf(err) != errs.NotFound:
		return ticket.Actor{}, false, err
	}
	return ticket.Actor{}, false, nil // deleted by an admin: the AI gets a new user
}

// IsAIUser reports whether id is the account's AI user.
func IsAIUser(s *Settings, id int64) bool { return s.UserID != 0 && int64(s.UserID) == id }
