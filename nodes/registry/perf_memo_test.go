package registry

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// TestMemos: while clients publish and subscribe, members crash and
// restart and the metas fail over (both elections), every meta's
// remembered members are those of its procs and roles now, a remembered
// settled arrangement of its table now is one that computeTable still
// finds unchanged, and every session's slot index of its publishers is
// that of its publishers now.
func TestMemos(t *testing.T) {
	for _, election := range []string{ElectionDB, ElectionRaft} {
		run := func() (fp uint64, settled, indexed int) {
			w := sim.NewWorld(sim.Config{Seed: 7})
			cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2", "data-3"},
				Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16, Election: election}
			cfg.defaults()
			AddServers(w, cfg)
			for i := range 6 {
				h := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) {
					c.Subscribe(fmt.Sprintf("svc-%d", i), fmt.Sprintf("s%d", i))
					c.Publish(fmt.Sprintf("svc-%d", (i+1)%6), fmt.Sprintf("p%d", i), "a")
				}}
				w.AddNode(sim.NodeID(fmt.Sprintf("client-%d", i)), func() sim.Node { return h })
			}
			faults := []sim.Fault{
				{At: sim.Duration(4 * time.Second), Op: sim.Crash{Nodes: []sim.NodeID{"data-2"}}},
				{At: sim.Duration(9 * time.Second), Op: sim.Restart{Nodes: []sim.NodeID{"data-2", "session-1"}}},
				{At: sim.Duration(12 * time.Second), Op: sim.Crash{Nodes: []sim.NodeID{"meta-1", "meta-2"}}},
				{At: sim.Duration(16 * time.Second), Op: sim.Restart{Nodes: []sim.NodeID{"meta-1", "meta-2"}}},
			}
			require.NoError(t, w.Schedule(faults))
			var check func()
			check = func() {
				for _, id := range cfg.Metas {
					if m, ok := w.Node(id).(*MetaServer); ok && w.Up(id) && m.procs != nil && checkMetaMemos(t, m, cfg.Slots) {
						settled++
					}
				}
				for _, id := range cfg.Sessions {
					if s, ok := w.Node(id).(*SessionServer); ok && w.Up(id) && s.cache != nil {
						for slot := range cfg.Slots {
							var regs []string
							for _, reg := range sortedKeys(s.pubs) {
								if s.m.slotOf(s.pubs[reg].DataID) == slot {
									regs = append(regs, reg)
								}
							}
							require.Equal(t, regs, slices.Clone(s.slotRegs(slot)), "%s slot %d at %v", id, slot, w.Now())
							indexed += len(regs)
							require.Equal(t, pubsDigest(s.slotPubs(slot)), s.slotDigest(slot))
						}
					}
				}
				w.After(50*time.Millisecond, check)
			}
			w.At(50*time.Millisecond, check)
			w.Run(sim.Limits{Until: 40 * time.Second})
			return w.Fingerprint(), settled, indexed
		}
		fp, settled, indexed := run()
		again, _, _ := run()
		require.Equal(t, fp, again, election)
		require.Positive(t, settled, election)
		require.Positive(t, indexed, election)
	}
}

// checkMetaMemos checks a meta's memos against its state now; it reports
// whether a settled arrangement was remembered for it.
func checkMetaMemos(t *testing.T, m *MetaServer, slots int) bool {
	var data, sessions []Proc
	for _, id := range sortedKeys(m.procs) {
		if m.roles[id] == "data" {
			data = append(data, m.procs[id])
		} else {
			sessions = append(sessions, m.procs[id])
		}
	}
	gotData, gotSessions := m.members()
	require.Equal(t, data, gotData, "%s at %v", m.env.ID(), m.env.Now())
	require.Equal(t, sessions, gotSessions, "%s at %v", m.env.ID(), m.env.Now())
	cur := m.table()
	if m.protected(data) {
		data = cur.Data
	}
	stable := m.stable(cur, data)
	if !m.settled(cur, data, sessions, stable) {
		return false
	}
	next := computeTable(cur, data, sessions, slots, stable)
	require.True(t, tablesEqual(cur, &next), "%s at %v: a settled table changes", m.env.ID(), m.env.Now())
	return true
}

// regSet holds, sorted, the registerIds added and not removed since.
func TestRegSet(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var set regSet
		model := map[string]bool{}
		for range rapid.IntRange(0, 40).Draw(rt, "ops") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 9).Draw(rt, "reg"))
			if rapid.Bool().Draw(rt, "add") {
				set.add(reg)
				model[reg] = true
			} else {
				set.remove(reg)
				delete(model, reg)
			}
			want := sortedKeys(model)
			if len(want) == 0 {
				want = nil
			}
			got := []string(set)
			if len(got) == 0 {
				got = nil
			}
			require.Equal(rt, want, got)
		}
	})
}
