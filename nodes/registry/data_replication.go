package registry

// Leader-to-follower replication of changed datums, in batches.

import (
	"github.com/sofasim/sofasim/sim"
)

// replicate sends the datums changed since the last batch to the followers
// of their slots.
func (d *DataServer) replicate() {
	batches := map[sim.NodeID][]*replicaDatum{}
	for _, id := range sortedKeys(d.dirty) {
		x := d.datums[id]
		slot := d.m.slotOf(id)
		st := d.slots[slot]
		if x == nil || st == nil || !st.leader || slot >= len(d.m.table.Slots) {
			continue
		}
		f := sim.NodeID(d.m.table.Slots[slot].Follower.ID)
		if f == "" {
			continue
		}
		batches[f] = append(batches[f], copyReplica(x))
	}
	d.dirty = map[string]bool{}
	for _, f := range sortedKeysID(batches) {
		d.m.peers.send(f, &Replicate{Epoch: d.m.table.Epoch, Datums: batches[f]})
	}
}

// copyReplica is the datum as replicated: its maps, shared until either
// side changes them (datum.own).
func copyReplica(x *datum) *replicaDatum {
	x.shared = sharedAll
	return &replicaDatum{DataID: x.id, Version: x.version, Pubs: x.pubs, Tombs: x.tombs, Gone: x.gone}
}

// install makes a replica the datum's copy, sharing its maps.
func (x *datum) install(rd *replicaDatum) {
	x.version = rd.Version
	x.pubs, x.tombs, x.gone, x.shared = rd.Pubs, rd.Tombs, rd.Gone, sharedAll
	x.built, x.edits, x.scanned = nil, nil, false // all new: nothing to patch
	x.digs.staleAll()
}

// onReplicate installs a leader's copies of datums this server follows,
// unless it holds a newer version.
func (d *DataServer) onReplicate(r *Replicate) {
	for _, rd := range r.Datums {
		st := d.slots[d.m.slotOf(rd.DataID)]
		if st == nil || st.leader {
			continue // we lead it now (or hold nothing): our copy rules
		}
		x := d.get(rd.DataID)
		if rd.Version < x.version {
			continue
		}
		x.install(rd)
	}
}

type followerSyncTick struct{}

// followerSync sends each slot's leader the versions this follower holds.
func (d *DataServer) followerSync() {
	for i := 0; i < len(d.m.table.Slots); i++ {
		st := d.slots[i]
		if st == nil || st.leader {
			continue
		}
		fd := &FollowerDigest{Epoch: d.m.table.Epoch, Slot: i, Versions: map[string]uint64{}}
		for _, id := range sortedKeys(d.inSlot[i]) {
			fd.Versions[id] = d.datums[id].version
		}
		d.m.peers.send(d.m.leaderOf(i), fd)
	}
}

// onFollowerDigest sends a follower the datums of a slot it leads whose
// versions the follower does not hold.
func (d *DataServer) onFollowerDigest(f *FollowerDigest) {
	if d.access(f.Slot, f.Epoch) != Accept || f.Slot >= len(d.m.table.Slots) {
		return
	}
	var diff []*replicaDatum
	for _, id := range sortedKeys(d.inSlot[f.Slot]) {
		if x := d.datums[id]; f.Versions[id] != x.version {
			diff = append(diff, copyReplica(x))
		}
	}
	if len(diff) > 0 {
		d.env.Reached("registry/follower-sync-repaired")
		d.m.peers.send(sim.NodeID(d.m.table.Slots[f.Slot].Follower.ID), &Replicate{Epoch: d.m.table.Epoch, Datums: diff})
	}
}
