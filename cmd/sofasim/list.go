package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

type listedScenario struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Params      []scenarios.Param `json:"params"`
	Bugs        []sim.Bug         `json:"bugs"`
	Failpoints  []string          `json:"failpoints"`
	OpKinds     []string          `json:"op_kinds"`
}

type listOutput struct {
	Scenarios []listedScenario `json:"scenarios"`
}

func newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the scenarios, their parameters and their planted bugs",
		Long: `list shows every registered scenario with a one-line description, its
parameters (name, allowed values, default, usage) and the planted bugs that
--bug can arm. Scenarios of one system share one block.`,
		Example: `  sofasim list
  sofasim list --json`,
		Args: argsNamed(0, 0, "", ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := listOutput{Scenarios: []listedScenario{}}
			for _, sc := range scenarios.All() {
				ls := listedScenario{Name: sc.Name, Description: sc.Description, Params: sc.Params, Bugs: sc.Bugs,
					Failpoints: sc.Failpoints, OpKinds: sc.OpKinds}
				if ls.Params == nil {
					ls.Params = []scenarios.Param{}
				}
				if ls.Bugs == nil {
					ls.Bugs = []sim.Bug{}
				}
				if ls.Failpoints == nil {
					ls.Failpoints = []string{}
				}
				out.Scenarios = append(out.Scenarios, ls)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, out)
			}
			if len(out.Scenarios) == 0 {
				fmt.Fprintln(w, "no scenarios are registered")
				return nil
			}
			// Scenarios of one system share their parameters, bugs and
			// operations: print each block once under its group.
			for i := 0; i < len(out.Scenarios); {
				j := i + 1
				for j < len(out.Scenarios) && sameBlock(out.Scenarios[i], out.Scenarios[j]) {
					j++
				}
				if i > 0 {
					fmt.Fprintln(w)
				}
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				for _, sc := range out.Scenarios[i:j] {
					fmt.Fprintf(tw, "%s\t%s\n", sc.Name, sc.Description)
				}
				sc := out.Scenarios[i]
				if len(sc.Params) > 0 {
					fmt.Fprintln(tw, "  parameters (--param NAME=VALUE):")
					for _, p := range sc.Params {
						fmt.Fprintf(tw, "    %s\t%s, default %s\t%s\n", p.Name, p.Allowed(), p.Default, p.Usage)
					}
				}
				if len(sc.Bugs) > 0 {
					fmt.Fprintln(tw, "  planted bugs (--bug NAME):")
					for _, b := range sc.Bugs {
						fmt.Fprintf(tw, "    %s\t%s\n", b.Name, b.Description)
					}
				}
				if len(sc.OpKinds) > 0 {
					fmt.Fprintf(tw, "  operations: %s\n", strings.Join(sc.OpKinds, ", "))
				}
				tw.Flush()
				i = j
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the scenarios as one JSON object")
	return cmd
}

// sameBlock reports whether two scenarios list the same parameters, bugs
// and operations.
func sameBlock(a, b listedScenario) bool {
	x, _ := json.Marshal([]any{a.Params, a.Bugs, a.OpKinds})
	y, _ := json.Marshal([]any{b.Params, b.Bugs, b.OpKinds})
	return string(x) == string(y)
}
