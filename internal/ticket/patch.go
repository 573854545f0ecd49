package ticket

import (
	"context"
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
)

// Patch is a change to a ticket: only set fields change. It is the one input shape of
// the write path, whatever the source (API, web, trigger, macro, import, partner).
type Patch struct {
	Subject        *string
	Type           *string
	Priority       *string
	Status         *Status
	ExternalID     *string
	Recipient      *string
	RequesterID    *ids.User
	SubmitterID    *ids.User
	AssigneeID     *ids.User
	OrganizationID *ids.Org
	GroupID        *ids.Group
	ProblemID      *ids.Ticket
	DueAt          *time.Time
	// Tags replaces the whole set; AddTags and RemoveTags adjust it.
	Tags       *[]string
	AddTags    []string
	RemoveTags []string
	// CustomFields sets field values by ticket field ID (nil value clears).
	CustomFields    map[int64]any
	CollaboratorIDs *[]ids.User
	FollowerIDs     *[]ids.User
	EmailCCIDs      *[]ids.User
	// Requester finds (by email) or creates the requester on create.
	Requester *NewRequester
	// RequesterUser is the user RequesterID names as the caller has it (inbound mail
	// read or created its sender): a create takes it instead of reading the user again.
	// It is ignored unless it is that user, of the ticket's account.
	RequesterUser *identity.User
	// ReadUsers are users the caller has already read for this change (the API caller,
	// as its authentication read it): an after-hook that describes users (the sharing
	// payload's actors) takes them instead of reading them while the ticket's row is
	// locked. A user of another account is ignored.
	ReadUsers []*identity.User
	// Comment adds a comment; MoreComments add further ones in order (a shared ticket
	// arrives with its whole thread).
	Comment      *CommentInput
	MoreComments []*CommentInput
	// Events are extra audit events to record (e.g. TicketSharingEvent).
	Events []Event
	// MacroIDs are the macros an agent applied to make this change (Zendesk's write-only
	// macro_ids): each is recorded as an AgentMacroReference audit event, which is what
	// the AI layer learns suggested macros from. Only staff may send them; each must be a
	// macro of the account.
	MacroIDs []int64
	// SafeUpdate with UpdatedStamp refuses the change (409) if the ticket changed since
	// (to the second for a stamp in whole seconds, else to the microsecond).
	SafeUpdate   bool
	UpdatedStamp time.Time
	// SharingAgreementIDs shares/unshares the ticket (handled by the sharing hook).
	SharingAgreementIDs *[]int64
	// Via is the channel of this change (default: API).
	Via *Via
	// Origin names the sharing partner this change came from (a partner's share, update
	// or unshare). It is recorded on the audit, and the sharing hook never echoes the
	// change back to that share.
	Origin *SharingOrigin
	// Delete soft-deletes the ticket (Zendesk's DELETE: it leaves lists and lookups). It
	// carries no other change. The audit records it as a status Change to "deleted", and
	// the sharing hook ends the ticket's shares, telling the partners.
	Delete bool
	// MakePrivate turns public comments of the ticket into internal notes (Zendesk's
	// make_private). The audit records a CommentPrivacyChange for each; the sharing hook
	// refuses it for a comment a partner already holds and cannot be told to hide.
	MakePrivate []ids.Comment
	// SkipRules suppresses the before-hooks (historical imports).
	SkipRules bool
	// CreatedAt backdates a create (imports and partner shares).
	CreatedAt time.Time
	// Rule is a business rule's own change to an existing ticket (an automation's
	// actions): it runs on the locked ticket after the patch is applied and before the
	// before-hooks, so triggers see what it did, as Zendesk's do. It decides from the
	// ticket as stored whether it still applies; when it changes nothing, nothing is
	// written.
	Rule func(ctx context.Context, ch *Change) error
	// Satisfaction offers a rating to the requester or records the requester's rating
	// (satisfaction.go); it is allowed on a closed ticket.
	Satisfaction *Satisfaction
	// ScheduleID sets the ticket's business-hours schedule (0: back to the default).
	ScheduleID *int64
}

// NewRequester names a requester to find or create.
type NewRequester struct {
	Name   string
	Email  string
	Locale string
}

// CommentInput is a new comment.
type CommentInput struct {
	Body     string
	HTMLBody string
	Public   *bool // default true
	AuthorID ids.User
	// UUID keeps a partner's comment ID; empty means mint a new one.
	UUID      string
	CreatedAt time.Time
	// Origin names the partner whose comment this is (it never travels back there).
	Origin *SharingOrigin
	// Uploads are upload tokens (Zendesk's comment.uploads) whose files the files
	// hook attaches to this comment.
	Uploads []string
}

// Empty reports whether the patch changes nothing.
func (p *Patch) Empty() bool {
	return p.Subject == nil && p.Type == nil && p.Priority == nil && p.Status == nil && p.ExternalID == nil &&
		p.Recipient == nil && p.RequesterID == nil && p.SubmitterID == nil && p.AssigneeID == nil &&
		p.OrganizationID == nil && p.GroupID == nil && p.ProblemID == nil && p.DueAt == nil && p.Tags == nil &&
		len(p.AddTags) == 0 && len(p.RemoveTags) == 0 && len(p.CustomFields) == 0 && p.CollaboratorIDs == nil &&
		p.FollowerIDs == nil && p.EmailCCIDs == nil && p.Requester == nil && p.Comment == nil && len(p.MoreComments) == 0 && len(p.Events) == 0 && len(p.MacroIDs) == 0 && p.SharingAgreementIDs == nil &&
		!p.Delete && len(p.MakePrivate) == 0 && p.Rule == nil && p.Satisfaction == nil && p.ScheduleID == nil
}

// Ptr returns a pointer to v, for building patches.
func Ptr[T any](v T) *T { return &v }
