package registry

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

func TestSlotOf(t *testing.T) {
	require.Equal(t, SlotOf("svc-1", 256), SlotOf("svc-1", 256), "deterministic")
	seen := map[int]bool{}
	for i := 0; i < 2000; i++ {
		s := SlotOf(fmt.Sprintf("com.example.Service%d:1.0@DEFAULT", i), 256)
		require.True(t, s >= 0 && s < 256)
		seen[s] = true
	}
	require.Greater(t, len(seen), 240, "crc32c spreads dataInfoIds over the slots")
}

func procs(prefix string, n int, inc uint32) []Proc {
	out := make([]Proc, n)
	for i := range out {
		out[i] = Proc{ID: fmt.Sprintf("%s-%d", prefix, i+1), Inc: inc}
	}
	return out
}

// TestComputeTable: whatever the previous table and the live data
// servers, every slot gets a live leader and (with two or more data
// servers) a different live follower; live replicas of the previous table
// stay replicas; a dead leader's live follower takes over.
func TestComputeTable(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		slots := rapid.IntRange(1, 64).Draw(rt, "slots")
		all := procs("data", rapid.IntRange(1, 6).Draw(rt, "data"), 1)
		prevLive := rapid.SliceOfNDistinct(rapid.SampledFrom(all), 1, len(all), func(p Proc) string { return p.ID }).Draw(rt, "prev")
		sortProcs(prevLive)
		prev := arrange(&Table{}, prevLive, slots)
		live := rapid.SliceOfNDistinct(rapid.SampledFrom(all), 1, len(all), func(p Proc) string { return p.ID }).Draw(rt, "live")
		sortProcs(live)
		next := computeTable(&prev, live, nil, slots, false)
		isLive := map[Proc]bool{}
		for _, p := range live {
			isLive[p] = true
		}
		leads := map[Proc]int{}
		for i, s := range next.Slots {
			require.Truef(rt, isLive[s.Leader], "slot %d: leader %v is not live", i, s.Leader)
			leads[s.Leader]++
			if len(live) > 1 {
				require.Truef(rt, isLive[s.Follower], "slot %d: follower %v is not live", i, s.Follower)
				require.NotEqualf(rt, s.Leader, s.Follower, "slot %d", i)
			}
			old := prev.Slots[i]
			if isLive[old.Leader] {
				require.Truef(rt, s.Leader == old.Leader || s.Follower == old.Leader, "slot %d: live leader %v dropped", i, old.Leader)
			} else if isLive[old.Follower] {
				require.Truef(rt, s.Leader == old.Follower || s.Follower == old.Follower, "slot %d: live follower %v dropped", i, old.Follower)
			}
		}
		again := computeTable(&next, live, nil, slots, false)
		require.True(rt, tablesEqual(&next, &again), "an unsettled table changes only where replicas are missing")
		settled := arrange(&next, live, slots)
		require.True(rt, tablesEqual(&settled, ptr(computeTable(&settled, live, nil, slots, true))), "balancing ends")
	})
}

func ptr[T any](v T) *T { return &v }

// arrange applies computeTable as the meta leader does, each table
// settling before the next, until nothing changes.
func arrange(cur *Table, live []Proc, slots int) Table {
	t := computeTable(cur, live, nil, slots, true)
	for i := 0; i < 1000; i++ {
		next := computeTable(&t, live, nil, slots, true)
		if tablesEqual(&t, &next) {
			return t
		}
		t = next
	}
	panic("the balancer never settles")
}

func TestMetaStateMachine(t *testing.T) {
	sm := &metaSM{}
	cmd := func(epoch uint64) []byte {
		b, _ := json.Marshal(metaCmd{Op: "table", Table: &Table{Epoch: epoch, Data: procs("data", 1, 1)}})
		return b
	}
	require.Equal(t, "ok", string(sm.Apply(1, cmd(1))))
	require.Equal(t, "stale", string(sm.Apply(2, cmd(1))), "a second table of the same epoch is a failed compare-and-set")
	require.Equal(t, "stale", string(sm.Apply(3, cmd(3))), "epochs cannot be skipped")
	require.Equal(t, "ok", string(sm.Apply(4, cmd(2))))
	require.Equal(t, "ok", string(sm.Apply(5, []byte(`{"op":"noop"}`))))
	require.Equal(t, "bad", string(sm.Apply(6, []byte(`{`))))
	snap := sm.Snapshot()
	back := &metaSM{}
	require.NoError(t, back.Restore(snap))
	require.Equal(t, sm.table, back.table)
	var q Table
	require.NoError(t, json.Unmarshal(back.Query(nil), &q))
	require.Equal(t, uint64(2), q.Epoch)
	require.NoError(t, back.Restore(nil))
	require.Equal(t, Table{}, back.table)
}

