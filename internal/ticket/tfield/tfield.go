// Package tfield declares the ticket fields that triggers, views, macros, search and
// ticket lists work with. Each field says once where it may be used, which values it
// takes, how it reads from a ticket, how an action writes it, and its SQL over the
// tickets table (alias t). The rules engine, search and the list pages read this table
// instead of keeping their own field lists; docs/FIELDS.md tells how to add a field.
//
// The fields here are the plain ones: a ticket column compared by value. Conditions that
// read more than the ticket (the comment being added, the actor, the ticket's shares)
// are declared by the rules package, in its table of condition fields.
package tfield

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tandem/internal/ids"
	"tandem/internal/ticket"
)

// Use is a set of places a field may appear.
type Use uint16

// The places a field may appear.
const (
	TriggerCondition Use = 1 << iota
	ViewCondition
	TriggerAction
	MacroAction
	// ViewColumn: shown as a column of views and lists, and sorted or grouped by.
	ViewColumn
	// SearchTerm: searched with its keyword (SearchKey).
	SearchTerm
	// TimeCondition: an "hours since" (or, with Until, "hours until") condition of
	// automations and views over the time Time reads and SQL selects.
	TimeCondition
)

// Ref is what an id-valued field names.
type Ref int

// The things an id-valued field may name.
const (
	NoRef   Ref = iota
	Group       // a group of the account (not deleted)
	User        // a user of the account
	Agent       // an agent or admin of the account (active, for actions)
	Org         // an organization of the account
	Problem     // a ticket of the account whose type is problem
)

// Field is one declared ticket field.
type Field struct {
	// Name is the field's name in conditions and actions (Zendesk's: "group_id").
	Name string
	Use  Use
	// Noun names the field's values in error messages ("status", "ticket type").
	Noun string
	// Values are the values an enumerated field may take; Ordered fields compare by
	// their position in it (less_than, greater_than, status<solved).
	Values  []string
	Ordered bool
	// Ref is what an id-valued field names; its values are decimal ids.
	Ref Ref
	// Optional: "" (none) is a value, stored as NULL.
	Optional bool
	// Specials are the names a condition may give instead of a value: current_user and
	// the other person field ("requester_id" for assignee_id).
	Specials []string
	// Column is the field's view column id ("group"), SearchKey its search keyword.
	Column    string
	SearchKey string
	// SQL is the field's value over tickets t; Sort an integer expression that orders
	// tickets by it (cursors page on integer keys).
	SQL  string
	Sort string
	// Get reads the value from a ticket as conditions compare it ("" for none).
	Get func(t *ticket.Ticket) string
	// Set writes a validated action value into a patch of ticket t; an error says why
	// the action is skipped.
	Set func(p *ticket.Patch, t *ticket.Ticket, v string) error
	// Check adds the field's own rules to value validation (for the use u).
	Check func(u Use, v string) error
	// Time reads a time field (TimeCondition) from a ticket; the zero time is "never".
	// Until fields count the hours until the time rather than since it.
	Time  func(t *ticket.Ticket) time.Time
	Until bool
}

// ErrBlank is returned by Value when a field needs a value and has none.
var ErrBlank = errors.New("needs a value")

// Lookup finds what a value names in the account (the rules validator implements it).
type Lookup interface {
	GroupExists(id int64) bool
	// UserRole returns whether the user exists, is staff and is active.
	UserRole(id int64) (found, staff, active bool)
	OrgExists(id int64) bool
	// TicketType returns a ticket's type, and whether it exists.
	TicketType(id int64) (string, bool)
}

