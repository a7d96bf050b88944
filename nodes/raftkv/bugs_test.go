package raftkv

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// Each planted bug must change behaviour when armed, under the faults that
// find it, and the same run without it must pass. The seed-sweep detection
// tests live with the scenarios; these show the bugs are reachable.

func TestBugsListed(t *testing.T) {
	names := map[string]bool{}
	for _, b := range Bugs {
		require.True(t, strings.HasPrefix(b.Name, "bug/raftkv/"), b.Name)
		require.NotEmpty(t, b.Description)
		names[b.Name] = true
	}
	for _, n := range []string{BugStaleRead, BugAckBeforeSync, BugDedupLostOnRestart, BugDoubleApplyAfterSnapshot} {
		require.True(t, names[n], n)
	}
}

// withAndWithout runs the scenario with the bug armed and without it, twice
// each (fingerprints must match), and returns both first runs.
func withAndWithout(t *testing.T, seed uint64, bug string, run func(seed uint64, bugs []string) *cluster) (armed, clean *cluster) {
	t.Helper()
	armed = twice(t, seed, func(seed uint64) *cluster { return run(seed, []string{bug}) })
	clean = twice(t, seed, func(seed uint64) *cluster { return run(seed, nil) })
	require.Positive(t, armed.w.FailpointFired(bug), "the bug fired")
	t.Logf("armed: ok=%d unknown=%d failed=%d; clean: ok=%d unknown=%d failed=%d",
		armed.okOps, armed.unknown, armed.failed, clean.okOps, clean.unknown, clean.failed)
	clean.noFindings(t)
	require.Equal(t, porcupine.Ok, clean.linearizable(t), "clean run must be linearizable")
	return armed, clean
}

// Stale reads: one server is cut off from the other servers while a reader
// that knows only that server keeps reading and the others keep writing.
// Armed, the isolated server answers from its frozen state; without the
// bug it cannot confirm a read index and the reads fail instead.
func TestBugStaleRead(t *testing.T) {
	armed, _ := withAndWithout(t, 11, BugStaleRead, func(seed uint64, bugs []string) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 4, bugs: bugs,
			servers: func(i int, all []sim.NodeID) []sim.NodeID {
				if i == 0 {
					return all[:1] // the reader knows only s1
				}
				return all
			},
			mixFor: func(i int) func(*rand.Rand) OpKind {
				if i == 0 {
					return func(*rand.Rand) OpKind { return OpGet }
				}
				return nil
			}})
		c.at(1*time.Second, func() {
			c.inject(t, sim.Partition{Cuts: sim.Split(c.servers[:1], c.servers[1:])})
		})
		c.stopAt = 4 * time.Second
		c.run(5 * time.Second)
		return c
	})
	require.Equal(t, porcupine.Illegal, armed.linearizable(t), "stale reads observed")
}

// Ack before sync: a full-cluster crash right after a burst of
// acknowledged writes. Armed, nothing since the last snapshot was synced:
// acknowledged writes are lost.
func TestBugAckBeforeSync(t *testing.T) {
	armed, clean := withAndWithout(t, 12, BugAckBeforeSync, func(seed uint64, bugs []string) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 4, bugs: bugs, cfg: func(cfg *ServerConfig) {
			cfg.SnapshotEvery = 100_000
		}})
		c.at(2*time.Second, func() { c.inject(t, sim.Crash{Nodes: c.servers}) })
		c.at(2500*time.Millisecond, func() { c.inject(t, sim.Restart{Nodes: c.servers}) })
		c.stopAt = 4 * time.Second
		c.run(5 * time.Second)
		return c
	})
	require.Equal(t, porcupine.Illegal, armed.linearizable(t), "acknowledged writes lost")
	// Directly: the clean cluster kept its log across the crash, the
	// armed one started over.
	require.Greater(t, clean.server("s1").Status().Applied, armed.server("s1").Status().Applied)
}

func appendMix(r *rand.Rand) OpKind {
	if r.IntN(3) == 0 {
		return OpGet
	}
	return OpAppend
}

// duplicated reports whether some server holds a value in which one
// append suffix (unique per write) occurs twice: a write applied twice.
func duplicated(c *cluster) bool {
	for _, id := range c.servers {
		s := c.server(id)
		if s == nil {
			continue
		}
		kv := s.StateMachine().(*KV)
		for k := range kv.data { //detlint:allow any duplicate will do
			seen := map[string]bool{}
			for _, part := range strings.Split(kv.data[k], ";") {
				if part != "" && seen[part] {
					return true
				}
				seen[part] = true
			}
		}
	}
	return false
}

// Dedup lost on restart: clients append with short think times and the
// whole cluster crashes and restarts several times, so that writes applied
// just before a crash are retried after it. Armed, the retried appends are
// applied a second time (and duplicates already in the log are replayed
// twice at recovery).
func TestBugDedupLostOnRestart(t *testing.T) {
	armed, clean := withAndWithout(t, 13, BugDedupLostOnRestart, func(seed uint64, bugs []string) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 6, keys: 2, think: 2 * time.Millisecond, bugs: bugs, opMix: appendMix})
		for i := 1; i <= 4; i++ {
			at := time.Duration(i) * time.Second
			c.at(at, func() { c.inject(t, sim.Crash{Nodes: c.servers}) })
			c.at(at+200*time.Millisecond, func() { c.inject(t, sim.Restart{Nodes: c.servers}) })
		}
		c.stopAt = 5500 * time.Millisecond
		c.run(6 * time.Second)
		return c
	})
	require.False(t, duplicated(clean))
	require.True(t, duplicated(armed), "a retried write was applied twice")
	require.Equal(t, porcupine.Illegal, armed.linearizable(t))
}

// Double apply after snapshot: frequent snapshots with a catch-up margin,
// then a restart of every server. Armed, each server re-applies its
// margin on top of its snapshot.
func TestBugDoubleApplyAfterSnapshot(t *testing.T) {
	armed, clean := withAndWithout(t, 14, BugDoubleApplyAfterSnapshot, func(seed uint64, bugs []string) *cluster {
		c := newCluster(seed, clusterOpts{members: 3, clients: 4, keys: 2, bugs: bugs, opMix: appendMix, cfg: func(cfg *ServerConfig) {
			cfg.SnapshotEvery, cfg.CatchUpEntries = 40, 20
		}})
		c.at(2*time.Second, func() { c.inject(t, sim.Restart{Nodes: c.servers}) })
		c.stopAt = 3500 * time.Millisecond
		c.run(4 * time.Second)
		return c
	})
	require.False(t, duplicated(clean))
	clean.converged(t)
	require.True(t, duplicated(armed), "entries applied twice")
	require.Equal(t, porcupine.Illegal, armed.linearizable(t))
}
