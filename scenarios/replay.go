package scenarios

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// IsSeedPlan reports whether plan is exactly the plan its seed draws with
// its parameters and bugs, so that `run SCENARIO --seed N` reproduces it.
func IsSeedPlan(plan *Plan) bool {
	p, err := PlanForSeed(plan.Scenario, plan.Seed, plan.Params, plan.Bugs)
	return err == nil && bytes.Equal(p.Marshal(), plan.Marshal())
}

// SeedCommand is the run command line of a seed: `run SCENARIO --seed N`
// with the parameters (sorted) and bugs. prog is how the command is
// invoked, such as "sofasim" or "go run ./cmd/sofasim".
func SeedCommand(prog, scenario string, seed uint64, params map[string]string, bugs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s run %s --seed %d", prog, scenario, seed)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		fmt.Fprintf(&b, " --param %s", ShellQuote(k+"="+params[k]))
	}
	for _, bug := range bugs {
		fmt.Fprintf(&b, " --bug %s", bug)
	}
	return b.String()
}

// ShellQuote quotes a word for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
