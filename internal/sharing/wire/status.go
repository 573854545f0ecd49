package wire

import "strings"

// Agreement statuses on the wire. The local failure states (failed, ssl_error,
// configuration_error) are never sent.
const (
	AgreementPending  = "pending"
	AgreementAccepted = "accepted"
	AgreementDeclined = "declined"
	AgreementInactive = "inactive"
)

// Values of Agreement.DeactivatedBy.
const (
	DeactivatedBySender   = "sender"
	DeactivatedByReceiver = "receiver"
)

// RoleAgent is the Actor.Role of staff; any other role is an end user.
const RoleAgent = "agent"

// Ticket statuses Tandem emits, Zendesk's vocabulary.
const (
	StatusNew     = "new"
	StatusOpen    = "open"
	StatusPending = "pending"
	StatusHold    = "hold"
	StatusSolved  = "solved"
	StatusClosed  = "closed"
)

// NormalizeStatus maps a partner's ticket status onto Tandem's vocabulary, ignoring case
// and surrounding space: new, open, pending, hold and solved pass through, closed too;
// RT's stalled is pending, resolved is solved, rejected and deleted are closed; anything
// else is open, because one odd status must not sink a whole update (RT answers 422 here,
// which we consider too harsh).
//
// An empty status returns "": in a partial PUT it means "unchanged", and normalising it
// to open would reopen the ticket. Callers skip the status when the result is "".
func NormalizeStatus(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "":
		return ""
	case StatusNew, StatusOpen, StatusPending, StatusHold, StatusSolved, StatusClosed:
		return s
	case "on-hold", "on_hold", "onhold":
		return StatusHold
	case "stalled":
		return StatusPending
	case "resolved":
		return StatusSolved
	case "rejected", "deleted":
		return StatusClosed
	}
	return StatusOpen
}
