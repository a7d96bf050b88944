package sim_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// findingKey is a finding without its stack (goroutine ids and addresses
// are the process's, not the run's).
func findingKeys(fs []sim.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out
}

// The same seed and plan give the same run: fingerprint, full trace, what
// every node saw, findings and applied faults, whatever the topology and
// the plan (every fault kind).
func TestSameSeedAndPlanSameRun(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := genChaos(4, 12).Draw(rt, "chaos")
		var trace1, trace2 bytes.Buffer
		w1, tp1, err := c.run(&trace1)
		require.NoError(rt, err)
		w2, tp2, err := c.run(&trace2)
		require.NoError(rt, err)
		w3, _, err := c.run(nil)
		require.NoError(rt, err)

		require.Equal(rt, w1.Fingerprint(), w2.Fingerprint())
		require.Equal(rt, w1.Fingerprint(), w3.Fingerprint(), "the fingerprint does not depend on writing a trace")
		require.Equal(rt, w1.Events(), w2.Events())
		require.Equal(rt, trace1.String(), trace2.String())
		require.Equal(rt, tp1.entries, tp2.entries)
		require.Equal(rt, findingKeys(w1.Findings()), findingKeys(w2.Findings()))
		require.Equal(rt, w1.Faults(), w2.Faults())
		for _, id := range c.Nodes {
			require.Equal(rt, w1.Stats(id), w2.Stats(id))
			require.Equal(rt, w1.Disk(id).List(""), w2.Disk(id).List(""))
			a, _ := w1.Disk(id).ReadFile("log")
			b, _ := w2.Disk(id).ReadFile("log")
			require.Equal(rt, a, b)
		}

		// The trace is JSON lines of TraceRecord, in time order, and it
		// records the faults applied.
		sc := bufio.NewScanner(&trace1)
		sc.Buffer(nil, 1<<20)
		var last int64
		faults := 0
		for sc.Scan() {
			var r sim.TraceRecord
			dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			dec.DisallowUnknownFields()
			require.NoError(rt, dec.Decode(&r), "%s", sc.Bytes())
			require.GreaterOrEqual(rt, r.T, last)
			last = r.T
			if r.Kind == "fault" {
				faults++
			}
		}
		require.NoError(rt, sc.Err())
		injected := 0
		for _, f := range w1.Faults() {
			if !strings.HasPrefix(f.Note, "exit: ") && !strings.HasPrefix(f.Note, "panic: ") {
				injected++ // deaths by panic or Exit are listed too, without a fault line
			}
		}
		require.Equal(rt, injected, faults)
	})
}

// burst is a workload with concurrency: four clients each send the server
// 20 messages at the same instant over their own connection, and the server
// records the order of arrival.
func burst(seed uint64) (*sim.World, []string, []entry) {
	w, tp := newWorld(sim.Config{Seed: seed, Network: quietNet()})
	addProbe(w, tp, "server", &hooks{})
	for i := 0; i < 4; i++ {
		addProbe(w, tp, sim.NodeID(fmt.Sprintf("client%d", i)), &hooks{
			start: func(p *probe) { p.dial("server"); p.env.SetTimer(ms(10), nil) },
			timer: func(p *probe, _ sim.TimerID, _ any) {
				for j := 0; j < 20; j++ {
					p.send(p.conns["server"])
				}
			},
		})
	}
	w.Run(sim.Limits{Until: time.Second})
	msgs := tp.filter(entry{Node: "server", Kind: "message"})
	var order []string
	for _, e := range msgs {
		order = append(order, fmt.Sprintf("%s/%d", e.Peer, e.Msg))
	}
	return w, order, msgs
}

// Different seeds give different interleavings: different fingerprints and
// different orders of arrival across connections (each connection stays
// FIFO).
func TestDifferentSeedsDifferentInterleavings(t *testing.T) {
	fps := map[uint64]uint64{}
	orders := map[string]uint64{}
	for seed := uint64(1); seed <= 20; seed++ {
		w, order, msgs := burst(seed)
		require.Len(t, order, 80)
		if prev, dup := fps[w.Fingerprint()]; dup {
			t.Errorf("seeds %d and %d have the same fingerprint", prev, seed)
		}
		fps[w.Fingerprint()] = seed
		key := fmt.Sprint(order)
		if prev, dup := orders[key]; dup {
			t.Errorf("seeds %d and %d delivered in the same order", prev, seed)
		}
		orders[key] = seed
		next := map[sim.NodeID]int{}
		for _, e := range msgs {
			require.Equal(t, next[e.Peer], e.Msg, "FIFO per connection: %s", e)
			next[e.Peer]++
		}
	}
	w, order, _ := burst(1)
	again, order2, _ := burst(1)
	assert.Equal(t, w.Fingerprint(), again.Fingerprint())
	assert.Equal(t, order, order2)
}

type digestMsg struct{ v uint64 }

func (m digestMsg) Digest() uint64 { return m.v }

type plainMsg struct{ v uint64 }

// Message contents count in the fingerprint when the message is a
// Digester; arrivals always do.
func TestFingerprintCoversDigesters(t *testing.T) {
	run := func(msg any) uint64 {
		w, tp := newWorld(sim.Config{Seed: 1})
		addProbe(w, tp, "a", &hooks{start: func(p *probe) {
			p.env.Send(p.dial("b"), msg)
			p.env.SendDatagram("b", msg)
		}})
		addProbe(w, tp, "b", &hooks{})
		w.Run(sim.Limits{})
		require.Len(t, tp.filter(entry{Kind: "message"}), 1)
		return w.Fingerprint()
	}
	assert.NotEqual(t, run(digestMsg{1}), run(digestMsg{2}))
	assert.Equal(t, run(digestMsg{1}), run(digestMsg{1}))
	assert.Equal(t, run(plainMsg{1}), run(plainMsg{2}), "plain messages count by arrival only")
}

// A plan replayed from its JSON gives the same run.
func TestPlanReplaysFromJSON(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := genChaos(3, 8).Draw(rt, "chaos")
		w1, _, err := c.run(nil)
		require.NoError(rt, err)
		data, err := json.Marshal(c.Plan)
		require.NoError(rt, err)
		c.Plan, err = sim.ParseFaults(data)
		require.NoError(rt, err)
		w2, _, err := c.run(nil)
		require.NoError(rt, err)
		require.Equal(rt, w1.Fingerprint(), w2.Fingerprint())
	})
}
