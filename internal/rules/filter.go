package rules

import (
	"context"
	"fmt"

	"tandem/internal/account"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// ValidateFilter validates a filter of ticket conditions (an SLA policy's): the
// conditions automations take about the ticket, without time conditions. It
// normalizes the values as triggers' are.
func ValidateFilter(ctx context.Context, q store.Queryer, acct *account.Account, conds *Conditions) error {
	*conds = conds.normalized()
	c := newChecker(ctx, q, acct)
	c.conditions(KindAutomation, conds)
	for i, cd := range conds.All {
		if f := lookupCond(cd.Field); f != nil && f.timed {
			c.bad(fmt.Sprintf("filter.all[%d].field", i), "%q is a time condition; a filter tests the ticket itself", cd.Field)
		}
	}
	for i, cd := range conds.Any {
		if f := lookupCond(cd.Field); f != nil && f.timed {
			c.bad(fmt.Sprintf("filter.any[%d].field", i), "%q is a time condition; a filter tests the ticket itself", cd.Field)
		}
	}
	return c.v.Err()
}

// Matches reports whether the change in progress matches a validated filter, as a
// trigger's conditions would (an empty filter matches every ticket).
func (s *Service) Matches(ctx context.Context, tx *store.Tx, ch *ticket.Change, conds Conditions) (bool, error) {
	c, err := compileTrigger(&Trigger{Conditions: conds})
	if err != nil {
		return false, err
	}
	return c.matches(newEval(ctx, tx, ch, s)), nil
}
