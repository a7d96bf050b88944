package elle

import (
	"fmt"
	"strings"
)

// MarshalText writes a relation as ww, wr, rw or rt.
func (r Rel) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Describe tells in words why an edge holds, e.g. "T1 appended 3 to x and
// T2 appended 4 right after it".
func (e Edge) Describe(model Model) string {
	a, b := fmt.Sprintf("T%d", e.From), fmt.Sprintf("T%d", e.To)
	list := model == ListAppend
	switch e.Rel {
	case WW:
		if list {
			return fmt.Sprintf("%s appended %s to %s and %s appended %s after it", a, e.Value, e.Key, b, e.Next)
		}
		return fmt.Sprintf("%s wrote %s = %s and %s wrote the next version, %s = %s", a, e.Key, e.Value, b, e.Key, e.Next)
	case WR:
		if list {
			return fmt.Sprintf("%s appended %s to %s and %s read %s = %s, which ends with it", a, e.Value, e.Key, b, e.Key, e.Read)
		}
		return fmt.Sprintf("%s wrote %s = %s and %s read it", a, e.Key, e.Value, b)
	case RW:
		if list {
			return fmt.Sprintf("%s read %s = %s, without %s, which %s appended next", a, e.Key, e.Read, e.Next, b)
		}
		return fmt.Sprintf("%s read %s = %s and %s wrote the next version, %s = %s", a, e.Key, e.Read, b, e.Key, e.Next)
	case Realtime:
		return fmt.Sprintf("%s completed before %s began", a, b)
	}
	return fmt.Sprintf("%s -> %s", a, b)
}

var cycleMeaning = map[string]string{
	G0:              "a cycle of write-write edges alone (G0, dirty write)",
	G1c:             "a cycle of write-write and write-read edges (G1c, circular information flow)",
	GSingle:         "a cycle with exactly one read-write anti-dependency (G-single, read skew)",
	G2Item:          "a cycle with two or more adjacent read-write anti-dependencies (G2-item, write skew)",
	GNonadjacent:    "a cycle whose read-write anti-dependencies are never adjacent (G-nonadjacent, a G2-item that snapshot isolation forbids too)",
	G0Realtime:      "a cycle of write-write and real-time edges (G0-realtime)",
	G1cRealtime:     "a cycle of write-write, write-read and real-time edges (G1c-realtime)",
	GSingleRealtime: "a cycle with one read-write anti-dependency, closed by real-time order (G-single-realtime)",
	G2ItemRealtime:  "a cycle with two or more read-write anti-dependencies, closed by real-time order (G2-item-realtime)",
}

// explainCycle says what each transaction of the cycle did and why each
// must precede the next.
func (a *analysis) explainCycle(typ string, cycle []Edge) string {
	var b strings.Builder
	for i, e := range cycle {
		if i > 0 {
			b.WriteString("; ")
		}
		t := a.txns[e.From]
		fmt.Fprintf(&b, "T%d = %s (process %d, %s)", t.ID, t, t.Process, t.Status)
	}
	b.WriteString(". ")
	for i, e := range cycle {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s, so T%d precedes T%d (%s)", capitalize(e.Describe(a.model)), e.From, e.To, e.Rel)
	}
	fmt.Fprintf(&b, ". So T%d precedes itself: %s.", cycle[0].From, cycleMeaning[typ])
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
