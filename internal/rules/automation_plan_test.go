package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"tandem/internal/account"
	"tandem/internal/rules"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
	"tandem/internal/ticket/tfield"
)

// TestAutomationWindowsUseTheirIndexes: an automation pass over an hours condition
// starts from that time's own index (migrations 0023 and 0053, whose indexes hold only
// tickets with the time set), on both databases; on PostgreSQL with sequential scans
// off, since the tables of a test are too small for the planner to prefer an index.
func TestAutomationWindowsUseTheirIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		r := newRig(t, db, account.Enterprise)
		for _, f := range tfield.All(tfield.TimeCondition) {
			col := strings.TrimPrefix(f.SQL, "t.")
			if col == "created_at" {
				continue // never unset, and three indexes start with (account_id, created_at)
			}
			want := "tickets_auto_" + strings.TrimSuffix(col, "_at")
			if col == "sla_breach_at" {
				want = "tickets_live_sla_breach"
			}
			op := "greater_than"
			if f.Until {
				op = "less_than"
			}
			a := &rules.Automation{Conditions: rules.Conditions{All: []rules.Condition{{Field: f.Name, Operator: op, Value: "24"}}}}
			where, args := rules.AutomationWindow(r.acct.ID, a, store.Now())
			q := `SELECT t.id FROM tickets t WHERE t.account_id = ? AND t.deleted_at = 0 AND t.status <> 'closed' AND ` + where
			var plan []string
			err := db.Write(r.ctx, func(tx *store.Tx) error {
				explain := "EXPLAIN QUERY PLAN "
				if db.Dialect == store.Postgres {
					explain = "EXPLAIN "
					if _, err := tx.ExecContext(r.ctx, "SET LOCAL enable_seqscan = off"); err != nil {
						return err
					}
				}
				rows, err := tx.QueryContext(r.ctx, explain+q, append([]any{r.acct.ID}, args...)...)
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, err := rows.Columns()
				if err != nil {
					return err
				}
				for rows.Next() {
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(any)
					}
					if err := rows.Scan(vals...); err != nil {
						return err
					}
					plan = append(plan, text(*vals[len(vals)-1].(*any)))
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			if !strings.Contains(strings.Join(plan, " | "), want) {
				t.Errorf("%s: the pass does not start from %s: %v", f.Name, want, plan)
			}
		}
	})
}

// text is a column read into an any: a driver gives text as string or []byte.
func text(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}