// Value validates and normalizes a value of the field for use u; ordered says the value
// is compared by order (less_than). It returns the value to store.
func (f *Field) Value(u Use, v string, ordered bool, l Lookup) (string, error) {
	v = strings.TrimSpace(v)
	action := u&(TriggerAction|MacroAction) != 0
	switch {
	case v == "" && (ordered || !f.Optional):
		if len(f.Values) > 0 {
			return "", fmt.Errorf("%q is not a %s (%s)", v, f.Noun, strings.Join(f.Values, ", "))
		}
		if f.Check == nil {
			return "", ErrBlank
		}
	case v == "":
		return v, nil
	case slices.Contains(f.Specials, v) && !action, v == "current_user" && action && f.Ref == Agent:
		return v, nil
	case len(f.Values) > 0 && !slices.Contains(f.Values, v):
		return "", fmt.Errorf("%q is not a %s (%s)", v, f.Noun, strings.Join(f.Values, ", "))
	case f.Ref != NoRef:
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return "", fmt.Errorf("%s %q does not exist", f.Noun, v)
		}
		if err := f.refExists(id, action, l); err != nil {
			return "", err
		}
		v = strconv.FormatInt(id, 10)
	}
	if f.Check != nil {
		if err := f.Check(u, v); err != nil {
			return "", err
		}
	}
	return v, nil
}

func (f *Field) refExists(id int64, action bool, l Lookup) error {
	switch f.Ref {
	case Group:
		if !l.GroupExists(id) {
			return fmt.Errorf("group %d does not exist", id)
		}
	case Org:
		if !l.OrgExists(id) {
			return fmt.Errorf("organization %d does not exist", id)
		}
	case User, Agent:
		found, staff, active := l.UserRole(id)
		switch {
		case !found:
			return fmt.Errorf("user %d does not exist", id)
		case f.Ref == Agent && (!staff || action && !active):
			return fmt.Errorf("user %d is not an agent of this account", id)
		}
	case Problem:
		typ, found := l.TicketType(id)
		switch {
		case !found:
			return fmt.Errorf("ticket %d does not exist", id)
		case typ != "problem":
			return fmt.Errorf("ticket %d is not a problem", id)
		}
	}
	return nil
}

// Rank is the position of v in an ordered field's values, or -1.
func (f *Field) Rank(v string) int { return slices.Index(f.Values, v) }

// idStr renders an id as conditions spell it ("" for none).
func idStr[T ~int64](v T) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(int64(v), 10)
}

