package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Network faults: partitions, clogged and lossy links, and the heal that
// ends them all.

const (
	FaultPartition FaultKind = "partition"
	FaultHeal      FaultKind = "heal"
	FaultClog      FaultKind = "clog"
	FaultLoss      FaultKind = "loss"
)

func init() {
	defineFault[Partition]("block traffic along the cuts until the next heal (added to any current partition)")
	defineFault[Heal]("remove every partition, clog and loss rule")
	defineFault[Clog]("delay traffic along the cuts (none: every link) for a while")
	defineFault[Loss]("lose and duplicate datagrams along the cuts (none: every link), for a while or until the next heal")
}

// Partition blocks traffic along its cuts until the next Heal.
type Partition struct {
	Cuts []Cut `json:"cuts,omitempty"`
}

// Heal removes every partition, clog and loss rule.
type Heal struct{}

// Clog holds traffic along the cuts (none: every link) for For.
type Clog struct {
	Cuts []Cut    `json:"cuts,omitempty"`
	For  Duration `json:"for"`
}

// Loss loses LossPPM and duplicates DupPPM of the datagrams along the cuts
// (none: every link), for For (0: until the next Heal). Connections see
// retransmission delays instead.
type Loss struct {
	Cuts    []Cut    `json:"cuts,omitempty"`
	LossPPM int64    `json:"loss_ppm,omitempty"`
	DupPPM  int64    `json:"dup_ppm,omitempty"`
	For     Duration `json:"for,omitempty"`
}

func (Partition) Kind() FaultKind { return FaultPartition }
func (Heal) Kind() FaultKind      { return FaultHeal }
func (Clog) Kind() FaultKind      { return FaultClog }
func (Loss) Kind() FaultKind      { return FaultLoss }

func (f Partition) describe(b *strings.Builder) { describeCuts(b, f.Cuts) }
func (Heal) describe(*strings.Builder)          {}

func (f Clog) describe(b *strings.Builder) {
	describeCuts(b, f.Cuts)
	fmt.Fprintf(b, " for %v", f.For)
}

func (f Loss) describe(b *strings.Builder) {
	fmt.Fprintf(b, " %dppm", f.LossPPM)
	if f.DupPPM != 0 {
		fmt.Fprintf(b, " dup %dppm", f.DupPPM)
	}
	describeCuts(b, f.Cuts)
	if f.For > 0 {
		fmt.Fprintf(b, " for %v", f.For)
	}
}

func (f Partition) check(c checker) error {
	if len(f.Cuts) == 0 {
		return errors.New("needs cuts")
	}
	return c.cuts(f.Cuts)
}

func (Heal) check(checker) error { return nil }

func (f Clog) check(c checker) error {
	if f.For <= 0 {
		return errors.New("needs a positive for")
	}
	return c.cuts(f.Cuts)
}

func (f Loss) check(c checker) error {
	if err := ppm("loss_ppm", f.LossPPM); err != nil {
		return err
	}
	if err := ppm("dup_ppm", f.DupPPM); err != nil {
		return err
	}
	if f.For < 0 {
		return errors.New("negative for")
	}
	return c.cuts(f.Cuts)
}

func (Partition) targets() []NodeID { return nil }
func (Heal) targets() []NodeID      { return nil }
func (Clog) targets() []NodeID      { return nil }
func (Loss) targets() []NodeID      { return nil }

// Aimed at a node, a network fault cuts that node off from all the others.
func (f Partition) aim(n NodeID, all []NodeID) (FaultOp, bool) {
	f.Cuts = Isolate(n, all)
	return f, true
}
func (Heal) aim(NodeID, []NodeID) (FaultOp, bool)         { return nil, false }
func (f Clog) aim(n NodeID, all []NodeID) (FaultOp, bool) { f.Cuts = Isolate(n, all); return f, true }
func (f Loss) aim(n NodeID, all []NodeID) (FaultOp, bool) { f.Cuts = Isolate(n, all); return f, true }

func (f Partition) apply(w *World) string {
	for _, c := range f.Cuts {
		w.rules = append(w.rules, linkRule{kind: ruleBlock, from: w.bits(c.From), to: w.bits(c.To)})
	}
	w.networkChanged()
	return ""
}

func (Heal) apply(w *World) string {
	w.rules = w.rules[:0]
	w.networkChanged()
	return ""
}

func (f Clog) apply(w *World) string {
	w.addTimedRules(linkRule{kind: ruleClog}, f.Cuts, f.For)
	return ""
}

