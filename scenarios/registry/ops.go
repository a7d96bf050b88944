package registry

// registry-ops drills SOFARegistry's ops controls under faults: push
// stopped during a data failover, clients switched off (by zone too) and
// back, a hot dataInfoId blacklisted, a data server quitting gracefully and
// joining again, the meta leader quitting the election, a watched config
// set; its workload adds app-level discovery (revisions deployed, interfaces
// subscribed); and a session is cut off from a data server long enough to
// lose its connection.

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// OpsOp is a registry-ops plan operation: a workload operation, or, with
// Drill, what the ops console does.
type OpsOp struct {
	Op
	Drill *Drill `json:"drill,omitempty"`
}

// Drill is one ops drill: What (a regcheck.Drill* name) at At, undone For
// later (0: never).
type Drill struct {
	What    string       `json:"what"`
	For     sim.Duration `json:"for,omitempty"`
	Clients []int        `json:"clients,omitempty"` // client-off: switched off; stop-push: the gray list
	Zone    int          `json:"zone,omitempty"`    // client-off-zone: the zone (session i is in zone i % zones)
	DataID  string       `json:"data_id,omitempty"` // blacklist-data
	Node    sim.NodeID   `json:"node,omitempty"`    // data-quit: the data server
	Value   string       `json:"value,omitempty"`   // set-config: the config
}

// opsZones: session servers are spread over two zones.
const opsZones = 2

var opsKinds = append(append([]string(nil), OpKinds...), OpPublishApp, OpSubscribeInterface, OpWatch,
	"drill/"+regcheck.DrillStopPush, "drill/"+regcheck.DrillClientOff, "drill/"+regcheck.DrillClientOffZone,
	"drill/"+regcheck.DrillBlacklistData, "drill/"+regcheck.DrillDataQuit, "drill/"+regcheck.DrillMetaQuit, "drill/"+regcheck.DrillSetConfig,
	"drill/"+regcheck.DrillReconcileStop, "drill/"+regcheck.DrillForceRefresh)

func init() {
	params := append(append([]scenarios.Param(nil), Params...),
		scenarios.Dur("drill-bound", 5*time.Second, "after a switch reached the session servers (3s), what it promises holds within this"),
		scenarios.Choice("watch-config", "on", []string{"on", "off"}, "the sessions' watchConfigEnable: on, watchers are pushed the configs the console sets (fetched every watch-fetch, scanned every watch-scan); off (SOFARegistry's default), null content once"),
		scenarios.Dur("watch-fetch", 5*time.Second, "with watch-config on, a session fetches its watched configs this often (SOFARegistry's 30 s would act once or twice in a 45 s run, after most config drills)"),
		scenarios.Dur("watch-scan", 3*time.Second, "the session's watcher scan (SOFARegistry's scanWatcherIntervalMillis 3 s)"))
	for i, p := range params {
		if p.Name == "duration" { // the session-off of sofa-registry#57 takes 30s after a cut
			params[i] = scenarios.Dur("duration", 45*time.Second, "safety phase (virtual time)")
		}
	}
	scenarios.Register(scenarios.Define(scenarios.Spec[OpsOp, *regcheck.History]{
		Name: "registry-ops",
		Description: "service registry ops drills under faults: push stopped during a data failover, clients switched off (by zone too) and back, " +
			"a hot dataInfoId blacklisted, a data server quitting and joining, the meta leader quitting the election, slot reconcile stopped, " +
			"the slot table rebuilt by force, a watched config set; " +
			"app revisions deployed to interface subscribers; a session cut off from a data server",
		MustReach:  mustReach["registry-ops"],
		Params:     params,
		Bugs:       regnode.Bugs,
		Failpoints: []string{regnode.FailPush},
		OpKinds:    opsKinds,
		Kind: func(op OpsOp) string {
			if op.Drill != nil {
				return "drill/" + op.Drill.What
			}
			return op.Kind
		},
		Nodes: func(p scenarios.Values) []sim.NodeID {
			return append(append(members(topology(p)), scenarios.ClientIDs(p.Int("clients"))...), opsConsoleID)
		},
		Clients: func(p scenarios.Values) int { return p.Int("clients") },
		Draw:    drawOpsPlan,
		Build: func(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []OpsOp) (scenarios.System[*regcheck.History], error) {
			var work []Op
			var drills []OpsOp
			for _, op := range ops {
				if op.Drill != nil {
					drills = append(drills, op)
				} else {
					work = append(work, op.Op)
				}
			}
			sys := buildWith(w, plan, p, work, false, opsTopology(p))
			withApps(sys)
			sys.setBounds(p)
			addConsole(w, sys, drills)
			return &opsSystem{system: sys, bound: int64(p.Duration("drill-bound"))}, nil
		},
	}))
}