// parseID reads a decimal id validated before ("" is 0).
func parseID(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// setID is the Set of an id field: field points at the patch's pointer to fill.
func setID[T ~int64](field func(p *ticket.Patch) **T) func(*ticket.Patch, *ticket.Ticket, string) error {
	return func(p *ticket.Patch, _ *ticket.Ticket, v string) error {
		id := T(parseID(v))
		*field(p) = &id
		return nil
	}
}

// rankCase is an integer expression over col: the position of its value in values
// (from first), else.
func rankCase(col string, values []string, first, els int) string {
	var b strings.Builder
	b.WriteString("CASE " + col)
	for i, v := range values {
		b.WriteString(" WHEN '" + v + "' THEN " + strconv.Itoa(first+i))
	}
	b.WriteString(" ELSE " + strconv.Itoa(els) + " END")
	return b.String()
}

func statuses() []string {
	out := make([]string, len(ticket.Statuses))
	for i, s := range ticket.Statuses {
		out[i] = string(s)
	}
	return out
}

// incidentCount is the number of live incidents of a problem (served by the index on
// tickets (account_id, problem_id), migration 0013).
const incidentCount = "(SELECT COUNT(*) FROM tickets i WHERE i.account_id = t.account_id AND i.problem_id = t.id AND i.deleted_at = 0)"

// typeOrder is the order ticket types sort in (Zendesk's menu order), none first.
var typeOrder = []string{"question", "incident", "problem", "task"}

// fields is the registry, in the order definitions list them.
var fields = []*Field{
	{
		Name: "status", Use: TriggerCondition | ViewCondition | TriggerAction | MacroAction | ViewColumn | SearchTerm,
		Noun: "status", Values: statuses(), Ordered: true, Column: "status", SearchKey: "status",
		SQL: "t.status", Sort: rankCase("t.status", statuses()[:5], 0, 5),
		Get: func(t *ticket.Ticket) string { return string(t.Status) },
		Set: func(p *ticket.Patch, t *ticket.Ticket, v string) error {
			st := ticket.Status(v)
			if st == ticket.New && t.Status != ticket.New {
				return errors.New("a ticket cannot be set back to new")
			}
			p.Status = &st
			return nil
		},
		Check: func(u Use, v string) error {
			if u == MacroAction && (v == "new" || v == "closed") {
				return fmt.Errorf("a macro cannot set the status to %s", v)
			}
			return nil
		},
	},
	{
		Name: "priority", Use: TriggerCondition | ViewCondition | TriggerAction | MacroAction | ViewColumn | SearchTerm,
		Noun: "priority", Values: ticket.Priorities, Ordered: true, Optional: true, Column: "priority", SearchKey: "priority",
		SQL: "t.priority", Sort: rankCase("t.priority", ticket.Priorities, 1, 0),
		Get: func(t *ticket.Ticket) string { return t.Priority },
		Set: func(p *ticket.Patch, _ *ticket.Ticket, v string) error { p.Priority = &v; return nil },
	},
	{
		Name: "type", Use: TriggerCondition | ViewCondition | TriggerAction | MacroAction | ViewColumn | SearchTerm,
		Noun: "ticket type", Values: typeOrder, Optional: true, Column: "type", SearchKey: "ticket_type",
		SQL: "t.type", Sort: rankCase("t.type", typeOrder, 1, 0),
		Get: func(t *ticket.Ticket) string { return t.Type },
		Set: func(p *ticket.Patch, _ *ticket.Ticket, v string) error { p.Type = &v; return nil },
	},
	{
		Name: "group_id", Use: TriggerCondition | ViewCondition | TriggerAction | MacroAction | ViewColumn | SearchTerm,
		Noun: "group", Ref: Group, Optional: true, Column: "group", SearchKey: "group",
		SQL: "t.group_id", Sort: "COALESCE(t.group_id, 0)",
		Get: func(t *ticket.Ticket) string { return idStr(t.GroupID) },
		Set: setID(func(p *ticket.Patch) **ids.Group { return &p.GroupID }),
	},
	{
		Name: "assignee_id", Use: TriggerCondition | ViewCondition | TriggerAction | MacroAction | ViewColumn | SearchTerm,
		Noun: "user", Ref: Agent, Optional: true, Specials: []string{"current_user", "requester_id"}, Column: "assignee", SearchKey: "assignee",
		SQL: "t.assignee_id", Sort: "COALESCE(t.assignee_id, 0)",
		Get: func(t *ticket.Ticket) string { return idStr(t.AssigneeID) },
		Set: setID(func(p *ticket.Patch) **ids.User { return &p.AssigneeID }),
	},
	{
		Name: "requester_id", Use: TriggerCondition | ViewCondition | ViewColumn | SearchTerm,
		Noun: "user", Ref: User, Specials: []string{"current_user", "assignee_id"}, Column: "requester", SearchKey: "requester",
		SQL: "t.requester_id", Sort: "t.requester_id",
		Get: func(t *ticket.Ticket) string { return idStr(t.RequesterID) },
	},
	{
		Name: "organization_id", Use: TriggerCondition | ViewCondition | ViewColumn | SearchTerm,
		Noun: "organization", Ref: Org, Optional: true, Column: "organization", SearchKey: "organization",
		SQL: "t.organization_id", Sort: "COALESCE(t.organization_id, 0)",
		Get: func(t *ticket.Ticket) string { return idStr(t.OrganizationID) },
	},
	// Problem and incident linking: an incident names the problem ticket it is an
	// instance of (Zendesk's problem_id); a problem counts its incidents.
	{
		Name: "problem_id", Use: TriggerCondition | ViewCondition | TriggerAction | MacroAction | ViewColumn | SearchTerm,
		Noun: "problem", Ref: Problem, Optional: true, Column: "problem", SearchKey: "problem_id",
		SQL: "t.problem_id", Sort: "COALESCE(t.problem_id, 0)",
		Get: func(t *ticket.Ticket) string { return idStr(t.ProblemID) },
		Set: setID(func(p *ticket.Patch) **ids.Ticket { return &p.ProblemID }),
	},
	{Name: "incident_count", Use: ViewColumn, Column: "incidents", SQL: incidentCount, Sort: incidentCount},
	{
		Name: "subject", Use: TriggerAction | MacroAction, Noun: "subject",
		Get: func(t *ticket.Ticket) string { return t.Subject },
		Set: func(p *ticket.Patch, _ *ticket.Ticket, v string) error { p.Subject = &v; return nil },
		Check: func(_ Use, v string) error {
			if v == "" || len([]rune(v)) > ticket.MaxSubject {
				return fmt.Errorf("must be 1 to %d characters", ticket.MaxSubject)
			}
			return nil
		},
	},
	// Times: columns and sort keys; conditions on them are the rules package's
	// hours-ago conditions, search's dates.
	{Name: "created_at", Use: ViewColumn | SearchTerm, Column: "created", SearchKey: "created", SQL: "t.created_at", Sort: "t.created_at"},
	{Name: "updated_at", Use: ViewColumn | SearchTerm, Column: "updated", SearchKey: "updated", SQL: "t.updated_at", Sort: "t.updated_at"},
	{Name: "solved_at", Use: ViewColumn | SearchTerm, Column: "solved", SearchKey: "solved", SQL: "t.solved_at", Sort: "t.solved_at"},
	{Name: "due_at", Use: ViewColumn | SearchTerm, Column: "due_date", SearchKey: "due_date", SQL: "t.due_at", Sort: "t.due_at"},
	{Name: "id", Use: ViewColumn, Column: "nice_id", SQL: "t.id", Sort: "t.id"},
	// Hours since and until (Zendesk's automation condition names): each has an index on
	// (account_id, column) over live tickets (migration 0023; since 0053 only those
	// with the time set, the "column > 0" every hours condition compiles to), so an
	// automation pass starts from the tickets in its time window.
	timeField("NEW", "t.created_at", func(t *ticket.Ticket) time.Time { return t.CreatedAt }),
	timeField("OPEN", "t.opened_at", func(t *ticket.Ticket) time.Time { return t.OpenedAt }),
	timeField("PENDING", "t.pending_at", func(t *ticket.Ticket) time.Time { return t.PendingAt }),
	timeField("HOLD", "t.hold_at", func(t *ticket.Ticket) time.Time { return t.HoldAt }),
	timeField("SOLVED", "t.solved_at", func(t *ticket.Ticket) time.Time { return t.SolvedAt }),
	timeField("assigned_at", "t.assigned_at", func(t *ticket.Ticket) time.Time { return t.AssignedAt }),
	timeField("requester_updated_at", "t.requester_updated_at", func(t *ticket.Ticket) time.Time { return t.RequesterUpdatedAt }),
	timeField("assignee_updated_at", "t.assignee_updated_at", func(t *ticket.Ticket) time.Time { return t.AssigneeUpdatedAt }),
	timeField("due_date", "t.due_at", func(t *ticket.Ticket) time.Time { return t.DueAt }),
	{Name: "until_due_date", Use: TimeCondition, SQL: "t.due_at", Time: func(t *ticket.Ticket) time.Time { return t.DueAt }, Until: true},
	// Since when a sharing partner has owed an answer (internal/sharing/owed.go): a
	// column to sort shared tickets by (those owed nothing last).
	{Name: "partner_owed", Use: ViewColumn, Column: "partner_owed", SQL: partnerOwed, Sort: "COALESCE(" + partnerOwed + ", 9223372036854775807)"},
	// The business-hours schedule the ticket's SLA targets count in (Zendesk's trigger
	// action set_schedule); the write path checks that the schedule exists.
	{
		Name: "set_schedule", Use: TriggerAction, Noun: "schedule",
		Get: func(t *ticket.Ticket) string { return idStr(ids.Ticket(t.ScheduleID)) },
		Set: func(p *ticket.Patch, _ *ticket.Ticket, v string) error {
			id := parseID(v)
			p.ScheduleID = &id
			return nil
		},
		Check: func(_ Use, v string) error {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
				return fmt.Errorf("%q is not a schedule id", v)
			}
			return nil
		},
	},
	// The requester's satisfaction rating (ticket/satisfaction.go): conditions ("is
	// bad"), a view column, and the action that offers a rating (Zendesk's
	// offered_to_requester), which only a ticket not yet offered one takes.
	{
		Name: "satisfaction_score", Use: TriggerCondition | ViewCondition | TriggerAction | ViewColumn,
		Noun: "satisfaction score", Values: append(append([]string{}, ticket.Scores...), offerRating), Column: "satisfaction_score",
		SQL: "t.satisfaction_score", Sort: rankCase("t.satisfaction_score", ticket.Scores, 0, 0),
		Get: func(t *ticket.Ticket) string {
			if t.SatisfactionScore == "" {
				return ticket.ScoreUnoffered
			}
			return t.SatisfactionScore
		},
		Set: func(p *ticket.Patch, t *ticket.Ticket, _ string) error {
			if t.SatisfactionScore != "" && t.SatisfactionScore != ticket.ScoreUnoffered {
				return errors.New("a rating was already offered for this ticket")
			}
			p.Satisfaction = &ticket.Satisfaction{Score: ticket.ScoreOffered}
			return nil
		},
		Check: func(u Use, v string) error {
			action := u&(TriggerAction|MacroAction) != 0
			switch {
			case action && v != offerRating:
				return fmt.Errorf("the only satisfaction action is %s", offerRating)
			case !action && v == offerRating:
				return fmt.Errorf("%q is not a satisfaction score (%s)", v, strings.Join(ticket.Scores, ", "))
			}
			return nil
		},
	},
	// The next breach of the ticket's running SLA targets (kept by internal/sla): a
	// column to sort by (tickets without one last) and "hours until" in conditions.
	{
		Name: "sla_next_breach_at", Use: ViewColumn | TimeCondition, Column: "sla_next_breach", Until: true,
		SQL: "t.sla_breach_at", Sort: "CASE WHEN t.sla_breach_at = 0 THEN 9223372036854775807 ELSE t.sla_breach_at END",
		Time: func(t *ticket.Ticket) time.Time { return t.SLABreachAt },
	},
}

