package people

import (
	"context"
	"strconv"
	"time"

	"tandem/internal/identity"
	"tandem/internal/ids"
	"tandem/internal/org"
	"tandem/internal/store"
	"tandem/internal/webhook"
)

// User and organization events for webhooks (docs/WEBHOOKS.md): every write below
// queues, in its transaction, a call of each webhook subscribed to what happened.

// userEventFields maps a changed user field to its event type.
var userEventFields = map[string]string{
	"name": "user.name_changed", "role": "user.role_changed", "suspended": "user.suspended_changed",
	"external_id": "user.external_id_changed", "tags": "user.tags_changed", "details": "user.details_changed",
	"notes": "user.notes_changed", "time_zone": "user.time_zone_changed", "active": "user.active_changed",
}

// orgEventFields maps a changed organization field to its event type.
var orgEventFields = map[string]string{
	"name": "organization.name_changed", "external_id": "organization.external_id_changed",
	"tags": "organization.tags_changed", "details": "organization.details_changed", "notes": "organization.notes_changed",
}

func eventTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func userDetail(u *identity.User) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(int64(u.ID), 10), "name": u.Name, "email": u.Email, "role": string(u.Role),
		"active": u.Active, "suspended": u.Suspended, "external_id": u.ExternalID, "time_zone": u.TimeZone,
		"organization_id": strconv.FormatInt(int64(u.OrganizationID), 10), "default_group_id": strconv.FormatInt(int64(u.DefaultGroupID), 10),
		"created_at": eventTime(u.CreatedAt), "updated_at": eventTime(u.UpdatedAt),
	}
}

func orgDetail(o *org.Organization) map[string]any {
	return map[string]any{
		"id": strconv.FormatInt(int64(o.ID), 10), "name": o.Name, "external_id": o.ExternalID,
		"group_id": strconv.FormatInt(int64(o.GroupID), 10), "shared_tickets": o.SharedTickets,
		"shared_comments": o.SharedComments, "created_at": eventTime(o.CreatedAt), "updated_at": eventTime(o.UpdatedAt),
	}
}

// userField is the value of a user field an event reports.
func userField(u *identity.User, field string) any {
	switch field {
	case "name":
		return u.Name
	case "role":
		return string(u.Role)
	case "suspended":
		return u.Suspended
	case "external_id":
		return u.ExternalID
	case "tags":
		return u.Tags
	case "details":
		return u.Details
	case "notes":
		return u.Notes
	case "time_zone":
		return u.TimeZone
	}
	return nil
}

func orgField(o *org.Organization, field string) any {
	switch field {
	case "name":
		return o.Name
	case "external_id":
		return o.ExternalID
	case "tags":
		return o.Tags
	case "details":
		return o.Details
	case "notes":
		return o.Notes
	}
	return nil
}

// userEvents queues the events of a user's change (before nil: created).
func userEvents(ctx context.Context, tx *store.Tx, acct ids.Account, before, u *identity.User) error {
	ev := webhook.Event{Kind: "user", ID: int64(u.ID), Detail: userDetail(u), Type: "user.created"}
	if before == nil {
		return webhook.QueueEvent(ctx, tx, acct, ev)
	}
	changed := Changes(before, u)
	if before.Active != u.Active {
		changed = append(changed, "active")
	}
	return changeEvents(ctx, tx, acct, ev, changed, userEventFields, func(f string) (any, any) {
		if f == "active" {
			return u.Active, before.Active
		}
		return userField(u, f), userField(before, f)
	})
}

// orgEvents queues the events of an organization's change (before nil: created).
func orgEvents(ctx context.Context, tx *store.Tx, acct ids.Account, before, o *org.Organization) error {
	ev := webhook.Event{Kind: "organization", ID: int64(o.ID), Detail: orgDetail(o), Type: "organization.created"}
	if before == nil {
		return webhook.QueueEvent(ctx, tx, acct, ev)
	}
	return changeEvents(ctx, tx, acct, ev, OrgChanges(before, o), orgEventFields, func(f string) (any, any) {
		return orgField(o, f), orgField(before, f)
	})
}

// changeEvents queues one event for each changed field that has an event type, with
// the field's current and previous values.
func changeEvents(ctx context.Context, tx *store.Tx, acct ids.Account, ev webhook.Event, changed []string, types map[string]string, values func(field string) (current, previous any)) error {
	for _, f := range changed {
		typ, ok := types[f]
		if !ok {
			continue
		}
		cur, prev := values(f)
		ev.Type, ev.Change = typ, map[string]any{"current": cur, "previous": prev}
		if err := webhook.QueueEvent(ctx, tx, acct, ev); err != nil {
			return err
		}
	}
	return nil
}
