// Package elle checks transactional histories for isolation anomalies, in
// the manner of Jepsen's Elle (Kingsbury and Alvaro, "Elle: Inferring
// Isolation Anomalies from Experimental Observations", VLDB 2021).
//
// A history is a slice of [Txn], each a list of micro-operations on keys:
// appends to lists and list reads ([ListAppend]), or register writes and
// reads ([RWRegister]). Values must be unique per key, so a read tells
// which transaction wrote what it saw. [Check] infers write-write,
// write-read and read-write dependencies from the data, and real-time
// order from calls and returns; it then finds strongly connected
// components (Tarjan) and, inside each, the shortest cycle of each kind
// (breadth-first search), names the anomalies (G0, G1a, G1b, G1c,
// G-single, G-nonadjacent, G2-item and their real-time variants, lost
// update, internal inconsistency, duplicate elements, incompatible orders,
// cyclic versions) and says which consistency models they rule out.
//
// Scenarios call it directly with typed transactions:
//
//	res, err := elle.Check(txns, elle.Options{Model: elle.ListAppend, Consistency: "serializable"})
//	if !res.Valid { ... res.Anomalies[0].Explanation ... }
//
// and `sofasim check` feeds it Jepsen's EDN histories.
package elle
