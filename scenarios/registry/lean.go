package registry

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
)

// regLean is the benchmarks' recording: instead of every push with its
// publishers (which grows with pushes x publishers), the last push per
// subscriber and the virtual latency from each publish to each subscriber
// first receiving it; the clients' own events in a compact form. The
// checkers need the full recording.
type regLean struct {
	last  map[subKey]*regnode.Datum // the last push per subscriber
	pubAt map[string]time.Duration  // when each data was published (the workload's data values are unique: c<client>-d<n>)
	evs   []leanEvent               // the clients' events
	// diffs: the publish times of the data new in a datum since another,
	// by the pair: a session pushes one datum to all its subscribers of
	// it, and most had the same one before.
	diffs   map[[2]*regnode.Datum][]time.Duration
	latency latencies
}

type subKey struct {
	client int
	sub    string
}

// leanEvent is a client event (client.record) in a fifth of an Event's
// size: only the fields client events carry. at is how many of the full
// history's events came before it, to merge the two in order.
type leanEvent struct {
	at                        int
	t                         int64
	client                    int
	kind                      regcheck.Kind
	dataID, regID, data, node string
	version                   uint64
}

func newRegLean() *regLean {
	return &regLean{last: map[subKey]*regnode.Datum{}, pubAt: map[string]time.Duration{}}
}

// record keeps a client event (rec holds the others) and the time of a
// publish.
func (l *regLean) record(rec *regcheck.History, ev regcheck.Event) {
	l.evs = append(l.evs, leanEvent{at: len(rec.Events), t: ev.T, client: ev.Client, kind: ev.Kind,
		dataID: ev.DataID, regID: ev.RegID, data: ev.Data, node: ev.Node, version: ev.Version})
	if ev.Kind == regcheck.Publish {
		l.pubAt[ev.Data] = time.Duration(ev.T)
	}
}

// latencyStep is the latencies' resolution: a count per 0.1 ms instead of
// a sample per delivery (millions of 8-byte samples were a fifth of the
// benchmark's heap).
const latencyStep = 100 * time.Microsecond

// latencies is a histogram of virtual push latencies in latencyStep
// buckets, exact up to the step.
type latencies struct {
	counts []uint32
	n      int
}

func (h *latencies) add(d time.Duration) {
	i := int(max(d, 0) / latencyStep)
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint32, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
}

// at is the k-th smallest latency (0-based), rounded down to the step.
func (h *latencies) at(k int) time.Duration {
	for i, c := range h.counts {
		if k < int(c) {
			return time.Duration(i) * latencyStep
		}
		k -= int(c)
	}
	return time.Duration(len(h.counts)) * latencyStep
}

// maxDiffs bounds the remembered diffs (they are dropped all at once).
const maxDiffs = 256

// push compares the datum with the subscriber's previous one: a publisher
// whose data is new to the subscriber was delivered now.
func (l *regLean) push(client int, sub string, d *regnode.Datum, now time.Duration) {
	k := subKey{client, sub}
	prev := l.last[k]
	l.last[k] = d
	pair := [2]*regnode.Datum{prev, d}
	times, ok := l.diffs[pair]
	if !ok {
		if len(l.diffs) >= maxDiffs || l.diffs == nil {
			l.diffs = map[[2]*regnode.Datum][]time.Duration{}
		}
		times = l.published(prev, d)
		l.diffs[pair] = times
	}
	for _, t := range times {
		l.latency.add(now - t)
	}
}

// published is the publish times of the data in d that prev lacks (both
// sorted by registerId).
func (l *regLean) published(prev, d *regnode.Datum) []time.Duration {
	var old []regnode.PubData
	if prev != nil {
		old = prev.Pubs
	}
	var times []time.Duration
	j := 0
	for _, p := range d.Pubs {
		// Mostly the same publishers as before: equal strings (often the
		// very same) compare faster than ordered ones.
		for j < len(old) && old[j].RegID != p.RegID && old[j].RegID < p.RegID {
			j++
		}
		if j < len(old) && old[j].RegID == p.RegID && old[j].Data == p.Data {
			continue
		}
		if t, ok := l.pubAt[p.Data]; ok {
			times = append(times, t)
		}
	}
	return times
}

// events is the recorded history (rec, with the clients' events merged
// back in order) with each subscriber's last push added.
func (l *regLean) events(rec []regcheck.Event, end time.Duration) []regcheck.Event {
	out := make([]regcheck.Event, 0, len(rec)+len(l.evs)+len(l.last))
	i := 0
	for _, e := range l.evs {
		out = append(out, rec[i:e.at]...)
		i = e.at
		out = append(out, regcheck.Event{Kind: e.kind, T: e.t, Client: e.client, DataID: e.dataID, RegID: e.regID,
			Data: e.data, Node: e.node, Version: e.version})
	}
	out = append(out, rec[i:]...)
	keys := slices.SortedFunc(maps.Keys(l.last), func(a, b subKey) int {
		return cmp.Or(strings.Compare(strconv.Itoa(a.client), strconv.Itoa(b.client)), strings.Compare(a.sub, b.sub))
	})
	for _, k := range keys {
		d := l.last[k]
		ev := regcheck.Event{Kind: regcheck.Push, T: int64(end), Client: k.client, DataID: d.DataID, RegID: k.sub, Version: d.Version}
		for _, p := range d.Pubs {
			ev.Pubs = append(ev.Pubs, p.RegID+"="+p.Data)
			ev.PubVers = append(ev.PubVers, p.Version)
		}
		out = append(out, ev)
	}
	return out
}
