package registry

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"weak"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	"github.com/sofasim/sofasim/internal/intern"
	regnode "github.com/sofasim/sofasim/nodes/registry"
)

// regLean is the benchmarks' recording: instead of every push with its
// publishers (which grows with pushes x publishers), the last push per
// subscriber and the virtual latency from each publish to each subscriber
// first receiving it; the clients' own events in a compact form. The
// checkers need the full recording.
type regLean struct {
	last  map[subKey]*regnode.Datum // the last push per subscriber
	pubAt pubTimes                  // when each data was published
	evs   [][]leanEvent             // the clients' events, in chunks of leanChunk (a growing slice keeps up to half its size spare)
	names intern.Table[string]      // the events' dataInfoIds and session names (a thousand and a hundred among 10,000 clients)
	kinds []regcheck.Kind           // the events' kinds, by leanEvent.kind
	// diffs: the publish times of the data new in a datum since another,
	// by the pair: a session pushes one datum to all its subscribers of
	// it, and most had the same one before; the sessions share a datum
	// their data server answered them all with. Keyed by weak pointers, so
	// that the memos keep no datum alive (strong keys held 1.2 KB a client
	// of old datums once the memos were large enough for the sessions'
	// pushes to meet in them).
	diffs map[[2]weak.Pointer[regnode.Datum]][]time.Duration
	// at: the publish time of each publisher of a datum (-1: none), by
	// datum, looked up once a datum rather than once a push that missed
	// diffs (a datum is pushed by every session that fetched it).
	at      map[weak.Pointer[regnode.Datum]][]time.Duration
	weak    [2]weakOf // the last two datums' weak pointers (weakOf)
	latency latencies
}

type weakOf struct {
	d *regnode.Datum
	w weak.Pointer[regnode.Datum]
}

// weakOf is weak.Make(d), remembered for the last two datums: a session
// pushes one datum to its subscribers of it in a row, most of whom had the
// same one before, and weak.Make takes a lock each time. (The two are
// kept alive until replaced.)
func (l *regLean) weakOf(d *regnode.Datum) weak.Pointer[regnode.Datum] {
	for _, e := range l.weak {
		if e.d == d {
			return e.w
		}
	}
	w := weak.Make(d)
	l.weak[1], l.weak[0] = l.weak[0], weakOf{d, w}
	return w
}

type subKey struct {
	client int
	sub    string
}

// leanEvent is a client event (client.record) in an eighth of an Event's
// size: only the fields client events carry, the few distinct strings
// (dataInfoIds, session names, kinds) as indexes. at is how many of the
// full history's events came before it, to merge the two in order.
type leanEvent struct {
	t            int64
	version      uint64
	regID, data  string
	at           uint32
	dataID, node uint32
	ck           uint32 // client<<8 | kind: 64 bytes where a field each took 72
}

// leanChunk is the events a chunk holds.
const leanChunk = 4096

func newRegLean() *regLean {
	return &regLean{last: map[subKey]*regnode.Datum{}}
}

// record keeps a client event (rec holds the others) and the time of a
// publish.
func (l *regLean) record(rec *regcheck.History, ev regcheck.Event) {
	kind := slices.Index(l.kinds, ev.Kind)
	if kind < 0 {
		kind = len(l.kinds)
		l.kinds = append(l.kinds, ev.Kind)
	}
	if n := len(l.evs); n == 0 || len(l.evs[n-1]) == leanChunk {
		l.evs = append(l.evs, make([]leanEvent, 0, leanChunk))
	}
	last := &l.evs[len(l.evs)-1]
	*last = append(*last, leanEvent{at: uint32(len(rec.Events)), t: ev.T, ck: uint32(ev.Client)<<8 | uint32(kind),
		dataID: l.names.Of(ev.DataID), regID: ev.RegID, data: ev.Data, node: l.names.Of(ev.Node), version: ev.Version})
	if ev.Kind == regcheck.Publish {
		l.pubAt.set(ev.Data, time.Duration(ev.T))
	}
}

// pubTimes is when each data value was published. The workload's values
// are unique, c<client>-d<n> (decimal, no leading zeros): their times are
// kept by client and n, two slice indexes, where a map lookup for each
// publisher new to a subscriber was a tenth of the benchmark's CPU. Any
// other value is kept in a map.
type pubTimes struct {
	byClient [][]time.Duration // [client][n]: the time + 1 (0: not published)
	other    map[string]time.Duration
}

