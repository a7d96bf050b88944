package coordinator

import "github.com/sofasim/sofasim/checkers"

// Checkers are every coordinator invariant; recoveryBound is how long
// after the heal every transaction must be final (ns). Protocol checkers
// come first and their consequences (money, leaks, recovery) last, so a
// report's first failure is the closest to the cause.
func Checkers(recoveryBound int64) []checkers.CheckerOf[*History] {
	return []checkers.CheckerOf[*History]{OneDecision{}, OutcomeMatchesDecision{}, RegisterWhileBegin{}, LockExclusivity{},
		UniqueIDs{}, TCCFence{}, NoAbortedRead{}, ListIsolation{}, AllOrNothing{}, Atomicity{}, NoLeak{}, Recovery{Bound: recoveryBound}}
}
