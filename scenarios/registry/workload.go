package registry

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"pgregory.net/rapid"

	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Op is one registry workload operation: a client publishes (or updates)
// its publisher Name under Service, unpublishes it, or subscribes its
// subscriber Name to Service.
type Op struct {
	scenarios.OpTiming
	Kind    string `json:"kind"`
	Service string `json:"service"`
	Name    string `json:"name"`
}

// Registry workload operation kinds.
const (
	OpPublish   = "publish"
	OpUnpublish = "unpublish"
	OpSubscribe = "subscribe"
)

// OpKinds lists the registry workload operation kinds.
var OpKinds = []string{OpPublish, OpUnpublish, OpSubscribe}

// Service is the dataInfoId of workload service i. The names spread over
// the data servers: the slot function (Math.abs(crc32c) & 255) put svc-0..5
// all in slots one data server led, so a failover of any other reached no
// datum.
func Service(i int) string { return fmt.Sprintf("svc.%d", i) }

// drawOps: every client subscribes to one service and publishes one
// publisher early (in some seeds a second one too, as an application that
// provides several services does); then random publishes (new or
// updated), unpublishes and subscribes in the first 70% of the run,
// leaving a quiet period.
func drawOps(t *rapid.T, clients, services, maxOps int, d time.Duration) []Op {
	var ops []Op
	svc := func() string { return Service(rapid.IntRange(0, services-1).Draw(t, "service")) }
	window := int64(d) * 7 / 10 / int64(time.Millisecond)
	mix := drawMix(t, window)
	for c := 0; c < clients; c++ {
		at := sim.Duration(time.Duration(rapid.Int64Range(500, 3000).Draw(t, "first-ms")) * time.Millisecond)
		ops = append(ops, Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpSubscribe, Service: svc(), Name: "s0"},
			Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpPublish, Service: svc(), Name: "p0"})
		if rapid.IntRange(0, 99).Draw(t, "second-publisher") < mix.multiPct {
			ops = append(ops, Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpPublish, Service: svc(), Name: "p1"})
		}
	}
	n := 0
	if maxOps > 0 {
		n = int(scenarios.Spread(t, 0, int64(maxOps), "ops"))
	}
	for i := 0; i < n; i++ {
		at := scenarios.Spread(t, 3000, max(3001, window), "at")
		if len(mix.bursts) > 0 {
			if b := rapid.IntRange(0, len(mix.bursts)).Draw(t, "burst"); b > 0 {
				at = min(max(3001, window), mix.bursts[b-1]+rapid.Int64Range(0, 500).Draw(t, "in-burst"))
			}
		}
		service := svc()
		if rapid.IntRange(0, 99).Draw(t, "hot") < mix.hotPct {
			service = Service(0)
		}
		op := Op{
			OpTiming: scenarios.OpTiming{
				Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
				At:     sim.Duration(time.Duration(at) * time.Millisecond),
			},
			Kind:    rapid.SampledFrom(mix.deck).Draw(t, "kind"),
			Service: service,
		}
		switch op.Kind {
		case OpSubscribe:
			op.Name = fmt.Sprintf("s%d", rapid.IntRange(1, 2).Draw(t, "sub"))
		default:
			op.Name = fmt.Sprintf("p%d", rapid.IntRange(0, 2).Draw(t, "pub"))
		}
		ops = append(ops, op)
		if op.Kind == OpPublish && rapid.IntRange(0, 99).Draw(t, "follow") < mix.followPct {
			ops = append(ops, subscribeNear(t, clients, op.At, -400, 400, op.Service))
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	return ops
}

// mix is one seed's workload mix (swarm testing for the workload): the
// weight of each kind, a share of operations on one hot service, and
// bursts of changes. One seed mostly re-publishes on a hot service (many
// publishers per connection, many versions per datum), another churns
// unpublishes, another subscribes late.
type mix struct {
	hotPct   int
	multiPct int // share of clients that publish a second publisher at start
	// followPct: share of changes with a new subscriber of their
	// dataInfoId right around them (a consumer starting while a provider
	// deploys): under the push pipeline its first push is the one push
	// not merged away, so only it shows what the session holds then.
	followPct int
	bursts    []int64 // ms
	deck      []string
}

// drawMix shrinks to the plain mix: publish 3, unpublish 1, subscribe 1,
// two publishers per client at start, spread evenly over services and time.
func drawMix(t *rapid.T, window int64) mix {
	var m mix
	for _, k := range []struct {
		kind string
		def  int
	}{{OpPublish, 3}, {OpUnpublish, 1}, {OpSubscribe, 1}} {
		w := (k.def + rapid.IntRange(0, 3).Draw(t, "weight-"+k.kind)) % 4
		if k.kind == OpPublish {
			w = max(w, 1) // changes are what the checkers judge
		}
		for range w {
			m.deck = append(m.deck, k.kind)
		}
	}
	m.hotPct = rapid.SampledFrom([]int{0, 40, 80}).Draw(t, "hot-pct")
	// Several publishers on one connection: the state connection cleanup
	// and re-publishing must get right (sofa-registry PR 138).
	m.multiPct = rapid.SampledFrom([]int{100, 50, 0}).Draw(t, "multi-publisher-pct")
	m.followPct = rapid.SampledFrom([]int{0, 30, 70}).Draw(t, "follow-pct")
	for range rapid.SampledFrom([]int{0, 2, 6}).Draw(t, "bursts") {
		m.bursts = append(m.bursts, rapid.Int64Range(3000, max(3001, window)).Draw(t, "burst-at"))
	}
	return m
}

// subscribeNear is a new subscriber ("s3") of service by a random client,
// lo..hi ms from at (never before the first second).
func subscribeNear(t *rapid.T, clients int, at sim.Duration, lo, hi int64, service string) Op {
	return opNear(t, clients, at, lo, hi, Op{Kind: OpSubscribe, Service: service, Name: "s3"})
}

// opNear is op by a random client, lo..hi ms from at (never before the
// first second).
func opNear(t *rapid.T, clients int, at sim.Duration, lo, hi int64, op Op) Op {
	off := sim.Duration(time.Duration(rapid.Int64Range(lo, hi).Draw(t, "follow-ms")) * time.Millisecond)
	op.OpTiming = scenarios.OpTiming{Client: rapid.IntRange(0, clients-1).Draw(t, "follow-client"), At: max(at+off, sim.Duration(time.Second))}
	return op
}

// failoverOps: around each data server crash or restart, the moments the
// slot table moves its slots (a restart, or the crashed server's 20 s meta
// lease running out), within the safety phase: updates just before the
// crash, mostly of publishers already registered (pushed, but maybe not
// yet replicated to the slot's follower), and new subscribers of the
// services they changed every quarter second for two seconds after each
// moment.
// A new slot leader must not serve before it has every session's
// publishers (serve-before-migration). Under the push pipeline a change it
// announces is merged with the sessions' re-sync that follows within
// milliseconds, so only a subscriber's own fetch in that window, or a
// session slow to learn the table (stalled, cut off), shows what it
// serves (stallsAfterFailovers).
func failoverOps(t *rapid.T, workload []Op, steps []scenarios.Step, topo regnode.Config, clients, services int, until time.Duration) []Op {
	data := topo.Data
	var ops []Op
	svc := func() string { return Service(rapid.IntRange(0, services-1).Draw(t, "failover-service")) }
	touched := map[sim.NodeID][]string{} // a crashed server's: the services published just before its crash
	for _, st := range steps {
		nodes := stoppedOrRestarted(st.Op)
		i := slices.IndexFunc(nodes, func(n sim.NodeID) bool { return slices.Contains(data, n) })
		if time.Duration(st.At) > until || i < 0 {
			continue
		}
		moments := []sim.Duration{st.At}
		if _, crash := st.Op.(sim.Crash); crash {
			moments = append(moments, st.At+sim.Duration(19500*time.Millisecond))
			touched[nodes[i]] = nil
			// a data server crashing under load: 48 changes (four a
			// client) around its last replication batch (300 ms), the
			// last of which it never sent its followers; none when a
			// session server is lost before the slots move (it loses what
			// it acknowledged just before with the slot leader: the weak
			// ack's contract, which last-writer-wins does not excuse)
			burst := 48
			if sessionLost(steps, topo, st.At-sim.Duration(300*time.Millisecond), slotsMoved(steps, topo, st.At, nodes[i])) {
				burst = 0
			}
			live := livePubs(append(slices.Clone(workload), ops...), st.At-sim.Duration(280*time.Millisecond))
			for range burst {
				op := opNear(t, clients, st.At, -280, -30, Op{Kind: OpPublish, Service: svc()})
				op.Name = fmt.Sprintf("p%d", rapid.IntRange(0, 2).Draw(t, "pub"))
				if len(live) > 0 {
					// most updates of a publisher already pushed: what a
					// subscriber saw newer, a stale copy serves older
					if p := rapid.SampledFrom(live).Draw(t, "burst-live-pub"); rapid.IntRange(0, 3).Draw(t, "burst-update") > 0 {
						op.Client, op.Name, op.Service = p.client, p.name, p.service
					}
				}
				ops = append(ops, op)
				touched[nodes[i]] = append(touched[nodes[i]], op.Service)
			}
		}
		for _, m := range moments {
			for k := range 8 {
				if time.Duration(m) > until {
					break
				}
				service := svc()
				if len(touched[nodes[i]]) > 0 {
					service = rapid.SampledFrom(touched[nodes[i]]).Draw(t, "touched-service")
				}
				ops = append(ops, subscribeNear(t, clients, m+sim.Duration(k)*sim.Duration(250*time.Millisecond), 0, 250, service))
			}
		}
	}
	return ops
}

// slotsMoved is when the table moves the slots of a data server that
// crashes at the time: its next restart, or its meta lease running out.
func slotsMoved(steps []scenarios.Step, topo regnode.Config, crash sim.Duration, ds sim.NodeID) sim.Duration {
	moved := crash + sim.Duration(topo.Lease)
	for _, st := range steps {
		if r, ok := st.Op.(sim.Restart); ok && st.At > crash && slices.Contains(r.Nodes, ds) {
			moved = min(moved, st.At)
		}
	}
	return moved
}

// sessionLost: whether a session server crashes or restarts from..to: what it acknowledged in that time and only
// a failed slot leader held is lost with it before the slot moves, which
// the weak ack allows and last-writer-wins does not excuse.
func sessionLost(steps []scenarios.Step, topo regnode.Config, from, to sim.Duration) bool {
	return slices.ContainsFunc(steps, func(st scenarios.Step) bool {
		nodes := stoppedOrRestarted(st.Op)
		return st.At >= from && st.At <= to && slices.ContainsFunc(nodes, func(n sim.NodeID) bool { return slices.Contains(topo.Sessions, n) })
	})
}

// stoppedOrRestarted is the nodes a crash or restart acts on (none for
// other faults).
func stoppedOrRestarted(op sim.FaultOp) []sim.NodeID {
	switch f := op.(type) {
	case sim.Crash:
		return f.Nodes
	case sim.Restart:
		return f.Nodes
	}
	return nil
}

// livePub is a client's publisher and the dataInfoId it keeps.
type livePub struct {
	client        int
	name, service string
}

// livePubs are the publishers the ops leave registered before the time,
// by client and name: a publisher keeps the dataInfoId of its first
// publish (client.exec), so an update's own Service is not the one it
// changes.
func livePubs(ops []Op, before sim.Duration) []livePub {
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	type key struct {
		client int
		name   string
	}
	live := map[key]string{}
	for _, op := range ops {
		if op.At >= before {
			break
		}
		k := key{op.Client, op.Name}
		switch op.Kind {
		case OpPublish:
			if _, ok := live[k]; !ok {
				live[k] = op.Service
			}
		case OpUnpublish:
			delete(live, k)
		}
	}
	var out []livePub
	for k, svc := range live { //detlint:allow sorted below
		out = append(out, livePub{k.client, k.name, svc})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].client < out[j].client || out[i].client == out[j].client && out[i].name < out[j].name
	})
	return out
}
