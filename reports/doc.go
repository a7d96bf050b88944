// Package reports writes and reads sofasim's reports: the result JSON of a
// run (a versioned schema; a failure file is a failing run's result, which
// embeds the plan so that replay and shrink can rerun it), a self-contained
// HTML page per run (summary, fault timeline, porcupine's visualisation
// with the fault periods annotated, the failing checker's explanation and
// the operations involved, per-node statistics, the replay command), a
// sweep summary (JSON and HTML) and JUnit XML for CI systems.
//
// Reports are deterministic: the same run by the same build gives the same
// bytes, except the wall-time fields (wall_seconds, sim_wall_seconds,
// speedup and a sweep's wall_seconds, seeds_per_second and started).
//
// A failing run also gets its node logs (logs/NODE.log, see [Logs]): the
// kernel's trace split by node, each line tagged ERROR, WARN, INFO or DEBUG.
//
// reports imports sim and checkers and never scenarios (DESIGN.md: scenarios
// may write reports, not the other way round), so a run's plan is carried
// as raw JSON and the caller converts a scenarios.Result into a [Result].
//
// # Result and failure files (version 2)
//
//	{
//	  "version": 2,
//	  "scenario": "raftkv-chaos",
//	  "seed": 884,
//	  "verdict": "fail",                       // pass, fail or unknown
//	  "fingerprint": "9c1e0b7f3d2a4e61",        // %016x
//	  "events": 183204,
//	  "virtual": "1m10.5s",                    // virtual time at the end of the run
//	  "virtual_seconds": 70.5,
//	  "heal_at": "1m0s",                       // the liveness phase started here
//	  "wall_seconds": 0.84,                    // wall time of the whole run (build, simulation, checks)
//	  "sim_wall_seconds": 0.61,                // wall time of the simulation alone
//	  "speedup": 115.6,                        // virtual / simulation wall time
//	  "bugs": ["bug/raftkv/stale-read"],       // armed planted bugs
//	  "failures": ["linearizable: not linearizable ..."],
//	  "checks": [{"checker": "linearizable", "verdict": "fail", "explanation": "...", "ops": [3, 17]}],
//	  "findings": [{"kind": "panic", "node": "n2", "at": "12.5s", "value": "...", "stack": "..."}],
//	  "faults": [{"at": "3.2s", "kind": "crash", "text": "crash @3.2s [n2]", "fault": {...}, "note": ""}],
//	  "nodes": [{"id": "n1", "stats": {...}, "disk": {...}}],
//	  "replay": "sofasim replay out/raftkv-chaos/884/failure.json",
//	  "run_command": "sofasim run raftkv-chaos --seed 884 --bug bug/raftkv/stale-read",
//	  "build": {"version": "(devel)", "revision": "174002a5...", "time": "...",
//	            "modified": true, "go": "go1.26.8", "binary": "0a1b2c3d4e5f"},  // see [Build]
//	  "plan": {...}                            // the scenarios.Plan, verbatim
//	}
//
// replay is the command that reproduces the run exactly; run_command is
// present when the plan is the one its seed draws. Reading a result back
// ([ParseResult]) is strict: unknown fields, a missing plan or a bad
// fingerprint are errors.
package reports
