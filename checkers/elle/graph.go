package elle

import "slices"

// Rel is a set of dependency kinds between two transactions.
type Rel uint8

const (
	WW       Rel = 1 << iota // write-write: T2 overwrote (appended after) T1's version
	WR                       // write-read: T2 read T1's version
	RW                       // read-write (anti-dependency): T1 read a version T2 replaced
	Realtime                 // T1 completed before T2 was invoked
)

func (r Rel) String() string {
	switch r {
	case WW:
		return "ww"
	case WR:
		return "wr"
	case RW:
		return "rw"
	case Realtime:
		return "rt"
	}
	return "?"
}

// Edge is one dependency, with the key and version that justify it.
type Edge struct {
	From int    `json:"from"`
	To   int    `json:"to"`
	Rel  Rel    `json:"rel"`
	Key  string `json:"key,omitempty"`
	// Value is the version From wrote (ww, wr); Next the version To wrote
	// after it (ww, rw); Read what the reader saw (wr, rw).
	Value string `json:"value,omitempty"`
	Next  string `json:"next,omitempty"`
	Read  string `json:"read,omitempty"`
}

// graph is a dependency graph over transaction ids, with the reason for
// each edge kept once.
type graph struct {
	out  [][]int32 // out[v] = indexes into edges
	edge []Edge
	seen map[[2]int32]Rel
}

func newGraph(n int) *graph {
	return &graph{out: make([][]int32, n), seen: map[[2]int32]Rel{}}
}

// add records e unless an edge of the same kind joins the same pair.
func (g *graph) add(e Edge) {
	if e.From == e.To {
		return
	}
	k := [2]int32{int32(e.From), int32(e.To)}
	if g.seen[k]&e.Rel != 0 {
		return
	}
	g.seen[k] |= e.Rel
	g.out[e.From] = append(g.out[e.From], int32(len(g.edge)))
	g.edge = append(g.edge, e)
}

// sccs returns the strongly connected components with more than one
// vertex of the subgraph of edges in mask (Tarjan's algorithm, iterative
// so that long chains do not exhaust the stack). Components and their
// vertices are sorted, so results do not depend on map order.
func (g *graph) sccs(mask Rel) [][]int {
	n := len(g.out)
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := int32(0)
	type frame struct{ v, i int }
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call := []frame{{root, 0}}
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.i < len(g.out[v]) {
				e := g.edge[g.out[v][f.i]]
				f.i++
				if e.Rel&mask == 0 {
					continue
				}
				w := e.To
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				p := call[len(call)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				var comp []int
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp = append(comp, w)
					if w == v {
						break
					}
				}
				if len(comp) > 1 {
					slices.Sort(comp)
					out = append(out, comp)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// path finds a shortest path from `from` to `to` inside the vertex set in,
// along edges in mask, by breadth-first search. With needRW it finds the
// shortest path that uses at least one rw edge (searching pairs of vertex
// and whether an rw edge was used). It returns the edge indexes, or nil.
func (g *graph) path(from, to int, in map[int]bool, mask Rel, needRW bool) []int32 {
	type state struct {
		v  int
		rw bool
	}
	type step struct {
		edge int32
		prev state
	}
	start := state{from, false}
	prev := map[state]step{start: {-1, start}}
	queue := []state{start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, ei := range g.out[s.v] {
			e := g.edge[ei]
			if e.Rel&mask == 0 || !in[e.To] || e.To == from {
				continue
			}
			ns := state{e.To, s.rw || (needRW && e.Rel == RW)}
			if e.To == to && needRW && !ns.rw {
				continue // the target is reached once, at the end
			}
			if _, ok := prev[ns]; ok {
				continue
			}
			prev[ns] = step{ei, s}
			if e.To == to && (!needRW || ns.rw) {
				var p []int32
				for cur := ns; cur != start; cur = prev[cur].prev {
					p = append(p, prev[cur].edge)
				}
				slices.Reverse(p)
				return p
			}
			queue = append(queue, ns)
		}
	}
	return nil
}
