package registry

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// countingMeta counts the heartbeats a meta server receives.
type countingMeta struct {
	*MetaServer
	heartbeats *map[sim.NodeID]int
}

func (c countingMeta) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	if _, ok := msg.(*Heartbeat); ok {
		(*c.heartbeats)[c.env.ID()]++
	}
	c.MetaServer.Message(conn, from, msg)
}

// renewWorld: three metas (counting heartbeats), two data and two session
// servers, 16 slots.
func renewWorld(election string, all bool) (*sim.World, Config, *map[sim.NodeID]int) {
	w := sim.NewWorld(sim.Config{Seed: 7})
	cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16, Election: election, Lease: RealMetaLease, HeartbeatAll: all}
	cfg.defaults()
	counts := &map[sim.NodeID]int{}
	if cfg.Election == ElectionDB {
		w.AddNode(cfg.LockDB, func() sim.Node { return &LockDB{cfg: cfg} })
	}
	for _, id := range cfg.Metas {
		w.AddNode(id, func() sim.Node { return countingMeta{MetaServer: NewMeta(cfg, id), heartbeats: counts} })
	}
	for _, id := range cfg.Data {
		w.AddNode(id, func() sim.Node { return &DataServer{cfg: cfg} })
	}
	for _, id := range cfg.Sessions {
		w.AddNode(id, func() sim.Node { return &SessionServer{cfg: cfg} })
	}
	return w, cfg, counts
}

func renewOf(w *sim.World, id sim.NodeID) renewer {
	switch n := w.Node(id).(type) {
	case *DataServer:
		return n.m.renew
	case *SessionServer:
		return n.m.renew
	}
	panic("not a member")
}

func actingMeta(w *sim.World, cfg Config) sim.NodeID {
	for _, m := range cfg.Metas {
		if n, ok := w.Node(m).(countingMeta); ok && w.Up(m) && n.Status().MetaLeader {
			return m
		}
	}
	return ""
}

// TestRenewerHeartbeatsTheLeaderOnly: once settled, members heartbeat the
// meta leader once a second and no other meta; when the leader crashes
// they find the next one (by asking the metas) and
// it holds a lease for every one of them.
func TestRenewerHeartbeatsTheLeaderOnly(t *testing.T) {
	for _, c := range []struct {
		election string
		failover time.Duration // the lock's 20 s and the members' look-up, or a raft election and a 3 s heartbeat timeout
	}{{ElectionDB, 45 * time.Second}, {ElectionRaft, 10 * time.Second}} {
		t.Run(c.election, func(t *testing.T) {
			run := func() uint64 {
				w, cfg, counts := renewWorld(c.election, false)
				members := append(slices.Clone(cfg.Data), cfg.Sessions...)
				w.Run(sim.Limits{Until: 10 * time.Second})
				leader := actingMeta(w, cfg)
				require.NotEmpty(t, leader)
				for _, id := range members {
					r := renewOf(w, id)
					require.Equalf(t, leader, r.leader, "%s knows the leader", id)
				}
				*counts = map[sim.NodeID]int{}
				w.Run(sim.Limits{Until: 20 * time.Second})
				for _, m := range cfg.Metas {
					if m != leader {
						require.Zerof(t, (*counts)[m], "%s is not the leader and hears no heartbeat", m)
					}
				}
				require.InDelta(t, 10*len(members), (*counts)[leader], float64(len(members)), "one heartbeat a second from each member")

				require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{leader}}))
				w.Run(sim.Limits{Until: 20*time.Second + c.failover})
				next := actingMeta(w, cfg)
				require.NotEmpty(t, next)
				require.NotEqual(t, leader, next)
				meta := w.Node(next).(countingMeta)
				for _, id := range members {
					require.Equalf(t, next, renewOf(w, id).leader, "%s found the new leader", id)
					require.Containsf(t, meta.procs, string(id), "the new leader holds %s's lease", id)
				}
				return w.Fingerprint()
			}
			require.Equal(t, run(), run(), "same seed, same run")
		})
	}
}

// TestHeartbeatAllReachesEveryMeta: the old model (HeartbeatAll) sends
// every heartbeat to every meta server (here at the 1 s default).
func TestHeartbeatAllReachesEveryMeta(t *testing.T) {
	run := func() uint64 {
		w, cfg, counts := renewWorld(ElectionRaft, true)
		w.Run(sim.Limits{Until: 10 * time.Second})
		for _, m := range cfg.Metas {
			require.InDeltaf(t, 4*10, (*counts)[m], 4, "%s hears each member once a second", m)
		}
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}
