package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The test binary doubles as the sofasim binary: started with a command
// instead of go test's -test.* flags, it runs the CLI. Sweeps started by
// the tests re-execute it as "sofasim worker" (os.Executable is the test
// binary), so their workers know the test-only scenario.
func TestMain(m *testing.M) {
	prog = "sofasim" // the tests' printed commands, whatever runs them
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cli runs the CLI in this process.
func cli(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// cliProc runs the CLI as a separate process (this test binary).
func cliProc(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return code, o.String(), e.String()
}

// oneLine reports whether s is a single line of text.
func oneLine(s string) bool {
	return strings.Count(strings.TrimRight(s, "\n"), "\n") == 0 && strings.TrimSpace(s) != ""
}
