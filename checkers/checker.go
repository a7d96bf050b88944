package checkers

import (
	"fmt"
	"time"
)

// Checker judges a key-value or register history. Implementations are
// plain values whose parameters are exported fields, so a scenario can
// build one literally. Other systems' checkers are [CheckerOf] their own
// history type.
type Checker = CheckerOf[History]

// Options tune a check without changing what it decides.
type Options struct {
	// TimeLimit bounds the wall time a check may spend; 0 means no limit
	// (replay). When it runs out the verdict is Unknown, never Pass. It
	// is the only wall-clock input of this package.
	TimeLimit time.Duration
	// Progress, when set, is told now and then how far a long check has
	// got (for a CLI's progress line); it never changes the verdict.
	Progress func(done, total int, unit string)
}

// Verdict is a check's outcome, serialised as "pass", "fail" or "unknown".
type Verdict string

const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown" // out of time, or the history could not be judged
)

// UnmarshalText accepts only the three verdicts, so a report with a typo
// does not read as a verdict nobody handles.
func (v *Verdict) UnmarshalText(b []byte) error {
	switch w := Verdict(b); w {
	case Pass, Fail, Unknown:
		*v = w
		return nil
	}
	return fmt.Errorf("checkers: unknown verdict %q (want pass, fail or unknown)", b)
}

// Cause says why a check gave no verdict, so that tools sort unknowns
// without reading explanations.
type Cause string

const (
	// CauseTimeLimit: Options.TimeLimit ran out first. It says nothing
	// about the system; the same check without a limit decides.
	CauseTimeLimit Cause = "time-limit"
	// CauseUnjudgeable: the history cannot be judged (invalid, no model,
	// too short for a bound). Checking it again changes nothing.
	CauseUnjudgeable Cause = "unjudgeable"
)

// Result is a checker's finding. Explanation is a sentence for a person;
// Ops lists the ids of the operations it is about (sorted), so a report can
// highlight them. Cause is set with an Unknown verdict; a checker that
// leaves it empty means CauseUnjudgeable (see [Result.UnknownCause]).
type Result struct {
	Checker     string  `json:"checker"`
	Verdict     Verdict `json:"verdict"`
	Cause       Cause   `json:"cause,omitempty"`
	Explanation string  `json:"explanation"`
	Ops         []int   `json:"ops,omitempty"`
	// Linearization holds porcupine's evidence for the HTML report; it is
	// set by [Linearizable] only.
	Linearization *Linearization `json:"-"`
}

// Passed reports whether the verdict is Pass.
func (r Result) Passed() bool { return r.Verdict == Pass }

// UnknownCause is why the check has no verdict ("" when it has one).
func (r Result) UnknownCause() Cause {
	switch {
	case r.Verdict != Unknown:
		return ""
	case r.Cause == "":
		return CauseUnjudgeable
	}
	return r.Cause
}
