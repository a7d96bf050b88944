// Package checkers judges recorded histories: linearizability with
// porcupine, liveness after faults heal, and (later) domain invariants.
//
// The contract:
//
//   - A [History] is plain data: client operations with virtual-time call
//     and return stamps (nanoseconds). Checkers read histories and import
//     nothing else of ours, so a history from a simulation, from a Jepsen
//     log or from a file is judged the same way.
//   - An operation whose outcome is unknown (a client timed out, Jepsen's
//     :info) stays open to the end of the history: it may or may not have
//     taken effect, at any moment after its call.
//   - A [Checker] returns a [Result] whose [Verdict] is pass, fail or
//     unknown. A check never gives a wrong verdict to save time: when
//     [Options.TimeLimit] runs out the verdict is unknown, never pass. A
//     failing result names the operations involved and says why in a sentence.
//   - Verdicts and explanations depend only on the history and the options:
//     nothing ranges over a map unsorted or reads the clock, except the
//     optional time limit itself.
//
// Histories are read from three forms (see [Parse]): our versioned JSON
// ([WriteJSON] writes it and [ParseJSON] reads it back exactly), Jepsen's
// log lines, and Jepsen-style EDN maps, one a line.
package checkers
