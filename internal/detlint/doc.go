// Package detlint defines an analyzer that reports determinism hazards:
// code whose behaviour can differ between two runs of the same scenario,
// seed and plan. The simulation kernel (sim/) and the systems under test
// (nodes/) must be deterministic, because a failing seed is only useful if
// it replays exactly and the run fingerprint only means something if it is
// stable. CI runs it over both trees, test files included:
//
//	go run ./cmd/detlint ./sim/... ./nodes/...
//
// or, as a vet tool,
//
//	go build -o /tmp/detlint ./cmd/detlint && go vet -vettool=/tmp/detlint ./sim/... ./nodes/...
//
// It exits non-zero when it reports anything. Calls and types are resolved
// with type information (the package path and name of the object, not the
// spelling in the source), so renamed and dot imports are handled and a
// local function that happens to be called Now is not. Files marked
// "Code generated ... DO NOT EDIT." are skipped.
//
// # What it reports
//
// Map iteration, because Go randomises the order:
//   - range over a value whose type is a map (a named map type, or a type
//     parameter whose constraint is made of maps, included);
//   - any reference to maps.Keys, maps.Values and maps.All;
//   - (*sync.Map).Range, reflect.Value.MapKeys and reflect.Value.MapRange.
//
// The real clock, real timers and deadlines, because simulated time is
// virtual and jumps; nodes read their local simulated clock and set timers
// through their environment:
//   - time.Now, time.Since, time.Until, time.Sleep, time.After,
//     time.AfterFunc, time.NewTimer, time.NewTicker, time.Tick (calls or
//     function values). time.Duration, time.Time values and their methods,
//     time.Unix, time.Date and arithmetic are fine;
//   - context.WithTimeout, context.WithDeadline, context.WithTimeoutCause,
//     context.WithDeadlineCause. context.WithCancel, WithValue and the
//     rest are fine.
//
// Goroutines and channels, because the Go scheduler decides their
// interleaving; the world runs every event on one goroutine:
//   - go statements, (*sync.WaitGroup).Go and context.AfterFunc (both start
//     goroutines);
//   - channel types written in the source (make(chan T), var c chan T,
//     type C chan T, <-chan T parameters and fields; chan chan T once) and
//     make of a named channel type;
//   - send statements, receive operations and range over a channel;
//   - select statements (once per select: the sends and receives in its
//     case clauses are not reported separately).
//
// The process-wide random sources, because a run must draw only from the
// streams derived from its seed:
//   - every package-level function of math/rand and math/rand/v2 except
//     the constructors New, NewSource, NewZipf, NewPCG and NewChaCha8 (so
//     rand.Intn, rand.Int, rand.Float64, rand.Perm, rand.Shuffle,
//     rand.Uint64, rand.Seed, rand.N, rand.IntN, ...). Methods of *rand.Rand,
//     rand.Source, *rand.PCG and the like are fine;
//   - any import of crypto/rand (OS entropy);
//   - any import of hash/maphash (its seed is random per process; use a
//     fixed hash such as hash/fnv for fingerprints).
//
// Garbage-collector-dependent behaviour:
//   - any reference to the type sync.Pool, and calls of (*sync.Pool).Get.
//
// Pointer addresses, which differ between runs, so maps keyed by them can
// not be iterated, sorted or printed reproducibly:
//   - map types whose key type holds an address that takes part in ==: a
//     pointer or unsafe.Pointer, directly or in a struct field or array
//     element (map[*Node]V, map[struct{a, b *Node}]V, map[unsafe.Pointer]V),
//     including instances of a generic map type such as Set[*Node];
//   - conversions of an unsafe.Pointer to uintptr (an address as a number,
//     e.g. map[uintptr]V keys made with uintptr(unsafe.Pointer(p))).
//
// Real-time polling in tests:
//   - testify's Eventually, Eventuallyf, EventuallyWithT, EventuallyWithTf,
//     Never and Neverf, as functions of github.com/stretchr/testify/assert
//     and .../require and as methods of their Assertions types (including
//     through an embedded *Assertions, as in testify suites). They poll on
//     a goroutine with real sleeps; advance the simulation instead and
//     assert directly.
//
// Each message names the hazard, says why it is one and what to do
// instead, and ends with "or add //detlint:allow <why>". Each report has a
// category (maprange, time, context, goroutine, channel, globalrand,
// cryptorand, maphash, syncpool, pointerkey, eventually, directive), shown
// by -json.
//
// # Map iterations that are not reported
//
// The order of these iterations cannot show, so they need no directive:
//
//	for range m { n++ }                    // neither key nor value is used
//
//	keys := make([]string, 0, len(m))      // the body only appends the key,
//	for k := range m {                     // the value, or plain values built
//		keys = append(keys, k)             // from them, to slices that are
//	}                                      // all sorted later in the same
//	sort.Strings(keys)                     // function
//
//	for _, k := range slices.Sorted(maps.Keys(m)) { ... }
//	keys := slices.Collect(maps.Keys(m)); slices.Sort(keys)
//	clone := maps.Collect(maps.All(m)); maps.Insert(dst, maps.All(m))
//
// Precisely, a range over a map is allowed when it defines (:=) its
// variables and every statement of its body has the form
// s = append(s, e1, ..., en) where s is a variable and each ei is built
// only from the loop variables, constants, literals, composite literals,
// field selections, conversions, operators and indexing (no calls, so no
// effects); and, for each such s, a call that sorts s appears after the
// loop in the same function body, outside nested function literals. The
// sorting calls are sort.Strings, sort.Ints, sort.Float64s, sort.Slice,
// sort.SliceStable, sort.Sort and sort.Stable (their argument may be
// wrapped in conversions such as sort.StringSlice and in sort.Reverse),
// slices.Sort, slices.SortFunc and slices.SortStableFunc. maps.Keys,
// maps.Values and maps.All are allowed when called directly as the
// argument of slices.Sorted, slices.SortedFunc or slices.SortedStableFunc;
// maps.Keys and maps.Values also as the argument of slices.Collect whose
// result is assigned to a variable sorted later in the same function;
// maps.All also as the source of maps.Collect or maps.Insert, whose result
// is a map.
//
// Everything else that ranges over a map is reported, even when the body
// happens not to depend on the order (sums, copies into another map,
// deletes, filtered collection): proving that in general is out of reach,
// and a one-line directive records the argument for the reader. The check
// does not verify that a sort.Slice comparator is a total order; sorting
// pairs by a value that can tie leaves the order of the ties random.
//
// # Opting out
//
// A finding is silenced by a line comment
//
//	//detlint:allow <reason>
//
// either at the end of the line the finding is on, or alone on the line
// directly above it. It covers exactly that one line (every finding on it)
// and nothing else; for a range statement or a select that line is the one
// with the for or select keyword. The reason, free text after blanks, is
// mandatory: say why the line is deterministic after all (for example "sum
// is order-independent", or "the world installs its seeded stream as
// crypto/rand.Reader"). Like other Go directives it has no space after
// "//". These are reported as well:
//   - //detlint:allow without a reason (it silences nothing);
//   - any other //detlint:<word> (most likely a misspelt allow);
//   - a //detlint:allow that silences nothing, so that stale or misplaced
//     directives do not pile up.
//
// # Known gaps
//
// detlint looks at one package at a time and at what the source says.
// It does not follow calls into other packages (a helper elsewhere that
// calls time.Now is reported only where that helper is analysed), does not
// see map iteration hidden behind other iterator functions, and does not
// report maps keyed by interfaces that may hold pointers, or pointer keys
// introduced by instantiating a generic function. Environment reads,
// runtime.Gosched, runtime.NumGoroutine, finalizers and file or network
// access are outside its scope.
package detlint
