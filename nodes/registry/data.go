package registry

import (
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// DataServer stores the publishers of the slots it leads or follows.
type DataServer struct {
	sim.BaseNode
	cfg    Config
	m      member
	env    *sim.Env
	slots  map[int]*slotState
	datums map[string]*datum
	inSlot map[int]map[string]struct{} // slot -> the dataInfoIds held in it (a set: a bool would add a third to each entry)
	dirty  map[string]bool             // changed since the last replication batch
	// leases: session processes whose publishers stay, by when last
	// renewed; sessConns: the session process that spoke on a connection.
	leases    map[Proc]time.Duration
	sessConns map[sim.ConnID]Proc
	// snaps: per session process and slot, the table epoch of the newest
	// snapshot of its publishers applied (a migration answer or a sync).
	snaps  map[Proc][]slotEpoch
	epochs epochTable // the epochs snaps name
	// digs: per slot, the sync digests of each session's publishers
	// (perf_sync.go); digBuf is their rebuild's scratch.
	digs   map[int]*slotDigs
	digBuf []Pub
	procs  procRefs // the session processes the datums' publishers point at (through their slot's slotDigs)

	ops   dataOps     // graceful quit, session-off (ops_data.go)
	mdc   dataMultiDC // remote data centres (multidc_data.go)
	notes notifier    // changes not yet announced to the sessions (perf_notify.go)
	ids   nextID      // version=nextid: this process's id generator (data_version.go)
}

type slotState struct {
	leader  bool
	status  Status
	waiting map[Proc]*migTask // sessions a migrating slot still waits for
	forced  int               // sessions taken as answered (emergencyMigrations)
}

type (
	replTick    struct{}
	migrateTick struct{}
)

func (d *DataServer) Start(env *sim.Env) {
	d.env = env
	d.clearState()
	d.m = member{cfg: d.cfg, onTable: func(old Table) { d.forgetViews(); d.onTable(old); d.announceToJoined(old) }}
	d.startOps()
	d.m.start(env, "data")
	d.cfg = d.m.cfg
	env.SetTimer(d.cfg.ReplicateInterval, replTick{})
	env.SetTimer(d.cfg.RetryInterval*3, migrateTick{})
	env.SetTimer(d.cfg.SessionLeaseCheck, leaseTick{})
	env.SetTimer(d.cfg.FollowerSyncInterval, followerSyncTick{})
	d.startMultiDC()
}

// clearState empties what the server holds: a restart keeps nothing.
func (d *DataServer) clearState() {
	d.slots, d.datums, d.dirty = map[int]*slotState{}, map[string]*datum{}, map[string]bool{}
	d.inSlot, d.digs, d.procs = map[int]map[string]struct{}{}, map[int]*slotDigs{}, procRefs{}
	d.leases, d.sessConns, d.snaps, d.epochs = map[Proc]time.Duration{}, map[sim.ConnID]Proc{}, map[Proc][]slotEpoch{}, epochTable{}
}

// DataStatus is what a harness samples.
type DataStatus struct {
	Proc      Proc
	Epoch     uint64
	Leading   []int // slots served (Accept)
	Migrating []int
}

// Status walks the slots held, not every slot number: harnesses sample it
// often.
func (d *DataServer) Status() DataStatus {
	st := DataStatus{Proc: d.m.proc, Epoch: d.m.table.Epoch}
	for i, s := range d.slots { //detlint:allow collecting; sorted below
		if i < d.cfg.Slots && s != nil && s.leader {
			if s.status == Accept {
				st.Leading = append(st.Leading, i)
			} else {
				st.Migrating = append(st.Migrating, i)
			}
		}
	}
	slices.Sort(st.Leading)
	slices.Sort(st.Migrating)
	return st
}

func (d *DataServer) Closed(c sim.ConnID, peer sim.NodeID) {
	d.m.peers.closed(c)
	delete(d.sessConns, c)
	delete(d.mdc.syncers, c)
	d.sessionClosed(peer)
}

func (d *DataServer) Timer(_ sim.TimerID, tag any) {
	defer d.notifyChanges()
	if d.opsMessage("", tag) || d.multiDCTimer(tag) {
		return
	}
	switch tag.(type) {
	case replTick:
		d.notifyRemote()
		d.replicate()
		d.env.SetTimer(d.cfg.ReplicateInterval, replTick{})
	case migrateTick:
		d.emergencyMigrations()
		d.finishMigrations()
		d.askMigration(nil)
		d.env.SetTimer(d.cfg.RetryInterval*3, migrateTick{})
	case followerSyncTick:
		d.followerSync()
		d.env.SetTimer(d.cfg.FollowerSyncInterval, followerSyncTick{})
	case leaseTick:
		d.checkLeases()
		d.env.SetTimer(d.cfg.SessionLeaseCheck, leaseTick{})
	case notifyTick:
		d.notes.armed = false
	default:
		d.m.handle(tag)
	}
}

func (d *DataServer) Message(c sim.ConnID, from sim.NodeID, msg any) {
	defer d.notifyChanges()
	if d.opsMessage(from, msg) || d.multiDCMessage(c, from, msg) || d.m.handle(msg) {
		return
	}
	switch x := msg.(type) {
	case *DataWrite:
		d.heard(c, x.Session)
		d.env.Send(c, &DataWriteResp{ReqID: x.ReqID, Status: d.takeWrite(x)})
	case *GetDatum:
		st := d.access(d.m.slotOf(x.DataID), x.Epoch)
		resp := &GetDatumResp{ReqID: x.ReqID, Status: st}
		if st == Accept {
			d.repairFor(x.DataID, x.Have, x.Digest)
			resp.Datum = d.view(x.DataID)
		}
		d.env.Send(c, resp)
	case *GetVersions:
		d.onGetVersions(c, x)
	case *SlotDigest:
		d.heard(c, x.Session)
		d.env.Send(c, d.onDigest(x))
	case *MigrateResp:
		d.heard(c, x.Session)
		d.onMigrateResp(x)
	case *FollowerDigest:
		d.onFollowerDigest(x)
	case *Replicate:
		d.onReplicate(x)
	}
}

func (d *DataServer) access(slot int, epoch uint64) Status {
	if epoch > d.m.table.Epoch {
		return MisMatch
	}
	s := d.slots[slot]
	switch {
	case s == nil || !s.leader:
		return Moved
	case s.status != Accept:
		return Migrating
	}
	return Accept
}
