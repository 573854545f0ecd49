package ticket

import (
	"context"
	"fmt"

	"tandem/internal/ids"
	"tandem/internal/store"
)

// IncidentCounts returns how many live incidents link to each of the problems (tickets
// without incidents are left out).
func IncidentCounts(ctx context.Context, q store.Queryer, acct ids.Account, problems []ids.Ticket) (map[ids.Ticket]int, error) {
	out := map[ids.Ticket]int{}
	if len(problems) == 0 {
		return out, nil
	}
	args := []any{acct}
	for _, id := range problems {
		args = append(args, id)
	}
	rows, err := q.QueryContext(ctx, `SELECT problem_id, COUNT(*) FROM tickets WHERE account_id = ? AND problem_id IN (`+store.In(len(problems))+`) AND deleted_at = 0 GROUP BY problem_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("ticket: incident counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id ids.Ticket
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("ticket: incident counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
