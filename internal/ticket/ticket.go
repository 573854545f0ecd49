// Package ticket holds tickets, comments and audits, and the single write path every
// change to a ticket goes through: API, web form, trigger, macro, import or a partner's
// update. In one transaction it validates, applies the change, runs the before-hooks
// (business rules), appends one audit with its events, and runs the after-hooks (the
// sharing outbox, search). Nothing else writes tickets.
package ticket

import (
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
)

// Status is a ticket status.
type Status string

// The statuses, in Zendesk's order.
const (
	New     Status = "new"
	Open    Status = "open"
	Pending Status = "pending"
	Hold    Status = "hold"
	Solved  Status = "solved"
	Closed  Status = "closed"
)

// Statuses lists the statuses in order (used by less_than/greater_than conditions).
var Statuses = []Status{New, Open, Pending, Hold, Solved, Closed}

// Rank is the status's position in Statuses, or -1.
func (s Status) Rank() int {
	for i, v := range Statuses {
		if v == s {
			return i
		}
	}
	return -1
}

// Types and priorities a ticket may have ("" = none).
var (
	Types      = []string{"problem", "incident", "question", "task"}
	Priorities = []string{"low", "normal", "high", "urgent"}
)

// Via channel IDs (Zendesk's via_id numbers) used by Tandem.
const (
	ViaWebForm      = 0
	ViaMail         = 4
	ViaAPI          = 5
	ViaRule         = 8
	ViaBatch        = 20
	ViaClosedTicket = 27
	ViaTicketShare  = 31
	ViaHelpCenter   = 50
	// ViaAI marks changes made by the account's AI (triage, autonomous answers). Zendesk
	// documents no number for it; 90 is Tandem's own and outside Zendesk's list.
	ViaAI = 90
)

// Via says through which channel a ticket or change came.
type Via struct {
	Channel string         `json:"channel"`
	ID      int            `json:"-"`
	Source  map[string]any `json:"source"`
}

// ViaFor returns a Via for a channel ID with empty source.
func ViaFor(id int) Via {
	ch := map[int]string{ViaWebForm: "web", ViaMail: "email", ViaAPI: "api", ViaRule: "rule", ViaBatch: "batch", ViaTicketShare: "ticket_sharing", ViaHelpCenter: "web", ViaAI: "ai"}[id]
	if ch == "" {
		ch = "api"
	}
	return Via{Channel: ch, ID: id, Source: map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}}
}

// ViaID returns the channel number of a stored channel name, the inverse of ViaFor, for
// records that keep only the name (audits store via as JSON, without its number). "web"
// reads as the web form: the help center shares its name and is not told apart.
func ViaID(channel string) int {
	switch channel {
	case "web":
		return ViaWebForm
	case "email":
		return ViaMail
	case "rule":
		return ViaRule
	case "batch":
		return ViaBatch
	case "ticket_sharing":
		return ViaTicketShare
	case "ai":
		return ViaAI
	}
	return ViaAPI
}

// Ticket is a support ticket.
type Ticket struct {
	AccountID       ids.Account
	ID              ids.Ticket
	ExternalID      string
	Type            string // "" = none
	Subject         string
	Description     string
	Priority        string // "" = none
	Status          Status
	Recipient       string
	RequesterID     ids.User
	SubmitterID     ids.User
	AssigneeID      ids.User
	OrganizationID  ids.Org
	GroupID         ids.Group
	CollaboratorIDs []ids.User
	FollowerIDs     []ids.User
	EmailCCIDs      []ids.User
	ProblemID       ids.Ticket
	IsPublic        bool
	DueAt           time.Time
	Tags            []string
	// CustomFields maps a ticket field ID to its value: a string, a bool, or []string.
	CustomFields map[int64]any
	Via          Via
	// Version increases by one with every change; sharing uses it to drop stale updates.
	Version   int64
	DeletedAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	SolvedAt  time.Time
	// OpenedAt, PendingAt and HoldAt are when the ticket last entered that status;
	// AssignedAt when it was last given an assignee; RequesterUpdatedAt and
	// AssigneeUpdatedAt when its requester or its assignee last changed it. Automations
	// and views test the hours since each (tfield's time fields).
	OpenedAt           time.Time
	PendingAt          time.Time
	HoldAt             time.Time
	AssignedAt         time.Time
	RequesterUpdatedAt time.Time
	AssigneeUpdatedAt  time.Time
	// SLABreachAt is the next breach of the ticket's running SLA targets (zero: none).
	// The SLA after-hook keeps the column; the write path reads it and never saves it.
	SLABreachAt time.Time
	// SatisfactionScore is the requester's rating: unoffered, offered, good or bad
	// (satisfaction.go). FirstReplyAt is the first public agent reply after creation
	// (zero: none yet), kept for reports.
	SatisfactionScore string
	FirstReplyAt      time.Time
	// ScheduleID is the business-hours schedule its SLA targets count in (0: its
	// organization's default, else the account's first; internal/sla).
	ScheduleID int64
}

// Deleted reports whether the ticket is (being) deleted.
func (t *Ticket) Deleted() bool { return !t.DeletedAt.IsZero() }

// Clone returns a deep copy.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.CollaboratorIDs = append([]ids.User(nil), t.CollaboratorIDs...)
	c.FollowerIDs = append([]ids.User(nil), t.FollowerIDs...)
	c.EmailCCIDs = append([]ids.User(nil), t.EmailCCIDs...)
	c.Tags = append([]string(nil), t.Tags...)
	c.CustomFields = make(map[int64]any, len(t.CustomFields))
	for k, v := range t.CustomFields {
		c.CustomFields[k] = v
	}
	return &c
}

// HasTag reports whether the ticket carries tag.
func (t *Ticket) HasTag(tag string) bool {
	for _, x := range t.Tags {
		if x == tag {
			return true
		}
	}
	return false
}

// Comment is a public reply or an internal note on a ticket.
type Comment struct {
	ID        ids.Comment
	AccountID ids.Account
	TicketID  ids.Ticket
	AuditID   ids.Audit
	AuthorID  ids.User
	Body      string
	HTMLBody  string
	PlainBody string
	Public    bool
	// UUID is globally unique; comments that arrived from a partner keep the partner's,
	// so they are never echoed back.
	UUID string
	Via  Via
	// Origin is the sharing partner whose comment this is (nil for a local one); it
	// is kept in Metadata, where the API shows it.
	Origin    *SharingOrigin
	Metadata  map[string]any
	CreatedAt time.Time
	// Uploads are the upload tokens the comment was written with (not stored: the
	// files hook attaches their files, which the attachments table then names).
	Uploads []string
}

// Event is one entry of an audit, in Zendesk's shape (type plus type-specific keys).
type Event map[string]any

// Audit is the record of one create or update.
type Audit struct {
	ID        ids.Audit
	AccountID ids.Account
	TicketID  ids.Ticket
	AuthorID  ids.User
	Via       Via
	// Origin is the sharing partner the change came from (nil for a local change); it
	// is kept in Metadata, where the API shows it.
	Origin    *SharingOrigin
	Metadata  map[string]any
	Events    []Event
	CreatedAt time.Time
}

// Actor is who makes a change.
type Actor struct {
	UserID      ids.User
	Role        identity.Role
	Name        string
	Restriction string // the agent's ticket_restriction
}

// IsStaff reports whether the actor is an agent or admin.
func (a Actor) IsStaff() bool { return a.Role.IsStaff() }
