package coordinator

import "github.com/sofasim/sofasim/checkers"

// Checkers are every coordinator invariant; recoveryBound is how long
// after the heal every transaction must be final (ns).
func Checkers(recoveryBound int64) []checkers.CheckerOf[*History] {
	return []checkers.CheckerOf[*History]{Atomicity{}, OneDecision{}, OutcomeMatchesDecision{}, RegisterWhileBegin{},
		LockExclusivity{}, NoLeak{}, TCCFence{}, Recovery{Bound: recoveryBound}, UniqueIDs{}, NoAbortedRead{}}
}
