package registry

// App-level discovery and watchers in registry-ops' workload: clients
// deploy application revisions (each client is an instance of app-(i%3)),
// subscribe to interfaces and watch a config the ops console sets.

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// App-level workload operation kinds: Name is the revision ("v1".."v4")
// or Service the interface ("iface-0".."iface-2").
const (
	OpPublishApp         = "publish-app"
	OpSubscribeInterface = "subscribe-interface"
	OpWatch              = "watch" // a watcher of Service's config
)

const appCount = 3

// appRevision is revision v of app k: it serves interface k and one more,
// which changes with the revision.
func appRevision(k int, v string) regnode.AppRevision {
	n := 0
	fmt.Sscanf(v, "v%d", &n)
	return regnode.AppRevision{App: fmt.Sprintf("app-%d", k), Revision: fmt.Sprintf("app-%d-%s", k, v),
		Interfaces: []string{fmt.Sprintf("iface-%d", k), fmt.Sprintf("iface-%d", (k+1+n)%appCount)}}
}

// drawAppOps: interface subscriptions early, deployments after them.
func drawAppOps(t *rapid.T, clients int, d time.Duration) []OpsOp {
	var ops []OpsOp
	window := int64(d/time.Millisecond) * 6 / 10
	for range rapid.IntRange(0, 4).Draw(t, "interface-subs") {
		ops = append(ops, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
			At: sim.Duration(time.Duration(rapid.Int64Range(500, 3000).Draw(t, "sub-ms")) * time.Millisecond)},
			Kind: OpSubscribeInterface, Service: fmt.Sprintf("iface-%d", rapid.IntRange(0, appCount-1).Draw(t, "iface"))}})
	}
	for range rapid.IntRange(0, 3).Draw(t, "watchers") {
		ops = append(ops, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
			At: sim.Duration(time.Duration(rapid.Int64Range(500, 3000).Draw(t, "watch-ms")) * time.Millisecond)},
			Kind: OpWatch, Service: Service(1)}})
	}
	// explicit levels: rapid's ranges lean hard to their minimum
	for range rapid.SampledFrom([]int{2, 3, 1, 4, 6}).Draw(t, "deploys") {
		deploy := OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
			At: scenarios.SpreadMs(t, 3000, max(3001, window), "deploy-ms")},
			Kind: OpPublishApp, Name: rapid.SampledFrom([]string{"v1", "v2", "v3", "v4"}).Draw(t, "revision")}}
		ops = append(append(ops, deploy), followers(t, clients, deploy, "deploy-followers")...)
	}
	return ops
}

// followers: two or three consumers of the deployed app's interface
// starting 10 to 60 ms after it: a session fetches the app's datum at
// once (the change announcement is merged for a second), so a revision
// acknowledged but not yet stored is asked for while no meta server has it.
func followers(t *rapid.T, clients int, deploy OpsOp, label string) []OpsOp {
	var out []OpsOp
	for range rapid.SampledFrom([]int{3, 2}).Draw(t, label) {
		out = append(out, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
			At: deploy.At + sim.Duration(time.Duration(rapid.Int64Range(10, 60).Draw(t, "follow-ms"))*time.Millisecond)},
			Kind: OpSubscribeInterface, Service: fmt.Sprintf("iface-%d", deploy.Client%appCount)}})
	}
	return out
}

// drawUpgrade: in three seeds of four, after the last deployment another
// instance of one deployed app ships the app's next revision (a rolling
// upgrade) while consumers of its interface start within the same 100 ms.
// Drawn last in the plan, so the other draws keep their values; as the
// last deployment, no later change of an app datum re-pushes what its
// consumers were pushed.
func drawUpgrade(t *rapid.T, clients int, ops []OpsOp) []OpsOp {
	var deploys []OpsOp
	for _, op := range ops {
		if op.Drill == nil && op.Kind == OpPublishApp {
			deploys = append(deploys, op)
		}
	}
	if len(deploys) == 0 || rapid.IntRange(0, 3).Draw(t, "upgrade") == 0 {
		return nil
	}
	last := slices.MaxFunc(deploys, func(a, b OpsOp) int { return cmp.Compare(a.At, b.At) })
	from := rapid.SampledFrom(deploys).Draw(t, "upgraded")
	k := from.Client % appCount
	n := 0
	fmt.Sscanf(from.Name, "v%d", &n)
	up := OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: k + appCount*rapid.IntRange(0, (clients-1-k)/appCount).Draw(t, "upgrade-instance"),
		At: last.At + scenarios.SpreadMs(t, 2000, 6000, "upgrade-after")}, Kind: OpPublishApp, Name: fmt.Sprintf("v%d", n%4+1)}}
	return append([]OpsOp{up}, followers(t, clients, up, "upgrade-followers")...)
}

// execApp runs an app-level operation; it reports whether op was one.
func (c *client) execApp(op Op) bool {
	switch op.Kind {
	case OpPublishApp:
		rev := appRevision(c.idx%appCount, op.Name)
		reg := fmt.Sprintf("c%d-app", c.idx)
		c.record(regcheck.Event{Kind: regcheck.Revision, DataID: regnode.AppDataID(rev.App), Data: rev.Revision, Interfaces: rev.Interfaces})
		v := c.client.PublishApp(rev, reg, string(c.env.ID()))
		c.setLive(reg, regnode.AppDataID(rev.App))
		c.record(regcheck.Event{Kind: regcheck.Publish, DataID: regnode.AppDataID(rev.App), RegID: reg, Data: regnode.AppPubData(string(c.env.ID()), rev.Revision), Version: v})
	case OpWatch:
		reg := fmt.Sprintf("c%d-w-%s", c.idx, op.Service)
		c.client.Watch(op.Service, reg)
		c.record(regcheck.Event{Kind: regcheck.Subscribe, DataID: regnode.ConfigKey(op.Service), RegID: reg})
	case OpSubscribeInterface:
		reg := fmt.Sprintf("c%d-s-%s", c.idx, op.Service)
		c.client.Subscribe(regnode.InterfaceDataID(op.Service), reg)
		c.record(regcheck.Event{Kind: regcheck.Subscribe, DataID: regnode.InterfaceDataID(op.Service), RegID: reg})
	default:
		return false
	}
	return true
}

// withApps lets the clients run app-level operations too.
func withApps(sys *system) {
	for _, c := range sys.clients {
		c := c
		c.driver.Exec = func(op Op, done func()) {
			if c.execApp(op) {
				done()
				return
			}
			c.exec(op, done)
		}
	}
}
