package rules

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"tandem/internal/account"
	"tandem/internal/ids"
	"tandem/internal/store"
)

func cond(field, op, value string) Condition {
	return Condition{Field: field, Operator: op, Value: value}
}

func act(field string, value ...string) Action {
	return Action{Field: field, Value: value, List: len(value) > 1}
}

// DefaultViews are the views a new account starts with: the usual queues, and the
// sharing views the seed guide recommends (shared with partners, received from them,
// shared in the last 24 hours, orphaned).
func DefaultViews() []*View {
	unsolved := cond("status", opLess, "solved")
	open := cond("status", opLess, "closed")
	queue := Output{Columns: []string{"status", "description", "requester", "created", "priority", "assignee"}, SortBy: "updated", SortOrder: "desc"}
	shared := Output{Columns: []string{"status", "description", "requester", "updated", "assignee", "group"}, SortBy: "updated", SortOrder: "desc"}
	v := func(key, title, desc string, out Output, all ...Condition) *View {
		return &View{Key: key, Title: title, Description: desc, Active: true, Default: true, Conditions: Conditions{All: all, Any: []Condition{}}, Output: out}
	}
	return []*View{
		v("mine", "Your unsolved tickets", "Unsolved tickets assigned to you", queue, unsolved, cond("assignee_id", opIs, "current_user")),
		v("unassigned", "Unassigned tickets", "Unsolved tickets nobody is working on", queue, unsolved, cond("assignee_id", opIs, "")),
		v("unsolved", "All unsolved tickets", "Every ticket not yet solved", queue, unsolved),
		v("updated", "Recently updated tickets", "Tickets updated in the last 24 hours", Output{Columns: queue.Columns, SortBy: "updated", SortOrder: "desc"}, open, cond("updated_at", opLess, "24")),
		v("pending", "Pending tickets", "Tickets waiting for the requester", queue, cond("status", opIs, "pending")),
		v("shared", "Tickets shared with partners", "Tickets this help desk shares with partner help desks", shared, open, cond("sent_to", opIsNot, "")),
		v("received", "Tickets received from partners", "Tickets partner help desks share with this one", shared, open, cond("received_from", opIsNot, "")),
		v("shared-recently", "Shared in the last 24 hours", "Tickets shared with or received from a partner in the last 24 hours", shared, open, cond("shared_at", opLess, "24")),
		v("orphaned", "Orphaned tickets", "Tickets a partner stopped sharing: they are yours to finish", shared, open, cond("orphaned", opIs, "true")),
		v("partner-owed", "Waiting on partners", "Shared tickets on which a partner owes an answer, the longest owed first", Output{Columns: []string{"partner_owed", "status", "description", "requester", "assignee"}, SortBy: "partner_owed", SortOrder: "asc"}, unsolved, cond("partner_owed_at", opGreater, "0")),
		v("sla", "Unsolved tickets by next breach", "Unsolved tickets, the next SLA breach first", Output{Columns: []string{"sla_next_breach", "status", "description", "requester", "priority", "assignee"}, SortBy: "sla_next_breach", SortOrder: "asc"}, unsolved),
	}
}

