// Package intern numbers values in the order first seen, so that large
// tables can hold a 32-bit number in place of a repeated value.
package intern

// Table numbers values 0, 1, 2, ... in the order Of first sees them. The
// zero Table is ready to use. Lookups never iterate the map, so no order
// depends on it.
type Table[K comparable] struct {
	num  map[K]uint32
	vals []K
}

// Of returns v's number, giving it the next one if v is new.
func (t *Table[K]) Of(v K) uint32 {
	n, ok := t.num[v]
	if !ok {
		if t.num == nil {
			t.num = map[K]uint32{}
		}
		n = uint32(len(t.vals))
		t.num[v] = n
		t.vals = append(t.vals, v)
	}
	return n
}

// At returns the value numbered n.
func (t *Table[K]) At(n uint32) K { return t.vals[n] }

// Len returns how many values are numbered.
func (t *Table[K]) Len() int { return len(t.vals) }