func (f Loss) apply(w *World) string {
	w.addTimedRules(linkRule{kind: ruleLoss, ppm: f.LossPPM, dupPPM: f.DupPPM}, f.Cuts, f.For)
	return ""
}

// addTimedRules adds rule on each cut (none: every link), until d from now
// (0: until the next heal).
func (w *World) addTimedRules(rule linkRule, cuts []Cut, d Duration) {
	if d > 0 {
		rule.until = w.now + int64(d)
		w.push(event{at: rule.until, kind: evExpire})
	}
	if len(cuts) == 0 {
		all := w.NodeIDs()
		cuts = []Cut{{From: all, To: all}}
	}
	for _, c := range cuts {
		r := rule
		r.from, r.to = w.bits(c.From), w.bits(c.To)
		w.rules = append(w.rules, r)
	}
	w.networkChanged()
}

// expireRules drops timed rules whose time has come.
func (w *World) expireRules() {
	rules := w.rules[:0]
	for _, r := range w.rules {
		if r.until == 0 || r.until > w.now {
			rules = append(rules, r)
		}
	}
	w.rules = rules
	w.networkChanged()
}

// A partition shows on the network and on each node it cuts off.
func (f Partition) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range cutOff(f.Cuts, t.nodes) {
		t.start(onNode(n), PeriodPartitioned, at, "cut off", detail)
	}
	t.start(onNetwork, PeriodPartitioned, at, "partition", detail)
}

// A heal ends partitions and loss but not a clog's period: the heal lifts
// the clog's rule, yet what the clog held is still delivered at the clog's
// end (and a connection's later messages queue behind it).
func (Heal) mark(t *timeline, at time.Duration, detail string) {
	for _, k := range []PeriodKind{PeriodPartitioned, PeriodLossy} {
		t.closeKind(k, nil, at, detail)
	}
}

// A clog shows on the network and on each node it cuts off; a clog of
// every link stalls every node, so it shows on all of them.
func (f Clog) mark(t *timeline, at time.Duration, detail string) {
	scopes := []Scope{onNetwork}
	nodes := cutOff(f.Cuts, t.nodes)
	if len(f.Cuts) == 0 {
		nodes = t.nodes
	}
	for _, n := range nodes {
		scopes = append(scopes, onNode(n))
	}
	for _, s := range scopes {
		t.startUntil(s, PeriodClogged, at, at+time.Duration(f.For), "clogged", detail)
	}
}

// Loss shows on the network and on each node its cuts cut off; loss on
// every link is a condition of the network alone.
func (f Loss) mark(t *timeline, at time.Duration, detail string) {
	var until time.Duration
	if f.For > 0 {
		until = at + time.Duration(f.For)
	}
	scopes := []Scope{onNetwork}
	for _, n := range cutOff(f.Cuts, t.nodes) {
		scopes = append(scopes, onNode(n))
	}
	for _, s := range scopes {
		t.startUntil(s, PeriodLossy, at, until, "lossy", detail)
	}
}

func describeCuts(b *strings.Builder, cuts []Cut) {
	for _, c := range cuts {
		fmt.Fprintf(b, " {%v}", c)
	}
}

// cutOff lists the nodes that cuts separate from more than half of the
// other nodes the cuts name (the isolated node, the minority side, the
// sender of a one-way cut): the nodes a timeline marks, in the run's node
// order, then any others by name. The network shows every cut in full.
func cutOff(cuts []Cut, nodes []NodeID) []NodeID {
	involved := map[NodeID]bool{}
	blocked := map[NodeID]map[NodeID]bool{}
	mark := func(a, b NodeID) {
		if a == b {
			return
		}
		if blocked[a] == nil {
			blocked[a] = map[NodeID]bool{}
		}
		blocked[a][b] = true
	}
	for _, c := range cuts {
		for _, a := range c.From {
			involved[a] = true
			for _, b := range c.To {
				involved[b] = true
				mark(a, b)
				mark(b, a)
			}
		}
	}
	order := slices.Clone(nodes)
	var extra []NodeID
	for n := range involved { //detlint:allow sorted below
		if !slices.Contains(nodes, n) {
			extra = append(extra, n)
		}
	}
	slices.Sort(extra)
	order = append(order, extra...)
	var out []NodeID
	for _, n := range order {
		if involved[n] && 2*len(blocked[n]) > len(involved)-1 {
			out = append(out, n)
		}
	}
	return out
}
