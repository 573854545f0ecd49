package identity

// HoldSlotsForTest takes every hashing slot of g until the returned function is called.
func HoldSlotsForTest(g *Guard) func() {
	for range cap(g.slots) {
		g.slots <- struct{}{}
	}
	return func() {
		for range cap(g.slots) {
			<-g.slots
		}
	}
}
