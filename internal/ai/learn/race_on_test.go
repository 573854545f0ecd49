//go:build race

package learn

// raceEnabled is true when the tests run with the race detector, which makes training
// on BANKING77 ten times slower: the figure test leaves it to the benchmark then.
const raceEnabled = true
