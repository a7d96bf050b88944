// Package procstat reads the harness process's own CPU time and peak
// memory, for the speed and memory figures of benchmarks and rehearsals.
// It is harness code, not node code: simulated nodes never read it.
package procstat
