// Package coordinator holds the distributed-transaction scenarios: a
// Seata-like TC (one with a file store, or a raft cluster), RMs with their
// own databases and applications running typed global transactions (AT
// transfers, TCC reservations, audits, SELECT FOR UPDATE reads, and in
// txn-list-append list-append transactions that the Elle-style checker
// judges) drawn from the seed, under the coordinator's own nemesis
// families and the generic ones; checkers/coordinator judges them. TCs
// are found from a static list or through the registry (discovery).
// Importing the package registers the scenarios.
package coordinator

import (
	"fmt"
	"time"

	"pgregory.net/rapid"

	coordcheck "github.com/sofasim/sofasim/checkers/coordinator"
	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// variant is one scenario: its description, nemesis and the defaults of
// the timing parameters it stresses.
type variant struct {
	name, desc string
	nemesis    nemesis
	txTimeout  time.Duration
	recovery   time.Duration
	rpcTimeout time.Duration
	// mix is the transaction kinds drawn (mixBasic when nil); lists the
	// default number of lists per RM (the list-append workload's).
	mix   []string
	lists int
}

// chaos is every fault family at once.
var chaos = nemesis{families: []string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyPartition, scenarios.FamilyNet,
	familyTCLeaderCrash, familyTCRestartMidRollback, familyRMCrashBurst, familyAppCrash, familySlowBranch, familyClockTimeout,
	familyRegisterTimeout, familyAppRMCut, familyDisk}, targets: "all", episodes: 8}

var variants = []variant{
	{name: "txn-basic", desc: "3 raft TCs, 3 RMs, 10 apps: AT transfers (some split over two branches, some aborted or overdrawn), TCC reservations, audits and SELECT FOR UPDATE reads on hot rows; no faults",
		txTimeout: 3 * time.Second, recovery: 500 * time.Millisecond, rpcTimeout: time.Second},
	{name: "txn-tc-failover", desc: "TCs crash (the leader too, torn or not), restart from their logs while rollbacks are pending, pause and get partitioned: a new leader reloads and finishes every session",
		nemesis:   nemesis{families: []string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyPartition, familyTCLeaderCrash, familyTCRestartMidRollback}, targets: "tc", episodes: 6},
		txTimeout: 3 * time.Second, recovery: 500 * time.Millisecond, rpcTimeout: time.Second},
	{name: "txn-rm-failover", desc: "RMs and their databases crash mid phase one and mid phase two with torn WAL tails, in bursts; applications crash mid transaction",
		nemesis:   nemesis{families: []string{scenarios.FamilyCrash, familyRMCrashBurst, familyAppCrash}, targets: "rm", episodes: 6},
		txTimeout: 3 * time.Second, recovery: 500 * time.Millisecond, rpcTimeout: time.Second},
	{name: "txn-timeouts", desc: "short transaction timeouts; slow branches (RMs paused for seconds), the TC's clock jumping or running fast so timeouts fire during commits, register RPCs timing out, TCC tries arriving after their cancel, phase two held up while the TC's clock jumps past the timeout",
		nemesis:   nemesis{families: []string{scenarios.FamilyPause, familySlowBranch, familyClockTimeout, familyRegisterTimeout, familyAppRMCut}, targets: "all", episodes: 8, commitRaces: 2},
		txTimeout: 800 * time.Millisecond, recovery: 100 * time.Millisecond, rpcTimeout: 300 * time.Millisecond},
	{name: "txn-chaos", desc: "everything at once: TC and RM crashes with torn writes, partitions, pauses, loss and clogs, slow and failing disks, clock jumps and skew, application crashes",
		nemesis:   chaos,
		txTimeout: 2 * time.Second, recovery: 300 * time.Millisecond, rpcTimeout: 500 * time.Millisecond},
	{name: "txn-list-append", desc: "list-append global transactions (AT appends to hot lists on several RMs, SELECT FOR UPDATE reads of them) judged by the Elle-style checker at read committed, beside transfers and audits, under txn-chaos's faults",
		nemesis:   chaos,
		txTimeout: 2 * time.Second, recovery: 300 * time.Millisecond, rpcTimeout: 500 * time.Millisecond, mix: mixList, lists: 3},
}

func init() {
	for _, v := range variants {
		scenarios.Register(scenario(v))
	}
}

func (v variant) kinds() []string {
	if v.mix == nil {
		return mixBasic
	}
	return v.mix
}

