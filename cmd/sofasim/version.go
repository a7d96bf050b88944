package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/reports"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the sofasim build: version, commit, Go toolchain",
		Long: `version prints the build of this sofasim binary, as every result, failure and
sweep file records it: the module version, the VCS commit and its time, whether
the tree had uncommitted changes ("modified"), the Go toolchain, and the first
digits of the binary's SHA-256. go build and go install in a git checkout
record the commit; go run and -buildvcs=false do not, and then the digest
still tells two builds apart.`,
		Args:    argsNamed(0, 0, "", ""),
		Example: "  sofasim version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "sofasim %s, %s/%s\n", reports.ThisBuild(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
