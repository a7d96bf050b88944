package raftkv

import (
	"fmt"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// Each test builds its world twice from the same seed and requires the
// same fingerprint, then checks the first run: no panics, a linearizable
// history, progress, and members that converge to the same state.

func checkRun(t *testing.T, c *cluster, minOK int) {
	t.Helper()
	c.noFindings(t)
	t.Logf("ok=%d unknown=%d failed-reads=%d events=%d", c.okOps, c.unknown, c.failed, c.w.Events())
	require.GreaterOrEqual(t, c.okOps, minOK, "too little progress")
	require.Equal(t, porcupine.Ok, c.linearizable(t), "history not linearizable")
	c.converged(t)
}

func TestElectAndServe(t *testing.T) {
	for _, members := range []int{3, 5} {
		t.Run(fmt.Sprintf("members=%d", members), func(t *testing.T) {
			c := twice(t, 1, func(seed uint64) *cluster {
				c := newCluster(seed, clusterOpts{members: members, clients: 4})
				c.stopAt = 5 * time.Second
				c.run(6 * time.Second)
				return c
			})
			checkRun(t, c, 500)
			require.Zero(t, c.unknown)
			st := c.server(c.leader()).Status()
			require.Len(t, st.Members, members)
		})
	}
}

func TestLeaderCrashRestart(t *testing.T) {
	for _, members := range []int{3, 5} {
		t.Run(fmt.Sprintf("members=%d", members), func(t *testing.T) {
			var crashed sim.NodeID
			c := twice(t, 2, func(seed uint64) *cluster {
				c := newCluster(seed, clusterOpts{members: members, clients: 4})
				c.at(2*time.Second, func() {
					crashed = c.leader()
					c.inject(t, sim.Crash{Nodes: []sim.NodeID{crashed}, Torn: true})
				})
				c.at(4*time.Second, func() {
					c.inject(t, sim.Restart{Nodes: []sim.NodeID{crashed}})
				})
				c.stopAt = 7 * time.Second
				c.run(9 * time.Second)
				return c
			})
			require.NotEmpty(t, crashed)
			checkRun(t, c, 300)
			require.NotEqual(t, crashed, c.leader(), "a new leader took over")
		})
	}
}

func TestFullClusterCrashRestart(t *testing.T) {
	c := twice(t, 3, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 4, torn: true})
		for _, at := range []time.Duration{2 * time.Second, 4 * time.Second} {
			c.at(at, func() {
				c.inject(t, sim.Crash{Nodes: c.servers, Torn: true})
			})
			c.at(at+500*time.Millisecond, func() {
				c.inject(t, sim.Restart{Nodes: c.servers})
			})
		}
		c.stopAt = 7 * time.Second
		c.run(9 * time.Second)
		return c
	})
	// Acknowledged writes survive (linearizability would catch a lost one).
	checkRun(t, c, 300)
}

func TestPartitionedLeaderNoStaleReads(t *testing.T) {
	var old sim.NodeID
	c := twice(t, 4, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 5, clients: 5})
		c.at(2*time.Second, func() {
			old = c.leader()
			// Cut the leader off from the other servers; clients still
			// reach everyone, so some keep talking to the old leader.
			var others []sim.NodeID
			for _, id := range c.servers {
				if id != old {
					others = append(others, id)
				}
			}
			c.inject(t, sim.Partition{Cuts: sim.Split([]sim.NodeID{old}, others)})
		})
		c.at(5*time.Second, func() { c.inject(t, sim.Heal{}) })
		c.stopAt = 7 * time.Second
		c.run(8 * time.Second)
		return c
	})
	require.NotEmpty(t, old)
	checkRun(t, c, 300)
}

func TestSnapshotCompactionRestart(t *testing.T) {
	var snapIdx uint64
	c := twice(t, 5, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 4, cfg: func(cfg *ServerConfig) {
			cfg.SnapshotEvery, cfg.CatchUpEntries = 40, 10
		}})
		c.at(3*time.Second, func() {
			st := c.server(c.servers[0]).Status()
			snapIdx = st.SnapshotIndex
			require.Greater(t, st.FirstIndex, uint64(2), "log compacted")
			require.LessOrEqual(t, st.LastIndex-st.FirstIndex, uint64(40+10+20))
			c.inject(t, sim.Crash{Nodes: c.servers, Torn: true})
		})
		c.at(3500*time.Millisecond, func() {
			c.inject(t, sim.Restart{Nodes: c.servers})
			for _, id := range c.servers {
				st := c.server(id).Status()
				require.Greater(t, st.SnapshotIndex, uint64(1), "recovered from a snapshot")
				require.GreaterOrEqual(t, st.Applied, st.SnapshotIndex)
			}
		})
		c.stopAt = 6 * time.Second
		c.run(7 * time.Second)
		return c
	})
	require.Greater(t, snapIdx, uint64(100))
	checkRun(t, c, 300)
}

func TestLaggingFollowerCatchesUpBySnapshot(t *testing.T) {
	var lagger sim.NodeID
	var installed uint64
	c := twice(t, 6, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 4, cfg: func(cfg *ServerConfig) {
			cfg.SnapshotEvery, cfg.CatchUpEntries = 40, 10
		}})
		c.at(1*time.Second, func() {
			lagger = c.followers()[0]
			c.inject(t, sim.Crash{Nodes: []sim.NodeID{lagger}})
		})
		c.at(4*time.Second, func() {
			require.Greater(t, c.server(c.leader()).Status().FirstIndex, c.server(c.leader()).Status().SnapshotIndex-20)
			c.inject(t, sim.Restart{Nodes: []sim.NodeID{lagger}})
		})
		c.at(6*time.Second, func() { installed = c.server(lagger).Status().InstalledSnapshots })
		c.stopAt = 7 * time.Second
		c.run(8 * time.Second)
		return c
	})
	require.Positive(t, installed, "the lagging follower was sent a snapshot")
	checkRun(t, c, 300)
}