// opsSystem adds the drills' checkers.
type opsSystem struct {
	*system
	bound int64
}

func (s *opsSystem) Checkers(b scenarios.Bounds) []checkers.CheckerOf[*regcheck.History] {
	settle := int64(3 * time.Second)
	return append(s.system.Checkers(b), regcheck.StopPush{Bound: s.bound, Settle: settle}, regcheck.ClientOff{Bound: s.bound, Settle: settle},
		regcheck.Blacklist{Bound: s.bound, Settle: settle}, regcheck.DataQuit{Bound: s.bound + int64(3*time.Second)},
		regcheck.ReconcileHold{}, regcheck.ForceRefreshBalanced{Bound: s.bound + regcheck.DrillLag, Slots: s.cfg.Slots}, s.watchers())
}

// opsTopology is the registry topology with the watcher parameters.
func opsTopology(p scenarios.Values) regnode.Config {
	c := topology(p)
	c.Watch = regnode.WatchConfig{Enable: p.String("watch-config") == "on", FetchInterval: p.Duration("watch-fetch"), ScanInterval: p.Duration("watch-scan")}
	return c
}

// watchers judges the watchers by the sessions' mode: a config set waits
// for the console to reach the metas (DrillLag) and then the watcher
// bound, plus a second of slack.
func (s *opsSystem) watchers() regcheck.Watchers {
	bound := int64(s.cfg.Watch.Bound(2*time.Second) + time.Second)
	if s.cfg.Watch.Enable {
		bound += regcheck.DrillLag
	}
	return regcheck.Watchers{Enabled: s.cfg.Watch.Enable, Bound: bound, Settle: int64(3 * time.Second)}
}