func TestPubOrder(t *testing.T) {
	a := Pub{RegID: "r", Version: 1, Conn: 2}
	b := Pub{RegID: "r", Version: 2, Conn: 1}
	c := Pub{RegID: "r", Version: 2, Conn: 3}
	require.True(t, a.older(&b))
	require.True(t, b.older(&c), "same version through a newer connection wins")
	require.False(t, c.older(&b))
	require.False(t, c.older(&c))
}

func TestDatumAcceptsAndRemembersRemovals(t *testing.T) {
	x := &datum{id: "svc", pubs: map[string]pubRec{}, tombs: map[string]uint64{}, gone: map[string]pubRec{}}
	v1 := Pub{DataID: "svc", RegID: "r", Version: 1, Conn: 1}
	v2 := Pub{DataID: "svc", RegID: "r", Version: 2, Conn: 1}
	v2c2 := Pub{DataID: "svc", RegID: "r", Version: 2, Conn: 2}
	require.True(t, x.accepts(&v2))
	x.pubs["r"] = recOf(&v2, &v2.Session)
	require.False(t, x.accepts(&v1), "older version")
	require.True(t, x.holds(&v2))
	x.remove("r")
	require.Empty(t, x.pubs)
	require.False(t, x.accepts(&v1), "older than the registration removed with its session")
	require.True(t, x.accepts(&v2), "the same registration may come back (its session rejoined)")
	require.True(t, x.accepts(&v2c2), "re-registered through a newer connection")
	x.tombs["r"] = 3
	require.False(t, x.accepts(&v2c2), "unpublished at a later version")
}

func TestDatumDigest(t *testing.T) {
	d := &Datum{DataID: "svc", Version: 5, Pubs: []PubData{{RegID: "a", Data: "1", Version: 1}, {RegID: "b", Data: "2", Version: 1}}}
	e := &Datum{DataID: "svc", Version: 5, Pubs: []PubData{{RegID: "a", Data: "1", Version: 1}, {RegID: "b", Data: "2", Version: 1}}}
	require.Equal(t, d.Digest(), e.Digest())
	e.Pubs[1].Data = "3"
	require.NotEqual(t, d.Digest(), e.Digest())
	require.NotEqual(t, d.Digest(), (&Datum{DataID: "svc", Version: 5}).Digest())
}

// testHost hosts a Client in a node and records its pushes.
type testHost struct {
	sim.BaseNode
	cfg    ClientConfig
	client *Client
	pushes []*Datum
	to     []string // the subscriber of each push
	start  func(c *Client)
}

func (h *testHost) Start(env *sim.Env) {
	cfg := h.cfg
	cfg.OnPush = func(reg string, d *Datum) { h.pushes, h.to = append(h.pushes, d), append(h.to, reg) }
	h.client = NewClient(env, cfg)
	if h.start != nil {
		h.start(h.client)
	}
}
func (h *testHost) Message(c sim.ConnID, from sim.NodeID, m any) { h.client.HandleMessage(c, from, m) }
func (h *testHost) Connected(c sim.ConnID, p sim.NodeID)         { h.client.HandleConnected(c, p) }
func (h *testHost) Closed(c sim.ConnID, p sim.NodeID)            { h.client.HandleClosed(c, p) }
func (h *testHost) Timer(id sim.TimerID, tag any)                { h.client.HandleTimer(id, tag) }

// pushesTo are the pushes subscriber reg received.
func (h *testHost) pushesTo(reg string) []*Datum {
	var out []*Datum
	for i, d := range h.pushes {
		if h.to[i] == reg {
			out = append(out, d)
		}
	}
	return out
}

func (h *testHost) last() []string {
	if len(h.pushes) == 0 {
		return nil
	}
	var out []string
	for _, p := range h.pushes[len(h.pushes)-1].Pubs {
		out = append(out, p.RegID+"="+p.Data)
	}
	return out
}

func newTestWorld(t *testing.T, seed uint64) (*sim.World, Config) {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: seed})
	cfg := Config{
		Metas:    []sim.NodeID{"meta-1", "meta-2", "meta-3"},
		Data:     []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1", "session-2"},
		Slots:    16,
	}
	AddServers(w, cfg)
	cfg.defaults()
	return w, cfg
}

