// Package ptrkey exercises pointer addresses used as map keys.
package ptrkey

import "unsafe"

type Node struct{ id int }

type pair struct{ a, b *Node }

type nested struct{ inner pair }

type Set[K comparable] map[K]struct{}

var (
	byNode   map[*Node]int                   // want `^map keyed by pointer: addresses differ between runs, so the keys cannot be sorted or printed reproducibly; key by a stable ID, or add //detlint:allow <why>$`
	byPair   map[pair]bool                   // want `map keyed by pointer`
	byNested map[nested]bool                 // want `map keyed by pointer`
	byArray  map[[2]*Node]bool               // want `map keyed by pointer`
	byUnsafe map[unsafe.Pointer]bool         // want `map keyed by pointer`
	nodes    Set[*Node]                      // want `map keyed by pointer`
	twice    = make(map[*Node]map[*Node]int) // want `map keyed by pointer` `map keyed by pointer`
)

// Allowed: pointers as values, and keys without addresses.
var (
	byID    map[int]*Node
	byName  map[string]Node
	byIface map[any]int
	ids     Set[int]
	byAddr  map[uintptr]int
)

func addr(n *Node) {
	byAddr[uintptr(unsafe.Pointer(n))] = 1 // want `^pointer converted to uintptr: addresses differ between runs; use a stable ID, or add //detlint:allow <why>$`
	_ = uintptr(42)
	_ = unsafe.Pointer(n)
}
