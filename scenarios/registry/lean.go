package registry

import (
	"sort"
	"strconv"
	"strings"
	"time"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
)

// regLean is the benchmarks' recording: instead of every push with its
// publishers (which grows with pushes x publishers), the last push per
// subscriber and the virtual latency from each publish to each subscriber
// first receiving it. The checkers need the full recording.
type regLean struct {
	last    map[string]*regnode.Datum // "client/sub" -> last push
	pubAt   map[string]time.Duration  // "pub=data" -> when it was published
	latency latencies
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

// push compares the datum with the subscriber's previous one (both sorted
// by registerId): a publisher whose data is new to the subscriber was
// delivered now.
func (l *regLean) push(client int, sub string, d *regnode.Datum, now time.Duration) {
	k := strconv.Itoa(client) + "/" + sub
	prev := l.last[k]
	l.last[k] = d
	var old []regnode.PubData
	if prev != nil {
		old = prev.Pubs
	}
	j := 0
	for _, p := range d.Pubs {
		for j < len(old) && old[j].RegID < p.RegID {
			j++
		}
		if j < len(old) && old[j].RegID == p.RegID && old[j].Data == p.Data {
			continue
		}
		if t, ok := l.pubAt[p.RegID+"="+p.Data]; ok {
			l.latency.add(now - t)
		}
	}
}

// events is the recorded history with each subscriber's last push added.
func (l *regLean) events(rec []regcheck.Event, end time.Duration) []regcheck.Event {
	out := append([]regcheck.Event(nil), rec...)
	keys := make([]string, 0, len(l.last))
	for k := range l.last {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cl, sub, _ := strings.Cut(k, "/")
		n, _ := strconv.Atoi(cl)
		d := l.last[k]
		ev := regcheck.Event{Kind: regcheck.Push, T: int64(end), Client: n, DataID: d.DataID, RegID: sub, Version: d.Version}
		for _, p := range d.Pubs {
			ev.Pubs = append(ev.Pubs, p.RegID+"="+p.Data)
			ev.PubVers = append(ev.PubVers, p.Version)
		}
		out = append(out, ev)
	}
	return out
}