// TestPublishSubscribe: a subscriber receives a publisher, its update and
// its removal, with growing versions.
func TestPublishSubscribe(t *testing.T) {
	w, cfg := newTestWorld(t, 1)
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("sub", func() sim.Node { return sub })
	w.At(2*time.Second, func() { pub.client.Publish("svc", "p1", "a") })
	w.At(4*time.Second, func() { pub.client.Publish("svc", "p1", "b") })
	w.At(6*time.Second, func() { pub.client.Unpublish("p1") })
	w.Run(sim.Limits{Until: 3 * time.Second})
	require.Equal(t, []string{"p1=a"}, sub.last())
	w.Run(sim.Limits{Until: 5 * time.Second})
	require.Equal(t, []string{"p1=b"}, sub.last())
	w.Run(sim.Limits{Until: 7 * time.Second})
	require.Empty(t, sub.last())
	for i := 1; i < len(sub.pushes); i++ {
		require.Greater(t, sub.pushes[i].Version, sub.pushes[i-1].Version)
	}
	require.Empty(t, w.Findings())
}

// TestSessionCrashReRegisters: when the publisher's session server
// crashes, the client re-registers on the other one and the subscriber
// still sees the publisher once things settle; a crashed client's
// publisher goes away.
func TestSessionCrashReRegisters(t *testing.T) {
	w, cfg := newTestWorld(t, 2)
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p1", "a") }}
	gone := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p2", "x") }}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("gone", func() sim.Node { return gone })
	w.AddNode("sub", func() sim.Node { return sub })
	w.Run(sim.Limits{Until: 3 * time.Second})
	require.Equal(t, []string{"p1=a", "p2=x"}, sub.last())
	s := pub.client.Session()
	require.NotEmpty(t, s)
	require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{s}}))
	require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"gone"}}))
	w.Run(sim.Limits{Until: 30 * time.Second}) // past the crashed session's 20 s meta lease
	require.NotEqual(t, s, pub.client.Session(), "moved to the other session server")
	// The data servers keep the crashed session's publishers for its
	// data-side lease (SOFARegistry's 30s): the dead client's too.
	require.Equal(t, []string{"p1=a", "p2=x"}, sub.last())
	w.Run(sim.Limits{Until: 3*time.Second + cfg.SessionLease + 2*cfg.SessionLeaseCheck})
	require.Equal(t, []string{"p1=a"}, sub.last())
	require.Empty(t, w.Findings())
}

// TestDeterministic: the same seed gives the same fingerprint, under each
// election and push mode, through a session crash (the digest sync, the
// data-side lease and the orphan sweep at work) and an ops console's stop
// and resume of push.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64, tune func(*Config)) uint64 {
		w := sim.NewWorld(sim.Config{Seed: seed})
		cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
			Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16}
		tune(&cfg)
		if cfg.Election == ElectionDB {
			cfg.LockDB = "lockdb"
		}
		AddServers(w, cfg)
		cfg.defaults()
		for i := 0; i < 4; i++ {
			i := i
			h := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) {
				c.Subscribe("svc", fmt.Sprintf("s%d", i))
				c.Publish("svc", fmt.Sprintf("p%d", i), "v")
			}}
			w.AddNode(sim.NodeID(fmt.Sprintf("c%d", i)), func() sim.Node { return h })
		}
		ops := &opsHost{}
		w.AddNode("ops", func() sim.Node { return ops })
		w.At(3*time.Second, func() { ops.provide(cfg, ProvideStopPush, "on") })
		w.At(4*time.Second, func() { _ = w.Inject(sim.Crash{Nodes: []sim.NodeID{"session-1"}}) })
		w.At(6*time.Second, func() { ops.provide(cfg, ProvideStopPush) })
		w.At(9*time.Second, func() { _ = w.Inject(sim.Restart{Nodes: []sim.NodeID{"session-1"}}) })
		w.Run(sim.Limits{Until: 15 * time.Second})
		return w.Fingerprint()
	}
	for _, v := range []struct {
		name string
		tune func(*Config)
	}{
		{"raft", func(*Config) {}},
		{"db-election", func(c *Config) { c.Election, c.Lease = ElectionDB, RealMetaLease }},
		{"push-pipeline", func(c *Config) { c.Push.Mode = PushPipeline }},
		{"evict-with-table", func(c *Config) { c.EvictWithTable = true }},
	} {
		name, tune := v.name, v.tune
		t.Run(name, func(t *testing.T) {
			require.Equal(t, run(7, tune), run(7, tune))
			require.NotEqual(t, run(7, tune), run(8, tune))
		})
	}
}
