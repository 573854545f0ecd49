//go:build race

package search

// raceEnabled: the race detector slows the pure-Go SQLite tenfold; randomized tests
// run fewer rounds under it.
const raceEnabled = true
