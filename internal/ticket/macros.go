package ticket

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"tandem/internal/errs"
)

// EventMacroReference is the audit event type that records a macro an agent applied
// (Zendesk's AgentMacroReference): {"type", "macro_id" (a decimal string, as Zendesk
// sends it), "macro_title", "macro_deleted"}.
const EventMacroReference = "AgentMacroReference"

// maxMacroIDs bounds the macros one change may name.
const maxMacroIDs = 20

// macroReferences records the macros a change names (Patch.MacroIDs) as audit events,
// once each. A macro that is not the account's, or an end user naming one, is a
// validation error: the recorded use is what suggested macros learn from.
func (ch *Change) macroReferences(ctx context.Context, list []int64, via *Via, v *errs.Validation) error {
	if len(list) == 0 {
		return nil
	}
	if !ch.Actor.IsStaff() && ch.Actor.UserID != 0 {
		v.Bad("macro_ids", "only agents apply macros")
		return nil
	}
	if len(list) > maxMacroIDs {
		v.Add("macro_ids", "TooLong", fmt.Sprintf("at most %d macros", maxMacroIDs))
		return nil
	}
	var seen []int64
	for _, id := range list {
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		var title string
		err := ch.tx.QueryRowContext(ctx, `SELECT title FROM macros WHERE account_id = ? AND id = ?`, ch.Account.ID, id).Scan(&title)
		if errors.Is(err, sql.ErrNoRows) {
			v.Bad("macro_ids", fmt.Sprintf("macro %d does not exist", id))
			continue
		}
		if err != nil {
			return fmt.Errorf("ticket: macro reference: %w", err)
		}
		e := Event{"type": EventMacroReference, "macro_id": strconv.FormatInt(id, 10), "macro_title": title, "macro_deleted": false}
		if via != nil {
			e["via"] = via
		}
		ch.Events = append(ch.Events, e)
	}
	return nil
}

// MacroIDsOf returns the macros an audit's events say were applied, in order.
func MacroIDsOf(events []Event) []int64 {
	var out []int64
	for _, e := range events {
		if e["type"] != EventMacroReference {
			continue
		}
		var id int64
		switch x := e["macro_id"].(type) {
		case string:
			id, _ = strconv.ParseInt(x, 10, 64)
		case float64:
			id = int64(x)
		case int64:
			id = x
		}
		if id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
