package rules

// ForceWalk makes every page of q walk the sort order when its conditions require share
// sets, however small they are, so that tests cover both plans.
func (q *Query) ForceWalk() { q.walkMin = 1 }