func (p *pubTimes) set(data string, t time.Duration) {
	c, n, ok := workloadData(data)
	if !ok {
		if p.other == nil {
			p.other = map[string]time.Duration{}
		}
		p.other[data] = t
		return
	}
	if c >= len(p.byClient) {
		p.byClient = append(p.byClient, make([][]time.Duration, c+1-len(p.byClient))...)
	}
	ts := p.byClient[c]
	if n >= len(ts) {
		ts = append(ts, make([]time.Duration, n+1-len(ts))...)
		p.byClient[c] = ts
	}
	ts[n] = t + 1
}

func (p *pubTimes) get(data string) (time.Duration, bool) {
	c, n, ok := workloadData(data)
	if !ok {
		t, ok := p.other[data]
		return t, ok
	}
	if c < len(p.byClient) && n < len(p.byClient[c]) && p.byClient[c][n] != 0 {
		return p.byClient[c][n] - 1, true
	}
	return 0, false
}

// workloadData parses a workload data value, c<client>-d<n>, with bounds
// that keep the slices small, in one pass: it runs for each publisher of
// every datum the recorder has not seen (strings.Cut and a second pass cost
// five times as much).
func workloadData(s string) (client, n int, ok bool) {
	if len(s) < 4 || s[0] != 'c' {
		return 0, 0, false
	}
	client, i, okc := decimalAt(s, 1)
	if !okc || i+1 >= len(s) || s[i] != '-' || s[i+1] != 'd' {
		return 0, 0, false
	}
	n, j, okn := decimalAt(s, i+2)
	return client, n, okn && j == len(s) && client < 1<<22 && n < 1<<12
}

// decimalAt parses the canonical decimal number (no sign, no leading
// zeros, at most 9 digits, so that each number has one spelling) that
// starts at s[i]; end is where its digits end.
func decimalAt(s string, i int) (v, end int, ok bool) {
	end = i
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		v = v*10 + int(s[end]-'0')
		end++
	}
	digits := end - i
	return v, end, digits > 0 && digits <= 9 && (s[i] != '0' || digits == 1)
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

// maxDiffs and maxAt bound the remembered diffs and times (each dropped
// all at once; variables for the test that passes them).
var maxDiffs, maxAt = 512, 128

// push compares the datum with the subscriber's previous one: a publisher
// whose data is new to the subscriber was delivered now.
func (l *regLean) push(client int, sub string, d *regnode.Datum, now time.Duration) {
	k := subKey{client, sub}
	prev := l.last[k]
	l.last[k] = d
	pair := [2]weak.Pointer[regnode.Datum]{l.weakOf(prev), l.weakOf(d)}
	times, ok := l.diffs[pair]
	if !ok {
		if len(l.diffs) >= maxDiffs || l.diffs == nil {
			l.diffs = map[[2]weak.Pointer[regnode.Datum]][]time.Duration{}
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
	at := l.timesOf(d)
	times := make([]time.Duration, 0, max(len(d.Pubs)-len(old), 1))
	j := 0
	for i := range d.Pubs {
		p := &d.Pubs[i] // not a copy of its five words
		// Mostly the same publishers as before: equal strings (often the
		// very same) compare faster than ordered ones.
		for j < len(old) && old[j].RegID != p.RegID && old[j].RegID < p.RegID {
			j++
		}
		if j < len(old) && old[j].RegID == p.RegID && old[j].Data == p.Data {
			continue
		}
		if at[i] >= 0 {
			times = append(times, at[i])
		}
	}
	return times
}

// timesOf is the publish time of each of d's publishers' data, -1 for
// data not published by the workload.
func (l *regLean) timesOf(d *regnode.Datum) []time.Duration {
	key := l.weakOf(d)
	if at, ok := l.at[key]; ok {
		return at
	}
	if len(l.at) >= maxAt || l.at == nil {
		l.at = map[weak.Pointer[regnode.Datum]][]time.Duration{}
	}
	at := make([]time.Duration, len(d.Pubs))
	for i := range d.Pubs {
		if t, ok := l.pubAt.get(d.Pubs[i].Data); ok {
			at[i] = t
		} else {
			at[i] = -1
		}
	}
	l.at[key] = at
	return at
}

// events is the recorded history (rec, with the clients' events merged
// back in order) with each subscriber's last push added.
func (l *regLean) events(rec []regcheck.Event, end time.Duration) []regcheck.Event {
	n := 0
	for _, chunk := range l.evs {
		n += len(chunk)
	}
	out := make([]regcheck.Event, 0, len(rec)+n+len(l.last))
	i := 0
	for _, chunk := range l.evs {
		for _, e := range chunk {
			out = append(out, rec[i:e.at]...)
			i = int(e.at)
			out = append(out, regcheck.Event{Kind: l.kinds[e.ck&0xff], T: e.t, Client: int(e.ck >> 8), DataID: l.names.At(e.dataID),
				RegID: e.regID, Data: e.data, Node: l.names.At(e.node), Version: e.version})
		}
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
