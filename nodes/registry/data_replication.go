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
		r := &replicaDatum{DataID: id, Version: x.version, Pubs: map[string]Pub{}, Tombs: map[string]uint64{}, Gone: map[string]Pub{}}
		for k, v := range x.pubs { //detlint:allow copying a map: order does not matter
			r.Pubs[k] = v
		}
		for k, v := range x.tombs { //detlint:allow copying a map: order does not matter
			r.Tombs[k] = v
		}
		for k, v := range x.gone { //detlint:allow copying a map: order does not matter
			r.Gone[k] = v
		}
		batches[f] = append(batches[f], r)
	}
	d.dirty = map[string]bool{}
	for _, f := range sortedKeysID(batches) {
		d.m.peers.send(f, &Replicate{Epoch: d.m.table.Epoch, Datums: batches[f]})
	}
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
		x.version = rd.Version
		x.pubs, x.tombs, x.gone = map[string]Pub{}, map[string]uint64{}, map[string]Pub{}
		for k, v := range rd.Pubs { //detlint:allow copying a map: order does not matter
			x.pubs[k] = v
		}
		for k, v := range rd.Tombs { //detlint:allow copying a map: order does not matter
			x.tombs[k] = v
		}
		for k, v := range rd.Gone { //detlint:allow copying a map: order does not matter
			x.gone[k] = v
		}
	}
}
