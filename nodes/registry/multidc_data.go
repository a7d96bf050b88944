package registry

// A data server's side of multi-data-centre sync (multidc.go): it serves
// its own slots' datums to the remote data servers that sync from it and
// announces their changes; it syncs the remote data centres' datums of the
// slots it leads and serves them to its sessions under RemoteID.

import (
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// dataMultiDC is a data server's multi-data-centre state.
type dataMultiDC struct {
	remotes map[string]*remoteData
	// syncers: remote data servers that synced from this one, by the
	// connection they use: they hear of its changes.
	syncers map[sim.ConnID]sim.NodeID
	next    uint64
	sw      switches
	askedSw time.Duration // when the switches were last asked for (monotonic)
}

// remoteData is what a data server holds of one remote data centre.
type remoteData struct {
	table  Table
	slots  map[int]*remoteSlot     // the slots this server leads here
	datums map[string]*remoteDatum // by the remote dataInfoId
}

type remoteSlot struct {
	leader   Proc // the remote leader it syncs from
	synced   bool // a full sync succeeded since the leader last changed
	full     syncTask
	ids      syncTask
	idsSent  []string
	lastFull time.Duration // when the last full sync started
	pending  map[string]bool
}

type syncTask struct {
	req    uint64
	sentAt time.Duration
}

type remoteDatum struct {
	src     uint64 // the remote leader's version
	version uint64 // this cluster's version of it
	pubs    []PubData
}

type (
	remoteWatchTick struct{}
	remoteFetchTick struct{}
)

func (d *DataServer) startMultiDC() {
	d.mdc = dataMultiDC{remotes: map[string]*remoteData{}, syncers: map[sim.ConnID]sim.NodeID{}}
	mc := d.cfg.MultiDC
	for _, r := range mc.Remotes {
		d.mdc.remotes[r.Name] = &remoteData{slots: map[int]*remoteSlot{}, datums: map[string]*remoteDatum{}}
	}
	d.mdc.sw.start(d.env, mc)
	if len(mc.Remotes) > 0 {
		d.fetchSwitches() // at once: remote syncs wait for them
		d.env.SetTimer(mc.WatchInterval, remoteWatchTick{})
		d.env.SetTimer(d.cfg.HeartbeatInterval, remoteFetchTick{})
	}
}

func (d *DataServer) multiDCTimer(tag any) bool {
	switch tag.(type) {
	case remoteWatchTick:
		d.env.SetTimer(d.cfg.MultiDC.WatchInterval, remoteWatchTick{})
		d.watchRemote()
	case switchReloadTick:
		d.reloadSwitches()
	case remoteFetchTick:
		d.env.SetTimer(d.cfg.HeartbeatInterval, remoteFetchTick{})
		have := map[string]uint64{}
		for _, name := range sortedKeys(d.mdc.remotes) {
			have[name] = d.mdc.remotes[name].table.Epoch
		}
		for _, id := range d.cfg.Metas {
			d.m.peers.send(id, &RemoteTableFetch{Have: have})
		}
	default:
		return false
	}
	return true
}

func (d *DataServer) multiDCMessage(c sim.ConnID, from sim.NodeID, msg any) bool {
	switch x := msg.(type) {
	case *GetDatum:
		if _, _, ok := splitRemote(x.DataID); !ok {
			return false
		}
		d.getRemote(c, x)
	case *RemoteTables:
		for _, name := range sortedKeys(x.Tables) {
			if r := d.mdc.remotes[name]; r != nil && x.Tables[name].Epoch > r.table.Epoch {
				r.table = copyTable(x.Tables[name])
			}
		}
		d.watchRemote()
	case *RemoteSyncReq:
		d.mdc.syncers[c] = from
		d.env.Send(c, d.remoteDiff(x))
	case *RemoteSyncResp:
		d.onRemoteSync(x)
	case *ProvideAnswer:
		if len(d.cfg.MultiDC.Remotes) == 0 {
			return false
		}
		d.mdc.sw.read(d.env, x.Data)
	case *RemoteChanged:
		// dataChangeNotify: nothing while the sync is off, only what the
		// switches accept
		if sw := d.notifySwitch(d.mdc.sw.of(x.DataCenter)); d.mdc.remotes[x.DataCenter] != nil && sw.Sync {
			r := d.mdc.remotes[x.DataCenter]
			for _, id := range sw.filter(x.DataIDs) {
				if st := r.slots[d.m.slotOf(id)]; st != nil {
					st.add(id)
				}
			}
		}
	default:
		return false
	}
	return true
}

// watchRemote follows the slots this server leads, and starts the syncs
// that are due (MultiClusterSlotManagerImpl's watch dog).
func (d *DataServer) watchRemote() {
	mc := d.cfg.MultiDC
	now := d.env.Monotonic()
	if !d.mdc.sw.loaded { // a (re)started server syncs nothing before it knows the switches
		if now-d.mdc.askedSw >= mc.RPCTimeout {
			d.fetchSwitches()
		}
		return
	}
	for _, r := range mc.Remotes {
		rd, sw := d.mdc.remotes[r.Name], d.mdc.sw.of(r.Name)
		idsw := d.notifySwitch(sw) // what an announced change is synced by
		for _, slot := range slices.Sorted(maps.Keys(rd.slots)) {
			if s := d.slots[slot]; s == nil || !s.leader || slot >= len(rd.table.Slots) {
				delete(rd.slots, slot) // no longer ours: its remote data goes with it
				maps.DeleteFunc(rd.datums, func(id string, _ *remoteDatum) bool { return d.m.slotOf(id) == slot })
			}
		}
		for slot := 0; slot < len(rd.table.Slots); slot++ {
			if s := d.slots[slot]; s == nil || !s.leader {
				continue
			}
			st := rd.slots[slot]
			if st == nil {
				st = &remoteSlot{}
				rd.slots[slot] = st
			}
			if l := rd.table.Slots[slot].Leader; l != st.leader {
				*st = remoteSlot{leader: l} // a new remote leader: sync it all again
			}
			if st.leader == (Proc{}) || !idsw.Sync { // doSyncRemoteLeader skips a data centre whose sync is off
				continue
			}
			to := sim.NodeID(st.leader.ID)
			if st.ids.req != 0 && now-st.ids.sentAt >= mc.RPCTimeout {
				st.ids.req = 0
				for _, id := range st.idsSent {
					st.add(id) // failed: pending again
				}
			}
			if st.ids.req == 0 && len(st.pending) > 0 {
				st.idsSent = idsw.filter(sortedKeys(st.pending))
				st.pending = nil
				if len(st.idsSent) > 0 {
					st.ids = d.sendRemoteSync(to, rd, idsw, slot, st.idsSent)
				}
			}
			if !sw.Sync {
				continue
			}
			if st.full.req != 0 && now-st.full.sentAt >= mc.RPCTimeout {
				st.full.req = 0
				d.env.Reached("registry/multidc-sync-timeout")
			}
			if st.full.req == 0 && (st.lastFull == 0 || now-st.lastFull >= mc.SyncInterval) {
				if _, bug := d.env.Failpoint(BugMultiDCNoResync); bug && st.synced {
					continue
				}
				st.lastFull = now
				st.full = d.sendRemoteSync(to, rd, sw, slot, nil)
			}
		}
	}
}

// notifySwitch is the switch announced changes are synced by: sw, or with
// BugMultiDCNotifyBypass every one.
func (d *DataServer) notifySwitch(sw MultiDCSwitch) MultiDCSwitch {
	if sw.Sync && slices.Contains(sw.DataIDs, AcceptAll) && len(sw.Ignore) == 0 {
		return sw // nothing to bypass
	}
	if _, bug := d.env.Failpoint(BugMultiDCNotifyBypass); bug {
		return DefaultMultiDCSwitch
	}
	return sw
}

func (st *remoteSlot) add(id string) {
	if st.pending == nil {
		st.pending = map[string]bool{}
	}
	st.pending[id] = true
}

// sendRemoteSync asks the remote leader for the slot's datums (only: those)
// that sw accepts; what it does not accept is left as it is.
func (d *DataServer) sendRemoteSync(to sim.NodeID, rd *remoteData, sw MultiDCSwitch, slot int, only []string) syncTask {
	d.mdc.next++
	req := &RemoteSyncReq{ReqID: d.mdc.next, Slot: slot, Epoch: rd.table.Epoch, Only: only, Have: map[string]uint64{}, Accept: sw}
	for id, x := range rd.datums { //detlint:allow fills a map: the order does not matter
		if d.m.slotOf(id) == slot && (only == nil || slices.Contains(only, id)) && sw.accepts(id) {
			req.Have[id] = x.src
		}
	}
	d.m.peers.send(to, req)
	return syncTask{req: req.ReqID, sentAt: d.env.Monotonic()}
}

// remoteDiff answers a remote data server's sync of one of our slots.
func (d *DataServer) remoteDiff(x *RemoteSyncReq) *RemoteSyncResp {
	resp := &RemoteSyncResp{ReqID: x.ReqID, DataCenter: d.cfg.MultiDC.DataCenter, Slot: x.Slot, Status: d.access(x.Slot, x.Epoch)}
	if resp.Status != Accept {
		return resp
	}
	ids := x.Only
	if ids == nil {
		ids = sortedKeys(d.inSlot[x.Slot])
	}
	for _, id := range x.Accept.filter(ids) {
		if y := d.datums[id]; y != nil && d.m.slotOf(id) == x.Slot {
			if y.version != x.Have[id] {
				resp.Datums = append(resp.Datums, d.view(id))
			}
		}
	}
	for _, id := range sortedKeys(x.Have) {
		if d.datums[id] == nil {
			resp.Removed = append(resp.Removed, id)
		}
	}
	return resp
}

// onRemoteSync applies a remote leader's answer.
func (d *DataServer) onRemoteSync(x *RemoteSyncResp) {
	rd := d.mdc.remotes[x.DataCenter]
	if rd == nil {
		return
	}
	st := rd.slots[x.Slot]
	if st == nil {
		return
	}
	full := st.full.req == x.ReqID
	switch {
	case full:
		st.full.req = 0
	case st.ids.req == x.ReqID:
		st.ids.req = 0
		if x.Status != Accept {
			for _, id := range st.idsSent {
				st.add(id)
			}
		}
	default:
		return // given up already
	}
	if x.Status != Accept {
		d.env.Reached("registry/multidc-sync-refused")
		return
	}
	// The switches as they are now, not as when the sync was asked: an
	// answer held up past a sync-off or a new ignore changes nothing.
	sw := d.mdc.sw.of(x.DataCenter)
	if !full {
		sw = d.notifySwitch(sw)
	}
	if !sw.Sync {
		return
	}
	for _, v := range x.Datums {
		if sw.accepts(v.DataID) {
			d.putRemote(x.DataCenter, rd, v.DataID, v.Version, v.Pubs)
		}
	}
	for _, id := range x.Removed {
		if sw.accepts(id) {
			d.putRemote(x.DataCenter, rd, id, 0, nil)
		}
	}
	if full && !st.synced {
		st.synced = true
		d.env.Reached("registry/multidc-slot-synced")
	}
}

// putRemote stores a remote datum when its content changed, under a local
// version, and announces it to the sessions.
func (d *DataServer) putRemote(dc string, rd *remoteData, id string, src uint64, pubs []PubData) {
	cur := rd.datums[id]
	if cur == nil {
		cur = &remoteDatum{}
		rd.datums[id] = cur
	} else if cur.src == src && slices.Equal(cur.pubs, pubs) {
		return
	}
	cur.src, cur.pubs = src, slices.Clone(pubs)
	d.bumpRemote(dc, id, cur, 0)
}

// bumpRemote gives a remote datum a new local version past seen and
// announces it.
func (d *DataServer) bumpRemote(dc, id string, x *remoteDatum, seen uint64) {
	wall := uint64(d.env.Now().UnixMilli())
	x.version = max(x.version+1, wall, seen+1)
	rid := RemoteID(dc, id)
	d.env.Trace("registry/remote-datum", rid, x.version, len(x.pubs))
	d.notes.add(rid, x.version)
}

func (d *DataServer) remoteView(dc, id string, x *remoteDatum) *Datum {
	return &Datum{DataID: RemoteID(dc, id), Version: x.version, Pubs: slices.Clone(x.pubs)}
}

// getRemote answers a session's fetch of a remote datum: Migrating until
// the slot's first full sync (checkSlotAccess of the remote slot).
func (d *DataServer) getRemote(c sim.ConnID, g *GetDatum) {
	dc, id, _ := splitRemote(g.DataID)
	resp := &GetDatumResp{ReqID: g.ReqID, Status: d.access(d.m.slotOf(id), g.Epoch)}
	if resp.Status == Accept {
		if x := d.remoteFor(dc, id, g.Have, g.Digest); x == nil {
			resp.Status = Migrating
		} else {
			resp.Datum = d.remoteView(dc, id, x)
		}
	}
	d.env.Send(c, resp)
}

// remoteFor is a remote datum as a session holding have (with digest)
// reads it, nil until the slot's first full sync; nothing synced is an
// empty datum at version 0. A session holding another leader's version
// moves it past that.
func (d *DataServer) remoteFor(dc, id string, have, digest uint64) *remoteDatum {
	rd := d.mdc.remotes[dc]
	if rd == nil || rd.slots[d.m.slotOf(id)] == nil || !rd.slots[d.m.slotOf(id)].synced {
		return nil
	}
	x := rd.datums[id]
	if x == nil {
		x = &remoteDatum{}
	}
	if have > x.version || (have == x.version && have > 0 && digest != d.remoteView(dc, id, x).Digest()) {
		rd.datums[id] = x
		d.bumpRemote(dc, id, x, have)
	}
	return x
}

// notifyRemote tells the remote data servers syncing from this one which
// of its datums changed since the last replication batch.
func (d *DataServer) notifyRemote() {
	if len(d.mdc.syncers) == 0 || len(d.dirty) == 0 {
		return
	}
	var ids []string
	for _, id := range sortedKeys(d.dirty) {
		if d.access(d.m.slotOf(id), 0) == Accept {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	for _, c := range slices.Sorted(maps.Keys(d.mdc.syncers)) {
		if !d.env.Send(c, &RemoteChanged{DataCenter: d.cfg.MultiDC.DataCenter, DataIDs: ids}) {
			delete(d.mdc.syncers, c)
		}
	}
}