// params are a scenario's parameters, declared once; the timing defaults
// are the variant's.
func params(v variant) []scenarios.Param {
	return []scenarios.Param{
		scenarios.OneOf("tcs", 3, []int{1, 3, 5}, "TCs; 1 keeps sessions in a file on its disk (store=file), 3 or 5 replicate them with raft (store=raft)"),
		scenarios.Choice("discovery", "static", []string{"static", "registry"}, "how RMs and apps find the TCs: the static list, or the registry (TCs publish "+coordnode.TCDataID+", as Seata's registry.type=sofa)"),
		scenarios.Int("rms", 3, 2, 100, "RMs (microservices, each with its own database)"),
		scenarios.Int("apps", 10, 1, 5000, "application nodes (TMs), each running one global transaction at a time"),
		scenarios.Int("accounts", 4, 2, 100000, "accounts per RM (few: hot rows)"),
		scenarios.Int("items", 2, 1, 1000, "TCC items per RM"),
		scenarios.Int("lists", v.lists, min(v.lists, 1), 1000, "lists per RM for list-append transactions (few: hot rows)"),
		scenarios.Int("ops", 400, 0, 10000000, "most global transactions in a plan"),
		scenarios.Dur("tx-timeout", v.txTimeout, "global transaction timeout"),
		scenarios.Dur("recovery", v.recovery, "the TC's recovery jobs' interval (timeout check, retries)"),
		scenarios.Dur("rpc-timeout", v.rpcTimeout, "one RPC attempt's timeout"),
		scenarios.Dur("duration", 20*time.Second, "safety phase (virtual time)"),
		scenarios.Dur("liveness", 30*time.Second, "liveness bound after faults heal: every transaction final and cleaned up"),
	}
}

func scenario(v variant) *scenarios.Scenario {
	return scenarios.Define(scenarios.Spec[Op, *coordcheck.History]{
		Name:        v.name,
		Description: v.desc,
		Params:      params(v),
		Bugs:        coordnode.Bugs,
		OpKinds:     OpKinds,
		Kind:        func(op Op) string { return op.Kind },
		Nodes:       func(p scenarios.Values) []sim.NodeID { return topology(p).all() },
		Clients:     func(p scenarios.Values) int { return p.Int("apps") },
		Draw: func(t *rapid.T, p scenarios.Values) scenarios.Draft[Op] {
			tp, d := topology(p), p.Duration("duration")
			return scenarios.Draft[Op]{
				Duration: sim.Duration(d),
				Liveness: sim.Duration(p.Duration("liveness")),
				Ops:      drawOps(t, tp, v.kinds(), p.Int("ops"), d),
				Faults:   v.nemesis.draw(t, tp, d, p.Duration("tx-timeout")),
			}
		},
		Build: func(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op) (scenarios.System[*coordcheck.History], error) {
			return build(w, plan, topology(p), ops, false)
		},
	})
}

// topo is a scenario's deployment.
type topo struct {
	cfg            coordnode.Config
	reg            *regnode.Config // discovery=registry: the registry deployment
	napps          int
	balance, stock int64
}

// topology is the one place parameters become a deployment: the store
// follows the number of TCs.
func topology(p scenarios.Values) topo {
	ids := func(prefix string, n int) []sim.NodeID {
		out := make([]sim.NodeID, n)
		for i := range out {
			out[i] = sim.NodeID(fmt.Sprintf("%s-%d", prefix, i+1))
		}
		return out
	}
	store := coordnode.StoreRaft
	if p.Int("tcs") == 1 {
		store = coordnode.StoreFile
	}
	t := topo{napps: p.Int("apps"), balance: 1000, stock: 100}
	t.cfg = coordnode.Config{TCs: ids("tc", p.Int("tcs")), RMs: ids("rm", p.Int("rms")), Store: store,
		TxTimeout: p.Duration("tx-timeout"), RecoveryInterval: p.Duration("recovery"), RPCTimeout: p.Duration("rpc-timeout"),
		Accounts: p.Int("accounts"), Items: p.Int("items"), Lists: p.Int("lists"), Balance: t.balance, Stock: t.stock}
	if p.String("discovery") == "registry" {
		// A small registry: a raft trio of metas, one data server and two
		// session servers the coordinator's clients connect to.
		t.reg = &regnode.Config{Metas: ids("meta", 3), Data: ids("data", 1), Sessions: ids("session", 2), Slots: 16}
		t.cfg.Registry = t.reg.Sessions
	}
	return t
}

// registry is the registry's servers (none with a static list).
func (t topo) registry() []sim.NodeID {
	if t.reg == nil {
		return nil
	}
	return append(append(append([]sim.NodeID(nil), t.reg.Metas...), t.reg.Data...), t.reg.Sessions...)
}

func (t topo) apps() []sim.NodeID { return scenarios.ClientIDs(t.napps) }

// members are the servers: TCs and RMs.
func (t topo) members() []sim.NodeID {
	return append(append([]sim.NodeID(nil), t.cfg.TCs...), t.cfg.RMs...)
}

// all are every node; the registry's servers are not the coordinator's
// members (its faults are the registry scenarios' business) but share
// the network with them.
func (t topo) all() []sim.NodeID { return append(append(t.members(), t.registry()...), t.apps()...) }
