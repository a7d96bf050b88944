package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Disk faults: corruption at rest, slow syncs, failed syncs, and the heal
// that ends the last two.

const (
	FaultDiskCorrupt FaultKind = "disk-corrupt"
	FaultDiskSlow    FaultKind = "disk-slow"
	FaultDiskFail    FaultKind = "disk-fail"
	FaultDiskHeal    FaultKind = "disk-heal"
)

func init() {
	defineFault[DiskCorrupt]("flip a bit of synced data in file (empty: any file with synced data)")
	defineFault[DiskSlow]("make each sync take delay longer, for a while; the node is busy meanwhile")
	defineFault[DiskFail]("make the next count syncs fail (0: one); their writes are lost at the next crash (torn: but a random prefix)")
	defineFault[DiskHeal]("end pending sync failures and slow spells (corruption stays)")
}

// DiskCorrupt flips a bit of synced data in File (empty: any file with
// synced data) on each node.
type DiskCorrupt struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	File  string   `json:"file,omitempty"`
}

// DiskSlow adds Delay to every sync for For.
type DiskSlow struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	Delay Duration `json:"delay"`
	For   Duration `json:"for"`
}

// DiskFail makes the next Count syncs fail (0: one). Torn: each failing
// sync's writeback gets partway first (a random prefix of its writes is
// durable, the last possibly cut short), for every failure pending on the
// node.
type DiskFail struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	Count int      `json:"count,omitempty"`
	Torn  bool     `json:"torn,omitempty"`
}

// DiskHeal ends pending sync failures and slow spells; corruption stays.
type DiskHeal struct {
	Nodes []NodeID `json:"nodes,omitempty"`
}

func (DiskCorrupt) Kind() FaultKind { return FaultDiskCorrupt }
func (DiskSlow) Kind() FaultKind    { return FaultDiskSlow }
func (DiskFail) Kind() FaultKind    { return FaultDiskFail }
func (DiskHeal) Kind() FaultKind    { return FaultDiskHeal }

func (f DiskCorrupt) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	if f.File != "" {
		fmt.Fprintf(b, " file %s", f.File)
	}
}

func (f DiskSlow) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	fmt.Fprintf(b, " +%v per sync for %v", f.Delay, f.For)
}

func (f DiskFail) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	if n := max(f.Count, 1); n == 1 {
		b.WriteString(" next sync")
	} else {
		fmt.Fprintf(b, " next %d syncs", n)
	}
	if f.Torn {
		b.WriteString(" torn")
	}
}

func (f DiskHeal) describe(b *strings.Builder) { describeNodes(b, f.Nodes) }

func (f DiskCorrupt) check(c checker) error { return c.nodes(f.Nodes, true) }

func (f DiskSlow) check(c checker) error {
	if f.Delay <= 0 || f.For <= 0 {
		return errors.New("needs a positive delay and for")
	}
	return c.nodes(f.Nodes, true)
}

func (f DiskFail) check(c checker) error {
	if f.Count < 0 {
		return fmt.Errorf("negative count %d", f.Count)
	}
	return c.nodes(f.Nodes, true)
}

func (f DiskHeal) check(c checker) error { return c.nodes(f.Nodes, true) }

func (f DiskCorrupt) targets() []NodeID { return f.Nodes }
func (f DiskSlow) targets() []NodeID    { return f.Nodes }
func (f DiskFail) targets() []NodeID    { return f.Nodes }
func (f DiskHeal) targets() []NodeID    { return f.Nodes }

func (f DiskCorrupt) aim(n NodeID, _ []NodeID) (FaultOp, bool) { f.Nodes = []NodeID{n}; return f, true }
func (f DiskSlow) aim(n NodeID, _ []NodeID) (FaultOp, bool)    { f.Nodes = []NodeID{n}; return f, true }
func (f DiskFail) aim(n NodeID, _ []NodeID) (FaultOp, bool)    { f.Nodes = []NodeID{n}; return f, true }
func (f DiskHeal) aim(n NodeID, _ []NodeID) (FaultOp, bool)    { f.Nodes = []NodeID{n}; return f, true }

// apply notes where each corruption landed: node:file@offset.
func (f DiskCorrupt) apply(w *World) string {
	var notes []string
	for _, n := range w.slots(f.Nodes) {
		if name, off, ok := w.diskOf(n).corrupt(w.faultRand, f.File); ok {
			notes = append(notes, fmt.Sprintf("%s:%s@%d", n.id, name, off))
		}
	}
	return strings.Join(notes, " ")
}

func (f DiskSlow) apply(w *World) string {
	until := w.now + int64(f.For)
	nodes := w.slots(f.Nodes)
	for _, n := range nodes {
		d := w.diskOf(n)
		d.slow = append(d.slow, slowSpell{delay: int64(f.Delay), until: until})
	}
	w.push(event{at: until, kind: evCall, p: func() {
		for _, n := range nodes {
			n.madeDisk().endSlow(w.now)
		}
	}})
	return ""
}

func (f DiskFail) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		d := w.diskOf(n)
		d.failSyncs += max(f.Count, 1)
		if f.Torn {
			d.failTorn = true
		}
	}
	return ""
}

func (f DiskHeal) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		if d := n.madeDisk(); d != nil {
			d.failSyncs, d.failTorn = 0, false
			d.slow = nil
		}
	}
	return ""
}

func (f DiskCorrupt) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.point(onNode(n), PeriodDiskFault, at, "corrupt", detail)
	}
}

func (f DiskSlow) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.startUntil(onNode(n), PeriodDiskSlow, at, at+time.Duration(f.For), "slow disk", detail)
	}
}

func (f DiskFail) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.point(onNode(n), PeriodDiskFault, at, "sync fails", detail)
	}
}

// A disk heal ends the nodes' slow spells early.
func (f DiskHeal) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		s := onNode(n)
		t.closeKind(PeriodDiskSlow, &s, at, detail)
	}
}