// partnerOwed is the oldest debt of a partner on a ticket's active outbound shares.
const partnerOwed = "(SELECT MIN(s.owed_since) FROM ticket_shares s WHERE s.account_id = t.account_id AND s.ticket_id = t.id AND s.direction = 'out' AND s.state = 'active' AND s.owed_since > 0)"

// offerRating is the satisfaction_score action's value: ask the requester for a rating.
const offerRating = "offered_to_requester"

// timeField is an "hours since" condition field over a time column.
func timeField(name, sql string, at func(t *ticket.Ticket) time.Time) *Field {
	return &Field{Name: name, Use: TimeCondition, SQL: sql, Time: at}
}

var (
	byName   = index(func(f *Field) string { return f.Name })
	byColumn = index(func(f *Field) string { return f.Column })
	bySearch = index(func(f *Field) string { return f.SearchKey })
)

func index(key func(*Field) string) map[string]*Field {
	m := map[string]*Field{}
	for _, f := range fields {
		if k := key(f); k != "" {
			m[k] = f
		}
	}
	return m
}

// ByName returns the field a condition or action names, or nil.
func ByName(name string) *Field { return byName[name] }

// ByColumn returns the field behind a view column id, or nil.
func ByColumn(col string) *Field { return byColumn[col] }

// BySearchKey returns the field a search keyword reads, or nil.
func BySearchKey(key string) *Field { return bySearch[key] }

// All lists the fields usable in any of the places u names.
func All(u Use) []*Field {
	var out []*Field
	for _, f := range fields {
		if f.Use&u != 0 {
			out = append(out, f)
		}
	}
	return out
}

// SortExpr returns the integer sort expression of a view column ("" if it has none).
func SortExpr(col string) string {
	if f := ByColumn(col); f != nil {
		return f.Sort
	}
	return ""
}
