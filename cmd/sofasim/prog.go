package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sofasim/sofasim/scenarios"
)

// prog is how printed commands (replay, run, shrink) invoke sofasim, so
// that they work as printed from where the user stands:
//
//   - "sofasim" when it was started by that name from PATH (go install);
//   - the path it was started by, such as ./sofasim, when that was a path;
//   - under go run (a binary in Go's build cache folder), "go run
//     ./cmd/sofasim" in the module's root and "go run
//     github.com/sofasim/sofasim/cmd/sofasim" elsewhere (it works from
//     anywhere inside the module).
//
// A sweep passes its prog to its workers, so their commands match.
var prog = invocation()

const modulePath = "github.com/sofasim/sofasim"

func invocation() string {
	arg0 := os.Args[0]
	if exe, err := os.Executable(); err == nil && isGoRunBinary(exe) {
		if st, err := os.Stat(filepath.Join("cmd", "sofasim", "main.go")); err == nil && st.Mode().IsRegular() && isModuleRoot() {
			return "go run ./cmd/sofasim"
		}
		return "go run " + modulePath + "/cmd/sofasim"
	}
	if !strings.ContainsRune(arg0, os.PathSeparator) {
		if _, err := exec.LookPath(arg0); err == nil {
			return arg0
		}
		return "sofasim"
	}
	return scenarios.ShellQuote(arg0)
}

// isGoRunBinary reports whether exe is go run's temporary binary.
func isGoRunBinary(exe string) bool {
	for _, part := range strings.Split(filepath.ToSlash(exe), "/") {
		if strings.HasPrefix(part, "go-build") {
			return true
		}
	}
	return false
}

func isModuleRoot() bool {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(first) == "module "+modulePath
}

// commandLine is the command as given (its arguments, then the flags set,
// in name order), with prog for the binary: the sweep page shows it.
func commandLine(cmd *cobra.Command, args []string) string {
	words := []string{prog, cmd.Name()}
	for _, a := range args {
		words = append(words, scenarios.ShellQuote(a))
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch v := f.Value.(type) {
		case pflag.SliceValue:
			for _, x := range v.GetSlice() {
				words = append(words, "--"+f.Name, scenarios.ShellQuote(x))
			}
		default:
			if f.Value.Type() == "bool" && f.Value.String() == "true" {
				words = append(words, "--"+f.Name)
				return
			}
			words = append(words, "--"+f.Name, scenarios.ShellQuote(f.Value.String()))
		}
	})
	return strings.Join(words, " ")
}