func TestLeaderTransfer(t *testing.T) {
	var from, to, after sim.NodeID
	c := twice(t, 7, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 5, clients: 4})
		c.at(2*time.Second, func() {
			from = c.leader()
			to = c.followers()[2]
			require.NoError(t, c.server(from).TransferLeader(to))
		})
		c.at(2500*time.Millisecond, func() { after = c.leader() })
		c.stopAt = 4 * time.Second
		c.run(5 * time.Second)
		return c
	})
	require.NotEqual(t, from, to)
	require.Equal(t, to, after)
	checkRun(t, c, 300)
}

// adminNode drives membership changes through the client library.
type adminNode struct {
	sim.BaseNode
	servers []sim.NodeID
	steps   []AdminOp
	at      time.Duration
	results []error
	cl      *Client
}

func (n *adminNode) Start(env *sim.Env) {
	n.cl = NewClient(env, ClientConfig{Servers: n.servers, OpTimeout: 5 * time.Second})
	env.SetTimer(n.at, opTag{})
}
func (n *adminNode) Message(c sim.ConnID, f sim.NodeID, m any) { n.cl.HandleMessage(c, f, m) }
func (n *adminNode) Closed(c sim.ConnID, p sim.NodeID)         { n.cl.HandleClosed(c, p) }
func (n *adminNode) Timer(id sim.TimerID, tag any) {
	if n.cl.HandleTimer(id, tag) || len(n.steps) == 0 {
		return
	}
	op := n.steps[0]
	n.steps = n.steps[1:]
	done := func(err error) { n.results = append(n.results, err); n.Timer(0, opTag{}) }
	switch op.Kind {
	case AdminAddMember:
		n.cl.AddMember(op.Target, done)
	case AdminRemoveMember:
		n.cl.RemoveMember(op.Target, done)
	case AdminTransferLeader:
		n.cl.TransferLeader(op.Target, done)
	}
}

func TestAddRemoveMember(t *testing.T) {
	var admin *adminNode
	c := twice(t, 8, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, spares: 2, clients: 4, cfg: func(cfg *ServerConfig) {
			cfg.SnapshotEvery, cfg.CatchUpEntries = 100, 20
		}})
		admin = &adminNode{servers: c.servers, at: 2 * time.Second, steps: []AdminOp{
			{Kind: AdminAddMember, Target: "s4"},
			{Kind: AdminAddMember, Target: "s5"},
			{Kind: AdminRemoveMember, Target: "s1"},
			{Kind: AdminRemoveMember, Target: "s2"},
			{Kind: AdminAddMember, Target: "nobody"},
		}}
		c.w.AddNode("admin", func() sim.Node { return admin })
		c.stopAt = 6 * time.Second
		c.run(7 * time.Second)
		return c
	})
	require.Len(t, admin.results, 5)
	for _, err := range admin.results[:4] {
		require.NoError(t, err)
	}
	var rej *RejectedError
	require.ErrorAs(t, admin.results[4], &rej)
	l := c.leader()
	require.NotEmpty(t, l)
	require.Equal(t, []sim.NodeID{"s3", "s4", "s5"}, c.server(l).Status().Members)
	for _, id := range []sim.NodeID{"s4", "s5"} {
		require.Equal(t, []sim.NodeID{"s3", "s4", "s5"}, c.server(id).Status().Members)
	}
	checkRun(t, c, 300)
}

// A failed sync is fatal: the server exits rather than acknowledge what may
// not be durable, and recovers on restart. A corrupt file at rest makes it
// refuse to start.
func TestDiskFaults(t *testing.T) {
	var failed, corrupt sim.NodeID
	var upAfterFail, upAfterCorrupt, upAfterRestart bool
	c := twice(t, 9, func(seed uint64) *cluster {
		c := newCluster(seed, clusterOpts{members: 5, clients: 3})
		c.at(1*time.Second, func() {
			failed = c.leader()
			c.inject(t, sim.DiskFail{Nodes: []sim.NodeID{failed}, Count: 1})
		})
		c.at(1100*time.Millisecond, func() { upAfterFail = c.w.Up(failed) })
		c.at(2*time.Second, func() {
			c.inject(t, sim.Restart{Nodes: []sim.NodeID{failed}})
			upAfterRestart = c.w.Up(failed)
			corrupt = c.followers()[0]
			c.inject(t, sim.Crash{Nodes: []sim.NodeID{corrupt}})
			c.inject(t, sim.DiskCorrupt{Nodes: []sim.NodeID{corrupt}, File: walFile})
			c.inject(t, sim.Restart{Nodes: []sim.NodeID{corrupt}})
			upAfterCorrupt = c.w.Up(corrupt)
		})
		c.stopAt = 4 * time.Second
		c.run(5 * time.Second)
		return c
	})
	require.False(t, upAfterFail, "the server exited on a failed sync")
	require.True(t, upAfterRestart, "and recovered on restart")
	require.False(t, upAfterCorrupt, "a corrupt WAL makes the server refuse to start")
	checkRun(t, c, 200)
}