// DefaultTriggers are the triggers a new account starts with, Zendesk's defaults: tell
// the requester (and CCs) their request was received and about public replies, tell the
// assignee about assignments, comments (a partner's reply on a shared ticket included)
// and reopened tickets, and tell the group about new and reassigned unassigned tickets.
// Their Notification events are sent as mail (internal/mail/send).
func DefaultTriggers() []*Trigger {
	return []*Trigger{
		{
			Title: "Notify requester and CCs of received request", Active: true, Default: true,
			Description: "Acknowledges new requests. Copies arriving from a sharing partner are left alone: the partner already answered its customer.",
			Conditions: Conditions{All: []Condition{
				cond("update_type", opIs, "Create"), cond("status", opIsNot, "solved"), cond("current_via_id", opIsNot, "31"),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_user", "requester_and_ccs", "[{{ticket.account}}] Re: {{ticket.title}}",
				"Your request ({{ticket.id}}) has been received and is being reviewed by our support staff.\n\n{{ticket.suggested_articles}}To add additional comments, reply to this email.")},
		},
		{
			Title: "Notify requester of public comment update", Active: true, Default: true,
			Description: "Sends the requester every public reply made by someone else.",
			Conditions: Conditions{All: []Condition{
				cond("update_type", opIs, "Change"), cond("comment_is_public", opIs, "true"), cond("requester_id", opIsNot, "current_user"),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_user", "requester_and_ccs", "[{{ticket.account}}] Re: {{ticket.title}}",
				"Your request ({{ticket.id}}) has been updated.\n\n{{ticket.latest_public_comment}}")},
		},
		{
			Title: "Notify assignee of comment update", Active: true, Default: true,
			Description: "Tells the assignee about every comment made by someone else, a sharing partner's replies included.",
			Conditions: Conditions{All: []Condition{
				cond("update_type", opIs, "Change"), cond("comment_is_public", opIs, "not_relevant"),
				cond("assignee_id", opIsNot, ""), cond("assignee_id", opIsNot, "current_user"),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_user", "assignee_id", "[{{ticket.account}}] Re: {{ticket.title}}",
				"Ticket #{{ticket.id}} \"{{ticket.title}}\" has a new comment from {{current_user.name}}.\n\n{{ticket.latest_comment}}\n\n{{ticket.url}}")},
		},
		{
			Title: "Notify assignee of assignment", Active: true, Default: true,
			Description: "Tells an agent a ticket was assigned to them by someone else.",
			Conditions: Conditions{All: []Condition{
				cond("assignee_id", opChanged, ""), cond("assignee_id", opIsNot, ""), cond("assignee_id", opIsNot, "current_user"),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_user", "assignee_id", "[{{ticket.account}}] Assignment: {{ticket.title}}",
				"You have been assigned to ticket #{{ticket.id}} \"{{ticket.title}}\"{% if current_user.name %} by {{current_user.name}}{% endif %}.\n\n{{ticket.latest_comment}}\n\n{{ticket.url}}")},
		},
		{
			Title: "Notify assignee of reopened ticket", Active: true, Default: true,
			Description: "Tells the assignee when a solved ticket is opened again.",
			Conditions: Conditions{All: []Condition{
				cond("status", opValuePrevious, "solved"), cond("assignee_id", opIsNot, ""), cond("assignee_id", opIsNot, "current_user"),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_user", "assignee_id", "[{{ticket.account}}] Re: {{ticket.title}}",
				"Ticket #{{ticket.id}} \"{{ticket.title}}\" was reopened.\n\n{{ticket.latest_comment}}\n\n{{ticket.url}}")},
		},
		{
			Title: "Notify group of new ticket", Active: true, Default: true,
			Description: "Tells the agents of the ticket's group about a new ticket nobody is assigned to.",
			Conditions: Conditions{All: []Condition{
				cond("update_type", opIs, "Create"), cond("group_id", opIsNot, ""), cond("assignee_id", opIs, ""),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_group", "group_id", "[{{ticket.account}}] New ticket: {{ticket.title}}",
				"A ticket ({{ticket.id}}) in your group {{ticket.group.name}} needs an agent.\n\n{{ticket.description}}\n\n{{ticket.url}}")},
		},
		{
			Title: "Notify group of assignment", Active: true, Default: true,
			Description: "Tells the agents of a group a ticket was moved to it without an assignee.",
			Conditions: Conditions{All: []Condition{
				cond("update_type", opIs, "Change"), cond("group_id", opChanged, ""), cond("group_id", opIsNot, ""), cond("assignee_id", opIs, ""),
			}, Any: []Condition{}},
			Actions: []Action{act("notification_group", "group_id", "[{{ticket.account}}] Assignment: {{ticket.title}}",
				"A ticket ({{ticket.id}}) was assigned to your group {{ticket.group.name}}.\n\n{{ticket.latest_comment}}\n\n{{ticket.url}}")},
		},
	}
}

// Provision gives a new account its default views, triggers and automations, inside the account's
// creation transaction.
func Provision(ctx context.Context, tx *store.Tx, acct *account.Account) error {
	for _, v := range DefaultViews() {
		if err := InsertView(ctx, tx, acct, v); err != nil {
			return err
		}
	}
	for _, t := range DefaultTriggers() {
		if err := InsertTrigger(ctx, tx, acct, t); err != nil {
			return err
		}
	}
	for _, a := range DefaultAutomations() {
		if err := InsertAutomation(ctx, tx, acct, a); err != nil {
			return err
		}
	}
	return recordDefaults(ctx, tx, acct.ID)
}

// DefaultsVersion is the version of the default rules Provision gives: version 2 added
// (issue 18) the automations "Close ticket 4 days after status is set to solved",
// "Pending notification 24 hours" and "Request customer satisfaction rating", and the
// views "Unsolved tickets by next breach" and "Waiting on partners". An account records
// the version it was given (account_defaults); ApplyDefaults gives older accounts what
// came later, once.
const DefaultsVersion = 2

// addedDefault is a default rule added after accounts existed: the version that added
// it and when it came into Provision (an account created since got it at creation).
type addedDefault struct {
	version    int
	introduced time.Time
	automation string // title of the default automation, or
	view       string // title of the default view
}

func at(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }

