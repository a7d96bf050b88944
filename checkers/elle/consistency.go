package elle

import (
	"fmt"
	"slices"
	"strings"
)

// Anomaly names, as Elle spells them.
const (
	G0                = "G0"                 // a cycle of ww edges: dirty write
	G1a               = "G1a"                // aborted read: a committed txn read a failed txn's write
	G1b               = "G1b"                // intermediate read: a read of a version its writer later overwrote
	G1c               = "G1c"                // circular information flow: a cycle of ww and wr edges
	GSingle           = "G-single"           // a cycle with exactly one rw edge: read skew
	GNonadjacent      = "G-nonadjacent"      // a cycle whose rw edges are never adjacent
	G2Item            = "G2-item"            // a cycle with two or more rw edges: write skew
	G0Realtime        = "G0-realtime"        // as G0, closed only by real-time order
	G1cRealtime       = "G1c-realtime"       // as G1c, with real-time edges
	GSingleRealtime   = "G-single-realtime"  // as G-single, with real-time edges
	G2ItemRealtime    = "G2-item-realtime"   // as G2-item, with real-time edges
	LostUpdate        = "lost-update"        // two committed txns read the same version and both wrote the key
	Internal          = "internal"           // a txn's read contradicts its own earlier reads and writes
	DuplicateElement  = "duplicate-elements" // a list read holds a value twice
	IncompatibleOrder = "incompatible-order" // two reads of a list are not prefixes of one another
	CyclicVersions    = "cyclic-versions"    // the inferred version order of a register has a cycle
	GarbageRead       = "garbage-read"       // a read of a value nobody wrote
)

// Consistency models this checker judges, weakest first.
var consistencyModels = []string{
	"read-uncommitted", "read-committed", "repeatable-read",
	"snapshot-isolation", "serializable", "strict-serializable",
}

// Consistencies lists the consistency models, weakest first.
func Consistencies() []string { return slices.Clone(consistencyModels) }

// CheckConsistency validates a consistency model's name.
func CheckConsistency(name string) error {
	if slices.Contains(consistencyModels, name) {
		return nil
	}
	return fmt.Errorf("unknown consistency model %q (available: %s)", name, strings.Join(consistencyModels, ", "))
}

// proscribed lists, per model, the anomalies it rules out, following
// Adya's definitions and Elle's lattice: read uncommitted (PL-1) forbids
// G0; read committed (PL-2) adds G1a, G1b, G1c; repeatable read (PL-2.99)
// adds G2-item and lost update (our cycles are over items, so G-single is
// a G2-item too); snapshot isolation adds to read committed G-single,
// G-nonadjacent, lost update and internal inconsistency, but allows
// write skew (G2-item with adjacent rw edges); serializable (PL-3) forbids
// every cycle; strict serializable also those closed by real time. Reads
// that no order explains (duplicates, incompatible orders, garbage,
// cyclic versions) break every model from read committed, or read
// uncommitted where Elle puts them there.
var proscribed = func() map[string][]string {
	ru := []string{G0, DuplicateElement, CyclicVersions, GarbageRead}
	rc := append(slices.Clone(ru), G1a, G1b, G1c, IncompatibleOrder)
	rr := append(slices.Clone(rc), GSingle, GNonadjacent, G2Item, LostUpdate)
	si := append(slices.Clone(rc), GSingle, GNonadjacent, LostUpdate, Internal)
	ser := append(slices.Clone(rr), Internal)
	strict := append(slices.Clone(ser), G0Realtime, G1cRealtime, GSingleRealtime, G2ItemRealtime)
	return map[string][]string{
		"read-uncommitted": ru, "read-committed": rc, "repeatable-read": rr,
		"snapshot-isolation": si, "serializable": ser, "strict-serializable": strict,
	}
}()

// RuledOut lists the models (weakest first) that any of the anomaly
// types rules out.
func RuledOut(types []string) []string {
	var out []string
	for _, m := range consistencyModels {
		for _, t := range types {
			if slices.Contains(proscribed[m], t) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Proscribes reports whether the model rules out the anomaly type.
func Proscribes(model, anomaly string) bool { return slices.Contains(proscribed[model], anomaly) }

// severity orders anomaly types for reports: data anomalies first, then
// cycles from worst to subtlest, then real-time ones.
var severity = []string{
	Internal, GarbageRead, DuplicateElement, IncompatibleOrder, CyclicVersions, G1a, G1b,
	G0, G1c, LostUpdate, GSingle, GNonadjacent, G2Item,
	G0Realtime, G1cRealtime, GSingleRealtime, G2ItemRealtime,
}

func severityOf(t string) int {
	if i := slices.Index(severity, t); i >= 0 {
		return i
	}
	return len(severity)
}
