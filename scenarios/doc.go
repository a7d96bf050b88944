// Package scenarios defines sofasim's scenarios: a topology, a workload, a
// nemesis and checkers, registered by name, and the runner that executes
// them.
//
// A Plan is everything a run depends on: scenario, seed, parameters, the
// workload's operations, the fault steps and the armed bugs. It is plain,
// versioned JSON: it prints, saves, replays and shrinks. A scenario's plan
// generator is a rapid generator, so the same code draws plans in go test
// (rapid.Check, with shrinking and failfiles) and from a plain seed on the
// command line (PlanForSeed).
//
// Run executes a plan in two phases. The safety phase runs the workload
// under the faults until Plan.Duration. The liveness phase then heals
// everything (partitions, clogs, loss, pauses, crashed nodes, skewed
// clocks and jumped clocks stepped back, non-bug failpoints) and gives the system Plan.Liveness to finish
// every outstanding operation. The history then goes through the
// scenario's checkers plus a liveness checker.
package scenarios
