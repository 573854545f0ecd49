package report

// FoldSQL is the fold's statement, for tests that run it without Fold's try-lock.
const FoldSQL = foldSQL
