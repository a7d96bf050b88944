// Command sofasim runs deterministic simulations of SOFA-style middleware.
//
// Exit codes: 0 all checks passed; 1 a check failed (a finding); 2 bad
// usage or bad input; 3 the harness itself failed.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	_ "github.com/sofasim/sofasim/scenarios/all" // every system's scenarios
)

// Exit codes, as DESIGN.md fixes them.
const (
	exitPass    = 0
	exitFinding = 1
	exitUsage   = 2
	exitHarness = 3
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr is bad usage or bad input: exit 2.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// harnessErr is a failure of sofasim itself: exit 3.
func harnessErr(err error) error { return &exitError{code: exitHarness, err: err} }

// findingErr reports that a check failed: exit 1. Its message is already printed.
var errFinding = &exitError{code: exitFinding, err: errors.New("a check failed")}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "sofasim",
		Short: "Deterministic simulation and chaos testing for SOFA-style middleware",
		Long: `sofasim runs systems under test on a simulated network, clock and disk,
injects faults (partitions, crashes, pauses, clock and disk faults, planted
bugs) and checks the recorded histories. Systems: raftkv (a replicated
key-value store on etcd raft, raftkv-*), a SOFARegistry-like service registry
(registry-*), a Seata-like transaction coordinator (txn-*) and a MOSN/Istio-like
service mesh (mesh-*); rehearse runs all of them together under production-shaped
load. Every run is reproduced exactly from its scenario, seed and plan.

Start with: ` + prog + ` list, then ` + prog + ` sweep raftkv-chaos --seeds 1..100
Outputs go to out/SCENARIO/TIME-WHAT/ (out/SCENARIO/latest is the newest).

Exit codes: 0 all checks passed, 1 a check failed (a finding), 2 bad usage or
input, 3 the harness failed or a check could not decide.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%s: %s", c.Name(), flagError(err)) })
	root.AddCommand(newVersionCmd(), newBenchCmd(), newListCmd(), newRunCmd(), newSweepCmd(), newReplayCmd(),
		newShrinkCmd(), newCheckCmd(), newMergeCmd(), newWorkerCmd(),
		newRehearseCmd())
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(root.FlagErrorFunc())
	}
	return root
}

var flagErrRE = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?(--[\w-]+)" flag: (.*)$`)

// flagError rewrites pflag's "invalid argument" errors, which quote Go's
// parse errors, as the flag, the value and what the flag takes.
func flagError(err error) string {
	m := flagErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err.Error()
	}
	flag, value, why := m[2], m[1], m[3]
	switch {
	case flag == "--seed":
		why = "a seed is a whole number from 0 to 18446744073709551615"
	case strings.Contains(why, "ParseUint"):
		why = "want a whole number, 0 or more"
	case strings.Contains(why, "ParseInt"):
		why = "want a whole number"
	case strings.Contains(why, "ParseBool"):
		why = "want true or false"
	case strings.Contains(why, "time: "):
		why = "want a duration such as 500ms, 30s or 2m"
	}
	return fmt.Sprintf("%s %s: %s", flag, value, why)
}

// argsNamed checks a command's arguments and names what it expected:
// word is the usage's word (SCENARIO, FILE), missing what to say when there
// are too few. max < 0 is no maximum.
func argsNamed(min, max int, word, missing string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return usageErr("%s: %s", cmd.Name(), missing)
		case max == 0 && len(args) > 0:
			return usageErr("%s takes no arguments, not %s", cmd.Name(), strings.Join(args, " "))
		case max > 0 && len(args) > max:
			return usageErr("%s takes one %s, not %d (%s)", cmd.Name(), word, len(args), strings.Join(args, " "))
		}
		return nil
	}
}

// run executes the CLI and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitPass
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.code != exitFinding {
			fmt.Fprintln(stderr, "sofasim:", ee.err)
		}
		return ee.code
	}
	// cobra's own errors (unknown command, bad args) are usage errors.
	fmt.Fprintln(stderr, "sofasim:", err)
	return exitUsage
}

func main() {
	// A run allocates many short-lived objects (etcd raft alone makes ~200
	// per client operation) and keeps little: collecting a quarter as often
	// makes runs 25-50% faster for a few more MB. GOGC still overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
