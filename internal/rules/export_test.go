package rules

import (
	"time"

	"tandem/internal/ids"
)

// ForceWalk makes every page of q walk the sort order when its conditions require share
// sets, however small they are, so that tests cover both plans.
func (q *Query) ForceWalk() { q.walkMin = 1 }

// CountInBackground makes every stale view count of s recount in the background, however
// cheap, and returns a channel that receives once per finished recount.
func CountInBackground(s *Service) <-chan struct{} {
	ch := make(chan struct{}, 16)
	s.counts.sync = 0
	s.counts.recounts = ch
	return ch
}

// AutomationWindow is the SQL an automation pass selects its candidates with.
func AutomationWindow(acct ids.Account, a *Automation, now time.Time) (string, []any) {
	return automationWindow(acct, a, now)
}