var addedDefaults = []addedDefault{
	{2, at("2026-12-06T03:51:44Z"), "Close ticket 4 days after status is set to solved", ""},
	{2, at("2026-12-06T03:51:44Z"), "Pending notification 24 hours", ""},
	{2, at("2026-12-06T06:34:44Z"), "Request customer satisfaction rating", ""},
	{2, at("2026-12-06T04:09:56Z"), "", "Unsolved tickets by next breach"},
	{2, at("2026-12-06T06:49:57Z"), "", "Waiting on partners"},
}

func recordDefaults(ctx context.Context, tx *store.Tx, acct ids.Account) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO account_defaults (account_id, version, applied_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`, acct, DefaultsVersion, store.Micros(store.Now()))
	if err != nil {
		return fmt.Errorf("rules: record defaults: %w", err)
	}
	return nil
}

// ApplyDefaults gives every account below DefaultsVersion the default rules added since
// (the server runs it at startup), once: the account then records the version, so a
// default an admin deletes afterwards never comes back. An account with a recorded
// version gets the defaults of the versions above it. An account without one was
// created before versions were recorded: it gets a default only if it was created before
// that default came into Provision (else it had it from the start, and its absence
// means an admin deleted it), and only if it has no automation or view of that title.
// It returns how many rules it added.
func ApplyDefaults(ctx context.Context, db *store.DB, log *slog.Logger) (int, error) {
	accts, err := account.NewStore(db).List(ctx)
	if err != nil {
		return 0, err
	}
	current := map[ids.Account]bool{}
	rows, err := db.R().QueryContext(ctx, `SELECT account_id FROM account_defaults WHERE version >= ?`, DefaultsVersion)
	if err != nil {
		return 0, fmt.Errorf("rules: defaults versions: %w", err)
	}
	for rows.Next() {
		var id ids.Account
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		current[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	added := 0
	for _, acct := range accts {
		if current[acct.ID] {
			continue
		}
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.Lock(ctx, fmt.Sprintf("defaults:%d", acct.ID)); err != nil {
				return err
			}
			version := -1 // not recorded
			err := tx.QueryRowContext(ctx, `SELECT version FROM account_defaults WHERE account_id = ?`, acct.ID).Scan(&version)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("rules: defaults version: %w", err)
			}
			if version >= DefaultsVersion {
				return nil
			}
			views, autos := map[string]*View{}, map[string]*Automation{}
			for _, v := range DefaultViews() {
				views[v.Title] = v
			}
			for _, a := range DefaultAutomations() {
				autos[a.Title] = a
			}
			for _, d := range addedDefaults {
				if d.version <= version || version < 0 && !acct.CreatedAt.Before(d.introduced) {
					continue
				}
				table, title := "automations", d.automation
				if d.view != "" {
					table, title = "views", d.view
				}
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE account_id = ? AND title = ?`, acct.ID, title).Scan(&n); err != nil {
					return fmt.Errorf("rules: defaults: %w", err)
				}
				if n > 0 {
					continue
				}
				if d.view != "" {
					err = InsertView(ctx, tx, acct, views[title])
				} else {
					err = InsertAutomation(ctx, tx, acct, autos[title])
				}
				if err != nil {
					return fmt.Errorf("rules: add default %q to account %d: %w", title, acct.ID, err)
				}
				added++
				if log != nil {
					log.Info("default rule added", "account", acct.ID, "rule", title)
				}
			}
			return recordDefaults(ctx, tx, acct.ID)
		})
		if err != nil {
			return added, err
		}
	}
	return added, nil
}

// WarrantyClaimTrigger is the seed guide's automatic-sharing example: share every new
// ticket tagged warranty_claim through the agreement (an outbound agreement id).
func WarrantyClaimTrigger(agreementID int64) *Trigger {
	return &Trigger{
		Title:       "Share warranty claims with the manufacturer",
		Description: "New tickets tagged warranty_claim are shared with the manufacturer's help desk.",
		Active:      true,
		Conditions: Conditions{All: []Condition{
			cond("update_type", opIs, "Create"), cond("current_tags", opIncludes, "warranty_claim"),
		}, Any: []Condition{}},
		Actions: []Action{act("share_ticket", strconv.FormatInt(agreementID, 10))},
	}
}

// CreateWarrantyClaimTrigger adds WarrantyClaimTrigger to an account (Enterprise only:
// other plans get a PlanRequired error naming it).
func (s *Service) CreateWarrantyClaimTrigger(ctx context.Context, acct *account.Account, agreementID int64) (*Trigger, error) {
	t := WarrantyClaimTrigger(agreementID)
	if err := s.CreateTrigger(ctx, acct, t); err != nil {
		return nil, err
	}
	return t, nil
}
