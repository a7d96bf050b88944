package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// consoleHost is an ops console that keeps the force-refresh answers.
type consoleHost struct {
	opsHost
	resps []*SlotForceRefreshResp
}

func (c *consoleHost) Message(_ sim.ConnID, _ sim.NodeID, msg any) {
	if r, ok := msg.(*SlotForceRefreshResp); ok {
		c.resps = append(c.resps, r)
	}
}

func (c *consoleHost) all(cfg Config, msg any) {
	for _, m := range cfg.Metas {
		c.send(m, msg)
	}
}

// reconcileWorld: three data servers (so a force refresh moves slots), a
// publisher and a subscriber settled by 4s.
func reconcileWorld(t *testing.T, election string) (*sim.World, Config, *consoleHost, *testHost) {
	w := sim.NewWorld(sim.Config{Seed: 5})
	cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2", "data-3"},
		Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16, Election: election}
	AddServers(w, cfg)
	cfg.defaults()
	ops := &consoleHost{}
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p1", "a") }}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
	w.AddNode("ops", func() sim.Node { return ops })
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("sub", func() sim.Node { return sub })
	w.Run(sim.Limits{Until: 4 * time.Second})
	require.Equal(t, []string{"p1=a"}, sub.last())
	return w, cfg, ops, sub
}

func actingTable(w *sim.World, cfg Config) Table {
	return w.Node(metaLeader(w, cfg)).(*MetaServer).Table()
}

func leads(t Table, id string) int {
	n := 0
	for _, s := range t.Slots {
		if s.Leader.ID == id {
			n++
		}
	}
	return n
}

// TestSlotReconcileStop: while slot reconcile is stopped the slots stay
// where they are, even with a data server dead, but a restarted session
// server still enters the table; once it starts again the dead server's
// slots move.
func TestSlotReconcileStop(t *testing.T) {
	run := func() uint64 {
		w, cfg, ops, _ := reconcileWorld(t, "")
		w.At(4*time.Second, func() { ops.all(cfg, &SlotReconcile{Stop: true}) })
		w.Run(sim.Limits{Until: 5 * time.Second})
		before := actingTable(w, cfg)
		require.NotZero(t, leads(before, "data-1"))
		require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"data-1"}}))
		require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{"session-2"}}))
		w.Run(sim.Limits{Until: 12 * time.Second})
		held := actingTable(w, cfg)
		require.Equal(t, before.Slots, held.Slots, "no slot moves while reconcile is stopped")
		require.Equal(t, before.Data, held.Data)
		require.Contains(t, held.Sessions, Proc{ID: "session-2", Inc: 2}, "session membership still follows the leases")
		w.At(12*time.Second, func() { ops.all(cfg, &SlotReconcile{}) })
		w.Run(sim.Limits{Until: 16 * time.Second})
		after := actingTable(w, cfg)
		require.Greater(t, after.Epoch, held.Epoch)
		require.Zero(t, leads(after, "data-1"), "the dead server's slots moved once reconcile started")
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}

// TestSlotReconcileStopIsMemoryOnly: the stop lives in the memory of the
// meta that got it: the leader that takes over arranges again.
func TestSlotReconcileStopIsMemoryOnly(t *testing.T) {
	run := func() uint64 {
		w, cfg, ops, _ := reconcileWorld(t, "")
		old := metaLeader(w, cfg)
		w.At(4*time.Second, func() { ops.send(old, &SlotReconcile{Stop: true}) })
		w.Run(sim.Limits{Until: 5 * time.Second})
		require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"data-1", old}}))
		w.Run(sim.Limits{Until: 20 * time.Second})
		require.NotEqual(t, old, metaLeader(w, cfg))
		require.Zero(t, leads(actingTable(w, cfg), "data-1"), "the new leader was never told to stop")
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}

// TestSlotForceRefresh: only the leader rebuilds the table, round robin
// over the live data servers and even while reconcile is stopped; every
// slot is served again and the subscriber keeps its data through it.
func TestSlotForceRefresh(t *testing.T) {
	for _, election := range []string{ElectionRaft, ElectionDB} {
		run := func() (Table, uint64, []*SlotForceRefreshResp) {
			w, cfg, ops, sub := reconcileWorld(t, election)
			if election == ElectionDB {
				w.Run(sim.Limits{Until: 8 * time.Second})
			}
			leader := metaLeader(w, cfg)
			require.NotEmpty(t, leader, election)
			var follower sim.NodeID
			for _, m := range cfg.Metas {
				if m != leader {
					follower = m
				}
			}
			now := w.Now()
			w.At(now, func() {
				ops.all(cfg, &SlotReconcile{Stop: true})
				ops.send(follower, &SlotForceRefresh{ReqID: 1})
				ops.send(leader, &SlotForceRefresh{ReqID: 2})
			})
			w.Run(sim.Limits{Until: now + 6*time.Second})
			require.Len(t, ops.resps, 2, election)
			require.False(t, ops.resps[0].OK)
			require.Equal(t, "not the meta-server leader", ops.resps[0].Reason)
			require.True(t, ops.resps[1].OK, election)
			tab := actingTable(w, cfg)
			require.Equal(t, ops.resps[1].Epoch, tab.Epoch)
			want := balanceTask(tab.Data, tab.Sessions, cfg.Slots)
			require.Equal(t, want.Slots, tab.Slots, "%s: BalanceTask's round robin", election)
			served := 0
			for _, d := range cfg.Data {
				st := w.Node(d).(*DataServer).Status()
				require.Equal(t, tab.Epoch, st.Epoch)
				served += len(st.Leading)
			}
			require.Equal(t, cfg.Slots, served, "%s: every slot served after the refresh", election)
			require.Equal(t, []string{"p1=a"}, sub.last())
			require.Empty(t, w.Findings())
			return tab, w.Fingerprint(), ops.resps
		}
		tab, fp, _ := run()
		require.Equal(t, 6, leads(tab, "data-1")) // slots 0,3,...,15
		_, again, _ := run()
		require.Equal(t, fp, again, election)
	}
}
