package raftkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// counter is a minimal plugged-in state machine: "add n" commands, a
// read of the total, and a log of the indexes it applied.
type counter struct {
	total   uint64
	applies uint64
}

func (c *counter) Apply(_ uint64, cmd []byte) []byte {
	c.total += binary.LittleEndian.Uint64(cmd)
	c.applies++
	return binary.LittleEndian.AppendUint64(nil, c.total)
}

func (c *counter) Query([]byte) []byte { return binary.LittleEndian.AppendUint64(nil, c.total) }

func (c *counter) Snapshot() []byte {
	return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, c.total), c.applies)
}

func (c *counter) Restore(b []byte) error {
	if len(b) != 16 {
		return errors.New("bad counter snapshot")
	}
	c.total, c.applies = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
	return nil
}

// sweeper embeds a Server, as a coordinator would: while it leads, it
// proposes its own commands (no client session) and reads linearizably.
type sweeper struct {
	*Server
	proposed, applied, reads int
	lastRead                 uint64
}

type sweepTag struct{}

func (n *sweeper) Start(env *sim.Env) {
	n.Server.Start(env)
	env.SetTimer(50*time.Millisecond, sweepTag{})
}

func (n *sweeper) Timer(id sim.TimerID, tag any) {
	if _, ok := tag.(sweepTag); !ok {
		n.Server.Timer(id, tag)
		return
	}
	n.env.SetTimer(50*time.Millisecond, sweepTag{})
	if !n.IsLeader() {
		return
	}
	n.proposed++
	n.Propose(binary.LittleEndian.AppendUint64(nil, 1_000_000), func(resp []byte, err error) {
		if err == nil {
			n.applied++
			n.Read(nil, func(resp []byte, err error) {
				if err == nil {
					n.reads++
					n.lastRead = binary.LittleEndian.Uint64(resp)
				}
			})
		}
	})
}

// adder is a client node adding 1 at a time through the generic client.
type adder struct {
	sim.BaseNode
	servers  []sim.NodeID
	cl       *Client
	ok, unk  int
	lastSeen uint64
}

func (n *adder) Start(env *sim.Env) {
	n.cl = NewClient(env, ClientConfig{Servers: n.servers})
	env.SetTimer(10*time.Millisecond, opTag{})
}
func (n *adder) Message(c sim.ConnID, f sim.NodeID, m any) { n.cl.HandleMessage(c, f, m) }
func (n *adder) Closed(c sim.ConnID, p sim.NodeID)         { n.cl.HandleClosed(c, p) }
func (n *adder) Timer(id sim.TimerID, tag any) {
	if n.cl.HandleTimer(id, tag) {
		return
	}
	n.cl.Write(binary.LittleEndian.AppendUint64(nil, 1), func(resp []byte, err error) {
		if err != nil {
			n.unk++
		} else {
			n.ok++
			n.lastSeen = binary.LittleEndian.Uint64(resp)
		}
		n.cl.env.SetTimer(5*time.Millisecond, opTag{})
	})
}

func TestPluggedStateMachine(t *testing.T) {
	type result struct {
		total, applies       uint64
		adds, unknown, swept int
		fp                   uint64
	}
	run := func(seed uint64) result {
		w := sim.NewWorld(sim.Config{Seed: seed})
		servers := []sim.NodeID{"s1", "s2", "s3"}
		sweepers := map[sim.NodeID][]*sweeper{}
		for _, id := range servers {
			id := id
			w.AddNode(id, func() sim.Node {
				n := &sweeper{Server: NewServer(ServerConfig{ID: id, Peers: servers, SnapshotEvery: 30, CatchUpEntries: 5,
					NewStateMachine: func() StateMachine { return &counter{} }})}
				sweepers[id] = append(sweepers[id], n)
				return n
			})
		}
		var adders []*adder
		for i := 0; i < 3; i++ {
			a := &adder{servers: servers}
			adders = append(adders, a)
			w.AddNode(sim.NodeID(fmt.Sprintf("a%d", i)), func() sim.Node { return a })
		}
		var leader sim.NodeID
		w.At(2*time.Second, func() {
			for _, id := range servers {
				if s, ok := w.Node(id).(*sweeper); ok && s.IsLeader() {
					leader = id
				}
			}
			require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{leader}, Torn: true}))
		})
		w.At(4*time.Second, func() {
			for _, a := range adders {
				if a.cl.Busy() {
					a.unk++ // in flight when the client died: outcome unknown
				}
				require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{sim.NodeID(fmt.Sprintf("a%d", indexOf(adders, a)))}}))
			}
		})
		w.Run(sim.Limits{Until: 6 * time.Second})
		require.Empty(t, w.Findings())
		var r result
		r.fp = w.Fingerprint()
		for _, a := range adders {
			r.adds += a.ok
			r.unknown += a.unk
		}
		swept, reads := 0, 0
		for _, id := range servers {
			for _, s := range sweepers[id] {
				swept += s.applied
				reads += s.reads
			}
		}
		require.Positive(t, reads)
		r.swept = swept
		for i, id := range servers {
			c := w.Node(id).(*sweeper).StateMachine().(*counter)
			if i == 0 {
				r.total, r.applies = c.total, c.applies
				continue
			}
			require.Equal(t, r.total, c.total, "replicas agree")
		}
		return r
	}
	a, b := run(21), run(21)
	require.Equal(t, a.fp, b.fp)
	t.Logf("%+v", a)
	require.Positive(t, a.adds)
	require.Positive(t, a.swept)
	// Every acknowledged add applied exactly once; unknown ones at most once.
	adds := a.total % 1_000_000
	sweeps := a.total / 1_000_000
	require.GreaterOrEqual(t, adds, uint64(a.adds))
	require.LessOrEqual(t, adds, uint64(a.adds+a.unknown))
	require.GreaterOrEqual(t, sweeps, uint64(a.swept))
}

func indexOf(as []*adder, a *adder) int {
	for i, x := range as {
		if x == a {
			return i
		}
	}
	return -1
}