// drawOpsPlan: the registry workload, each drill on or off, data servers
// crashing while push is stopped, and a session cut off from a data server.
func drawOpsPlan(t *rapid.T, p scenarios.Values) scenarios.Draft[OpsOp] {
	d := p.Duration("duration")
	topo := topology(p)
	nclients := p.Int("clients")
	var ops []OpsOp
	for _, op := range drawOps(t, nclients, p.Int("services"), p.Int("ops"), d) {
		ops = append(ops, OpsOp{Op: op})
	}
	ops = append(ops, drawAppOps(t, nclients, d)...)
	// explicit levels: rapid's ranges lean hard to their minimum, and
	// drills must land late in the run as well as early
	ms := func(lo, hi int64, label string) sim.Duration {
		k := rapid.SampledFrom([]int64{3, 7, 1, 5, 8, 0, 6, 2, 4}).Draw(t, label)
		return sim.Duration(time.Duration(lo+(hi-lo)*k/8) * time.Millisecond)
	}
	window := int64(d/time.Millisecond) * 6 / 10
	someClients := func(label string, lo int) []int {
		var out []int
		for _, c := range rapid.SliceOfNDistinct(rapid.IntRange(0, nclients-1), lo, min(3, nclients), rapid.ID[int]).Draw(t, label) {
			out = append(out, c)
		}
		return out
	}
	drill := func(at sim.Duration, dr Drill) {
		ops = append(ops, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{At: at}, Kind: "drill"}, Drill: &dr})
	}
	// changes while a drill holds: what it promises is about them
	changes := func(from, length sim.Duration, service, label string) {
		for i := range 3 {
			at := from + length*sim.Duration(2*i+1)/6
			c := rapid.IntRange(0, nclients-1).Draw(t, label+"-client")
			svc := service
			if svc == "" {
				svc = Service(rapid.IntRange(0, p.Int("services")-1).Draw(t, label+"-service"))
			}
			ops = append(ops, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpPublish, Service: svc, Name: fmt.Sprintf("p%d", 3+i)}})
		}
	}
	// A session cut off from a data server early (in three seeds of
	// four), for long enough to break their connection (a keepalive of
	// 3s) and, most often, for more than 30s, then from every data server:
	// the session stays in the table, so the data servers must keep its
	// publishers (sofa-registry#57). A seed with the long cut
	// holds no drill that excuses a lost publisher for the rest of the run
	// (stopped push, a meta leader quitting: its successor warms up 30 s),
	// or no-loss would never judge what the data side promises.
	var steps []scenarios.Step
	longCut := false
	if rapid.IntRange(0, 3).Draw(t, "session-data-cut") > 0 {
		at := ms(1000, 4000, "cut-at")
		s, dsrv := rapid.SampledFrom(topo.Sessions).Draw(t, "cut-session"), rapid.SampledFrom(topo.Data).Draw(t, "cut-data")
		// the long cuts last to the heal, or nearly: the erased publishers
		// stay missing for seconds more than the pipeline's merge and debounce
		length := rapid.SampledFrom([]time.Duration{d, 6 * time.Second, 40 * time.Second, 12 * time.Second}).Draw(t, "cut-for")
		longCut = length > 30*time.Second
		if longCut {
			// every client subscribes to every service, and updates its
			// publishers once the start-up (no meta leader yet, which
			// excuses what was acknowledged during it) is over: whichever
			// publishers the data servers erase, subscribers on the other
			// session servers are pushed the loss, and no-loss judges it
			for c := range nclients {
				at := sim.Duration(3*time.Second + time.Duration(c)*10*time.Millisecond)
				for k := range p.Int("services") {
					ops = append(ops, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpSubscribe, Service: Service(k), Name: "s4"}})
				}
				for _, name := range []string{"p0", "p1"} {
					ops = append(ops, OpsOp{Op: Op{OpTiming: scenarios.OpTiming{Client: c, At: at + sim.Duration(300*time.Millisecond)},
						Kind: OpPublish, Service: Service(c % p.Int("services")), Name: name}})
				}
			}
		}
		cutFrom := []sim.NodeID{dsrv}
		if longCut {
			// the session's publishers of every slot are erased, not only
			// one server's; the cut starts once the updates are stored
			cutFrom, at = topo.Data, at+sim.Duration(3*time.Second)
		}
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Partition{Cuts: sim.Split([]sim.NodeID{s}, cutFrom)}}},
			scenarios.Step{Fault: sim.Fault{At: min(at+sim.Duration(length), sim.Duration(d)), Op: sim.Heal{}}})
	}
	// each drill is on in half the seeds (stop push in three of four, a
	// meta quitting the election in one of four; neither with the long
	// cut), so that some seeds hold one drill away from the others'
	// disturbances
	on := func(label string) bool { return rapid.Bool().Draw(t, label) }
	failover, quit := false, false
	if !longCut && rapid.IntRange(0, 3).Draw(t, "stop-push") > 0 {
		at, length := ms(4000, window, "stop-at"), ms(3000, 10_000, "stop-for")
		drill(at, Drill{What: regcheck.DrillStopPush, For: length, Clients: someClients("gray", 0)})
		changes(at+sim.Duration(regcheck.DrillLag), length-sim.Duration(regcheck.DrillLag), "", "stop-change")
		if failover = on("stop-failover"); failover { // a data failover while push is stopped
			ds := rapid.SampledFrom(topo.Data).Draw(t, "stop-failover-node")
			crash := at + ms(0, int64(length/sim.Duration(time.Millisecond)), "stop-crash-after")
			steps = append(steps, scenarios.Step{Fault: sim.Fault{At: crash, Op: sim.Crash{Nodes: []sim.NodeID{ds}}}},
				scenarios.Step{Fault: sim.Fault{At: crash + ms(2000, 8000, "stop-down"), Op: sim.Restart{Nodes: []sim.NodeID{ds}}}})
		}
	}
	if on("client-off-zone") {
		drill(ms(4000, window, "zone-off-at"), Drill{What: regcheck.DrillClientOffZone, For: ms(3000, 10_000, "zone-off-for"),
			Clients: someClients("zone-off-clients", 1), Zone: rapid.IntRange(0, opsZones-1).Draw(t, "zone")})
	}
	if on("client-off") {
		drill(ms(4000, window, "off-at"), Drill{What: regcheck.DrillClientOff, For: ms(3000, 10_000, "off-for"), Clients: someClients("off-clients", 1)})
	}
	if on("blacklist") {
		at := ms(4000, window, "blacklist-at")
		drill(at, Drill{What: regcheck.DrillBlacklistData, DataID: Service(0)})
		changes(at, sim.Duration(10*time.Second), Service(0), "blacklisted-publish")
	}
	if quit = on("data-quit"); quit {
		drill(ms(4000, window, "quit-at"), Drill{What: regcheck.DrillDataQuit, For: ms(8000, 15_000, "quit-for"), Node: rapid.SampledFrom(topo.Data).Draw(t, "quit-node")})
	}
	configs := rapid.IntRange(0, 2).Draw(t, "configs")
	for i := range configs {
		drill(ms(2000, window, "config-at"), Drill{What: regcheck.DrillSetConfig, DataID: Service(1), Value: fmt.Sprintf("limit-%d", i)})
	}
	// a quarter of the seeds: the new leader's 30 s warm-up counts as a
	// meta election, which excuses most checkers for the rest of the run
	if !longCut && rapid.IntRange(0, 3).Draw(t, "meta-quit") == 0 {
		drill(ms(4000, window, "meta-quit-at"), Drill{What: regcheck.DrillMetaQuit})
	}
	// Slot reconcile stopped for a while (not over a data failover or a
	// quit: it would hold their slots), and the table rebuilt by force
	// under changes (not with the long cut: moving every slot would
	// excuse what the data side must keep); drawn last, so seeds with
	// neither keep their runs.
	if on("reconcile-stop") && !failover && !quit {
		drill(ms(4000, window, "reconcile-at"), Drill{What: regcheck.DrillReconcileStop, For: ms(3000, 10_000, "reconcile-for")})
	}
	if !longCut && on("force-refresh") {
		at := ms(4000, window, "refresh-at")
		drill(at, Drill{What: regcheck.DrillForceRefresh})
		changes(at, sim.Duration(6*time.Second), "", "refresh-change")
	}
	ops = append(ops, drawUpgrade(t, nclients, ops)...)
	// At least two config writes, drawn last so the other draws stay: a
	// watcher is judged on a change of a value it was pushed, not only on
	// its first (rapid's count leans to none).
	for i := configs; i < 2; i++ {
		drill(ms(2000, window, "config-more-at"), Drill{What: regcheck.DrillSetConfig, DataID: Service(1), Value: fmt.Sprintf("limit-%d", i)})
	}
	slices.SortStableFunc(steps, func(a, b scenarios.Step) int { return cmp.Compare(a.At, b.At) })
	slices.SortStableFunc(ops, func(a, b OpsOp) int { return cmp.Compare(a.At, b.At) })
	return scenarios.Draft[OpsOp]{Duration: sim.Duration(d), Liveness: sim.Duration(p.Duration("liveness")), Ops: ops, Faults: steps}
}
