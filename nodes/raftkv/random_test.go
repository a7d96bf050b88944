package raftkv

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// A random fault plan: timed actions on the cluster, then a heal at
// healAt after which the cluster must serve again.
type plan struct {
	members, clients int
	snapEvery        uint64
	actions          []action
}

type action struct {
	at   time.Duration
	kind string // crash, restart, crash-leader, isolate-leader, partition, heal, clog, pause, resume, transfer, disk-slow
	node int
	torn bool
}

func (a action) String() string {
	return fmt.Sprintf("%s@%v(n%d,torn=%v)", a.kind, a.at, a.node, a.torn)
}

const healAt = 6 * time.Second

var debugPlans = os.Getenv("RAFTKV_DEBUG") != ""

var actionKinds = []string{"crash", "restart", "crash-leader", "isolate-leader", "partition", "heal", "clog", "pause", "resume", "transfer", "disk-slow", "disk-fail", "clock-skew", "add-spare", "remove-member"}

func planGen() *rapid.Generator[plan] {
	return rapid.Custom(func(t *rapid.T) plan {
		p := plan{
			members:   rapid.SampledFrom([]int{3, 5}).Draw(t, "members"),
			clients:   rapid.IntRange(2, 5).Draw(t, "clients"),
			snapEvery: rapid.SampledFrom([]uint64{25, 200}).Draw(t, "snapEvery"),
		}
		n := rapid.IntRange(1, 8).Draw(t, "actions")
		for i := 0; i < n; i++ {
			p.actions = append(p.actions, action{
				at:   time.Duration(rapid.IntRange(5, 55).Draw(t, "at")) * 100 * time.Millisecond,
				kind: rapid.SampledFrom(actionKinds).Draw(t, "kind"),
				node: rapid.IntRange(0, p.members-1).Draw(t, "node"),
				torn: rapid.Bool().Draw(t, "torn"),
			})
		}
		return p
	})
}

func runPlan(t *testing.T, seed uint64, p plan) *cluster {
	c := newCluster(seed, clusterOpts{members: p.members, spares: 2, clients: p.clients, cfg: func(cfg *ServerConfig) {
		cfg.SnapshotEvery, cfg.CatchUpEntries = p.snapEvery, 10
	}})
	for _, a := range p.actions {
		a := a
		c.at(a.at, func() {
			id := c.servers[a.node]
			switch a.kind {
			case "crash":
				c.inject(t, sim.Crash{Nodes: []sim.NodeID{id}, Torn: a.torn})
			case "restart":
				c.inject(t, sim.Restart{Nodes: []sim.NodeID{id}, Torn: a.torn})
			case "crash-leader":
				if l := c.leader(); l != "" {
					c.inject(t, sim.Crash{Nodes: []sim.NodeID{l}, Torn: a.torn})
				}
			case "isolate-leader":
				if l := c.leader(); l != "" {
					c.inject(t, sim.Partition{Cuts: sim.Isolate(l, c.w.NodeIDs())})
				}
			case "partition":
				c.inject(t, sim.Partition{Cuts: sim.MajorityMinority(c.servers, c.w.Stream("nemesis"))})
			case "heal":
				c.inject(t, sim.Heal{})
			case "clog":
				c.inject(t, sim.Clog{Cuts: sim.Isolate(id, c.servers), For: sim.Duration(500 * time.Millisecond)})
			case "pause":
				c.inject(t, sim.Pause{Nodes: []sim.NodeID{id}})
			case "resume":
				c.inject(t, sim.Resume{Nodes: []sim.NodeID{id}})
			case "transfer":
				if l := c.leader(); l != "" && l != id {
					_ = c.server(l).TransferLeader(id)
				}
			case "add-spare":
				if l := c.leader(); l != "" {
					_ = c.server(l).AddMember(c.servers[p.members+a.node%2])
				}
			case "remove-member":
				if l := c.leader(); l != "" {
					_ = c.server(l).RemoveMember(id)
				}
			case "disk-fail":
				c.inject(t, sim.DiskFail{Nodes: []sim.NodeID{id}, Count: 1})
			case "clock-skew":
				c.inject(t, sim.ClockSkew{Nodes: []sim.NodeID{id}, DriftPPM: 200_000})
			case "disk-slow":
				c.inject(t, sim.DiskSlow{Nodes: []sim.NodeID{id}, Delay: sim.Duration(20 * time.Millisecond), For: sim.Duration(time.Second)})
			}
		})
	}
	okBeforeHeal := 0
	c.at(healAt, func() {
		c.inject(t, sim.Heal{})
		c.inject(t, sim.Resume{Nodes: c.servers})
		for _, id := range c.servers {
			if !c.w.Up(id) {
				c.inject(t, sim.Restart{Nodes: []sim.NodeID{id}})
			}
		}
		okBeforeHeal = c.okOps
	})
	// A disk-fail fault armed on an idle node fires at its next sync,
	// possibly after the heal: restart such nodes once more.
	c.at(healAt+500*time.Millisecond, func() {
		for _, id := range c.servers {
			if !c.w.Up(id) {
				c.inject(t, sim.Restart{Nodes: []sim.NodeID{id}})
			}
		}
	})
	c.stopAt = healAt + 3*time.Second
	c.run(healAt + 5*time.Second)
	if debugPlans {
		for _, id := range c.servers {
			if s := c.server(id); s != nil {
				t.Logf("%s %+v", id, s.Status())
			} else {
				t.Logf("%s down", id)
			}
		}
		for _, f := range c.w.Faults() {
			t.Logf("fault %v %v %s", f.At, f.Fault, f.Note)
		}
	}
	require.Greater(t, c.okOps, okBeforeHeal+20, "no progress after the heal (liveness)")
	return c
}

// TestRandomFaultPlans sweeps random fault plans (drawn by a rapid
// generator from fixed seeds, so CI is reproducible) and requires
// linearizability, convergence and recovery after the heal.
func TestRandomFaultPlans(t *testing.T) {
	n := 24
	if testing.Short() {
		n = 6
	}
	if v, err := strconv.Atoi(os.Getenv("RAFTKV_PLANS")); err == nil {
		n = v // a longer sweep: RAFTKV_PLANS=1000 go test -run RandomFaultPlans
	}
	gen := planGen()
	for seed := 1; seed <= n; seed++ {
		p := gen.Example(seed)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			c := runPlan(t, uint64(seed), p)
			if c.w.Fingerprint() != runPlan(t, uint64(seed), p).w.Fingerprint() {
				t.Fatalf("nondeterministic: plan %+v", p)
			}
			c.noFindings(t)
			res := c.linearizable(t)
			require.Equal(t, porcupine.Ok, res, "plan %+v", p)
			c.converged(t)
		})
	}
}
