package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// freeze is a kind declared here, as a new kind would be declared in its
// own fault_*.go file: with nothing else touched, plans read and write it,
// validation, traces and the fingerprint see it, worlds apply it and
// timelines (so reports) draw it.
type freeze struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	For   Duration `json:"for"`
}

const faultFreeze FaultKind = "freeze"

func (freeze) Kind() FaultKind { return faultFreeze }

func (f freeze) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	fmt.Fprintf(b, " for %v", f.For)
}

func (f freeze) check(c checker) error {
	if f.For <= 0 {
		return errors.New("needs a positive for")
	}
	return c.nodes(f.Nodes, true)
}

func (f freeze) targets() []NodeID                        { return f.Nodes }
func (f freeze) aim(n NodeID, _ []NodeID) (FaultOp, bool) { f.Nodes = []NodeID{n}; return f, true }

func (f freeze) apply(w *World) string {
	nodes := w.slots(f.Nodes)
	for _, n := range nodes {
		w.pause(n)
	}
	w.push(event{at: w.now + int64(f.For), kind: evCall, p: func() {
		for _, n := range nodes {
			w.resume(n)
		}
	}})
	return ""
}

func (f freeze) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.startUntil(onNode(n), "frozen", at, at+time.Duration(f.For), "frozen", detail)
	}
}

type idleNode struct{ BaseNode }

func (idleNode) Start(*Env) {}

func TestANewKindNeedsOnlyItsOwnFile(t *testing.T) {
	defineFault[freeze]("pause the nodes for a while")
	t.Cleanup(func() { delete(faultKinds, faultFreeze) })
	assert.Contains(t, FaultKinds(), faultFreeze)
	assert.Equal(t, []string{"nodes", "for"}, faultFreeze.Fields())

	plan, err := ParseFaults([]byte(`[{"at": "10ms", "kind": "freeze", "nodes": ["a"], "for": "20ms"}]`))
	require.NoError(t, err)
	require.Equal(t, []Fault{{At: Duration(10 * time.Millisecond), Op: freeze{Nodes: []NodeID{"a"}, For: Duration(20 * time.Millisecond)}}}, plan)
	assert.Equal(t, "freeze @10ms [a] for 20ms", plan[0].String())
	_, err = ParseFaults([]byte(`[{"at": "10ms", "kind": "freeze", "nodes": ["a"]}]`))
	assert.ErrorContains(t, err, "fault freeze @10ms: needs a positive for")
	_, err = ParseFaults([]byte(`[{"at": "10ms", "kind": "freeze", "node": ["a"], "for": "1s"}]`))
	assert.ErrorContains(t, err, `unknown field "node" (freeze takes nodes, for)`)

	w := NewWorld(Config{Seed: 1})
	w.AddNode("a", func() Node { return idleNode{} })
	require.NoError(t, w.Schedule(plan))
	w.Run(Limits{Until: 15 * time.Millisecond})
	assert.True(t, w.Paused("a"))
	w.Run(Limits{Until: 40 * time.Millisecond})
	assert.False(t, w.Paused("a"))

	ps := Periods(w.Faults(), w.NodeIDs(), 40*time.Millisecond)
	require.Len(t, ps, 1)
	assert.Equal(t, Period{Scope: Scope{Node: "a"}, Kind: "frozen", Start: 10 * time.Millisecond, End: 30 * time.Millisecond,
		Label: "frozen", Detail: "freeze @10ms [a] for 20ms", seq: 1}, ps[0])
}
