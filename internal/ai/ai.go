// Package ai is Tandem's AI layer: per-account models trained on the account's own
// history (internal/ai/learn), triage inside the ticket write path, suggestions for
// agents, guarded autonomous answers and the simulation on history that gates them.
// Everything runs locally by default; an account may add its own OpenAI-compatible
// model server for generative drafts.
//
// This file holds the types the parts share: what a solved ticket teaches (Record), a
// trained model set (Models) and where the current one comes from (Source).
package ai

import (
	"context"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ai/learn"
	"tandem/internal/ids"
	"tandem/internal/kb/rank"
)

// The targets a model set may predict. A dropdown custom field's target is
// CustomFieldTarget(id).
const (
	TargetGroup    = "group_id"
	TargetPriority = "priority"
	TargetType     = "type"
	TargetTags     = "tags"
	// TargetMacro predicts the macro an agent would apply (labels: macro ids).
	TargetMacro = "macro"
	// TargetArticle predicts the article an agent would link (labels: article ids).
	TargetArticle = "article"
)

// CustomFieldTarget is the target name of a dropdown custom field.
func CustomFieldTarget(id int64) string { return "custom_field_" + strconv.FormatInt(id, 10) }

// Record is one solved ticket as the models learn from it: only what was known at its
// creation, and the labels it ended with.
type Record struct {
	TicketID       ids.Ticket
	CreatedAt      time.Time
	SolvedAt       time.Time
	Subject        string
	Body           string // the first comment
	Locale         string // the requester's locale
	RequesterID    ids.User
	OrganizationID ids.Org
	Channel        string // via channel at creation
	// Labels are the final values per target: one for group, priority, type and custom
	// fields; any number for tags; the macros applied (AgentMacroReference, macro_ids)
	// and the articles linked in public replies, as decimal ids.
	Labels map[string][]string
	// PublicReplies counts the agents' public replies; Reopened is true when the ticket
	// was reopened within 7 days of being solved.
	PublicReplies int
	Reopened      bool
	// Reply is the first public reply of an agent (for side-by-side samples).
	Reply string
}

// Text returns what the models read: the subject and the first comment.
func (r *Record) Text() string {
	if r.Subject == "" || strings.Contains(r.Body, r.Subject) {
		return r.Body
	}
	return r.Subject + "\n" + r.Body
}

// Lang returns the language the record's text is analysed in.
func (r *Record) Lang() rank.Lang { return rank.LangOf(r.Locale) }

// Models is an account's trained classifiers at one version. It is read-only once
// built and safe to share between goroutines.
type Models struct {
	Version   int64
	TrainedAt time.Time
	// Targets holds one classifier per target name (TargetGroup, CustomFieldTarget...).
	// Tags use one classifier per tag of the admin's chosen set, under "tags:NAME",
	// whose labels are "yes" and "no".
	Targets map[string]*learn.Classifier
	// Thresholds are the admin's confidence thresholds per target: a prediction at or
	// above it may be applied; below it the AI abstains.
	Thresholds map[string]float64
	// IntentTarget is the target whose values are the account's intents (the admin's
	// choice, e.g. a dropdown custom field): autonomy is decided per value of it.
	IntentTarget string
}

// Source gives an account's current model set; ok is false while none is trained.
type Source interface {
	Current(ctx context.Context, acct ids.Account) (m *Models, ok bool, err error)
}

// History gives an account's solved tickets created in [from, to), oldest first.
type History interface {
	Solved(ctx context.Context, acct ids.Account, from, to time.Time) ([]Record, error)
}

// Evidence is what the latest finished simulation measured for one intent (a value of
// the intent target) at the threshold it chose: the figures that gate autonomy.
type Evidence struct {
	SimulationID int64
	FinishedAt   time.Time
	Target       string
	Value        string
	Threshold    float64
	// Precision is the share of correct answers among the tickets of this intent the
	// AI would have answered; Tickets is how many tickets of the intent were replayed
	// and Answered how many it would have answered.
	Precision float64
	Tickets   int
	Answered  int
}

// Gate gives the evidence of the latest finished simulation for an intent; ok is false
// when no simulation covered it.
type Gate interface {
	Evidence(ctx context.Context, acct ids.Account, target, value string) (e Evidence, ok bool, err error)
}
