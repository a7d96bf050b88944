package sim

import (
	"math"
	"math/bits"
)

// event kinds.
const (
	evStart      uint8 = iota + 1 // node start: node
	evDeliver                     // head of a connection direction: a=conn, b=dir
	evConnClose                   // tell an end its connection closed: a=conn, b=end
	evKeepalive                   // keepalive check: a=conn, b=end, c=block generation
	evConnectEnd                  // connect timeout: a=conn
	evDatagram                    // datagram: node=to, a=from, p=msg
	evTimer                       // timer: node, a=timer id, b=clock generation
	evFault                       // fault: p=*Fault; it and the kinds after it are no node's (dispatchWorld)
	evCall                        // harness callback: p=func()
	evExpire                      // a timed link rule expired
)

var kindNames = [...]string{"", "start", "deliver", "conn-close", "keepalive", "connect-timeout",
	"datagram", "timer", "fault", "call", "expire"}

// event is a new event as code schedules it (push); the queues and the
// world's handlers use its packed form, entry.
type event struct {
	at   int64 // virtual ns
	kind uint8
	node int32
	inc  uint32 // target incarnation, 0 = any
	a, b uint64
	c    uint64
	p    any
}

// entry is an event as the queues hold it and the world handles it: four
// words and no pointers, so that a queue of millions stays compact, the
// garbage collector never scans it, and the compiler keeps an entry in
// registers and copies it word by word (a fifth word made it copy entries
// through the stack with overlapping 16-byte moves that stalled on store
// forwarding, a quarter of ping-pong's time).
//
//   - key is seq<<8 | bit<<4 | kind, which orders exactly as seq does; bit
//     is a connection direction or end.
//   - a is an id (a connection, a timer, a sending node) in its low 40 bits
//     and, for timers and keepalives, a generation (mod 2^24) above.
//   - x is the node in its low 32 bits and above them the target
//     incarnation (0: any) or, for events with a payload, its index in the
//     payload table.
type entry struct {
	at  int64
	key uint64
	a   uint64
	x   uint64
}

const (
	idBits  = 40
	idMask  = 1<<idBits - 1
	genMask = 1<<(64-idBits) - 1
	bitFlag = 1 << 4
)

func (e *entry) kind() uint8 { return uint8(e.key & 0x0f) }
func (e *entry) bit() int    { return int(e.key>>4) & 1 }
func (e *entry) id() uint64  { return e.a & idMask }
func (e *entry) gen() uint64 { return e.a >> idBits }
func (e *entry) node() int32 { return int32(uint32(e.x)) }
func (e *entry) hi() uint64  { return e.x >> 32 }
func (e *entry) inc() uint32 {
	if hasPayload(e.kind()) {
		return 0
	}
	return uint32(e.x >> 32)
}

// sameGen compares a generation carried in an entry with the current one.
func sameGen(carried, current uint64) bool { return carried == current&genMask }

// checkID panics on an id that an entry cannot carry: 2^40 connections or
// timers in one world, far beyond any run.
func checkID(id uint64) {
	if id > idMask {
		panic("sim: more than 2^40 connections or timers in one world")
	}
}

func (e *entry) less(o *entry) bool {
	return e.at < o.at || e.at == o.at && e.key < o.key
}

// lt is less as 0 or 1 without a branch: the borrow out of subtracting
// (at, key) as one 128-bit number (at with its sign bit flipped, so that
// it compares as unsigned).
func lt(e, o *entry) uint64 {
	_, b := bits.Sub64(e.key, o.key, 0)
	_, b = bits.Sub64(uint64(e.at)^1<<63, uint64(o.at)^1<<63, b)
	return b
}

// least4 returns the index of the least of four entries. In a heap that
// fits in the caches, it compares without branches: sifting down through
// random keys, a branch would be mispredicted at every other comparison.
// In a larger one, cache misses dominate, and the branches let the
// processor load the next level before the comparisons resolve.
func least4(k []entry, big bool) int {
	k = k[:4:4]
	if big {
		a, b := 0, 2
		if k[1].less(&k[0]) {
			a = 1
		}
		if k[3].less(&k[2]) {
			b = 3
		}
		if k[b].less(&k[a]) {
			a = b
		}
		return a
	}
	a := lt(&k[1], &k[0])
	b := 2 + lt(&k[3], &k[2])
	return int(a ^ (a^b)&-lt(&k[b&3], &k[a&1]))
}

// bigHeap is the heap size (in entries, 32 bytes each) beyond which
// least4 branches. In a hold loop (pop, push 0.2 to 2 ms later; see
// BenchmarkQueueHold) the branch-free form was about 30% faster at 10,000
// entries, even at 100,000 and 50% slower at 1,000,000.
const bigHeap = 1 << 17

// queue is a 4-ary min-heap of entries on (at, seq), written out by hand
// so that pushes and pops neither box nor allocate once it has grown. Four
// children per node halve the depth of a binary heap: in a world with
// thousands of events in flight, fewer levels are fewer cache misses.
type queue struct{ h []entry }

func (q *queue) push(e entry) {
	q.h = append(q.h, e)
	q.up(len(q.h)-1, e)
}

// up moves e, at i, up to its place. It compares e's words, not e.less:
// taking e's address would keep it on the stack.
func (q *queue) up(i int, e entry) {
	h := q.h
	for i > 0 {
		p := (i - 1) >> 2
		if at := h[p].at; e.at > at || e.at == at && e.key >= h[p].key {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (q *queue) pop() entry {
	top := q.h[0]
	q.drop()
	return top
}

// drop removes the head. The event loop copies the head and drops it:
// returning an entry from pop costs copies through registers and stack.
func (q *queue) drop() {
	h := q.h
	n := len(h) - 1
	// Only the length is stored back: storing the slice would check for a
	// write barrier on every pop.
	q.h = q.h[:n]
	if n == 0 {
		return
	}
	last := h[n]
	h = h[:n]
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		if c+3 < n { // all four children
			m = c + least4(h[c:c+4:c+4], n > bigHeap)
		} else {
			for j := c + 1; j < n; j++ {
				if h[j].less(&h[m]) {
					m = j
				}
			}
		}
		if !h[m].less(&last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = last
}

// shrink gives back the room of a burst past: the timer queue grows to
// the most timers ever pending (in the registry benchmark, 2.6 times as
// many as later) and would keep that room for the rest of the run.
func (q *queue) shrink() {
	q.h = append(make([]entry, 0, roomFor(len(q.h))), q.h...)
}

// roomFor is the room an array that gives back room keeps for n entries
// (the timer queue, a due heap): a quarter more, and it is made again when
// it holds less than 5/8 of its room (roomy). The two are 1.28 times
// apart, so a queue swinging around one size is not copied again and
// again, and the room spare is a quarter to 60% of what is held; making
// it again at half full with half again spare left half to all of it (in
// the registry benchmark, 30 bytes a client more).
func roomFor(n int) int { return n + n/4 + 2 }

// roomy reports whether an array of room c holding n entries should be
// made again with roomFor(n).
func roomy(n, c int) bool { return 8*n < 5*c }

// heapify makes a heap of entries in any order, pushing them one by one
// in place: in linear time on average for entries in random order.
func (q *queue) heapify() {
	h := q.h
	q.h = h[:0]
	for _, e := range h {
		q.push(e)
	}
}

// Near events wait in a timing wheel of wheelSize buckets, each
// 2^wheelShift ns wide: 16 µs, so that the wheel spans 4.2 ms, past the
// default network latency's bulk (0.2 to 2 ms). Until wheelMin events
// wait, the wheel is cur alone: a heap that small costs less than moving
// from bucket to bucket.
const (
	wheelShift = 14
	wheelSize  = 256
	wheelMin   = 64
)

// wheel is the queue of every event but timers and dial timeouts: a
// bucketed timing wheel for near events with a heap behind it for the
// rest. In a large world the events in flight outgrow the caches, and a
// heap of them costs a cache miss at nearly every level of every pop; the
// wheel appends an event to its bucket's array, and only the current
// bucket is a heap, small enough to stay in the first-level cache.
//
// Bucket b holds events with at>>wheelShift == b. cur is a heap of the
// events of buckets up to base; ring holds those of buckets base+1 to
// base+wheelSize-1, unordered, at index b mod wheelSize; far, a heap, the
// ones beyond the ring when pushed, which base may pass later. So every
// entry in ring is later than every one in cur, and the earliest event is
// cur's or far's head; when cur runs empty, the next non-empty bucket
// becomes cur. Equal times are ordered by key as in any heap: the wheel
// pops in exactly the heap's order (TestWheelPopsInOrder).
//
// While the ring is empty and fewer than wheelMin events wait, cur takes
// every event, however far (small mode); the next push spreads them.
// cur takes an event at before curTo while it holds fewer than curMax
// (fast): in small mode no time and wheelMin, otherwise base's end and no
// count.
type wheel struct {
	cur    queue
	curTo  int64
	curMax int
	base   int64
	n      int // entries in ring
	bits   [wheelSize / 64]uint64
	ring   *[wheelSize][]entry // allocated when first used (carve)
	far    queue
	// lap counts advances up to trimLap; lapMax and prevMax are the most
	// entries a bucket held in this period of trimLap advances and the last.
	lap, lapMax, prevMax int
}

// fast reports whether cur takes an event at at as it is.
func (w *wheel) fast(at int64) bool { return at < w.curTo && len(w.cur.h) < w.curMax }

// small puts the wheel in small mode; the ring is empty.
func (w *wheel) small() { w.curTo, w.curMax = math.MaxInt64, wheelMin }

func (w *wheel) push(e entry, now int64) {
	if w.curMax == 0 {
		w.small() // a new wheel
	}
	if w.fast(e.at) {
		w.cur.push(e)
		return
	}
	if w.curMax == wheelMin {
		w.spread(now)
		if w.fast(e.at) {
			w.cur.push(e)
			return
		}
	}
	b := e.at >> wheelShift
	if b < w.base+wheelSize {
		if w.ring == nil {
			w.carve()
		}
		i := b & (wheelSize - 1)
		w.ring[i] = append(w.ring[i], e)
		w.bits[i>>6] |= 1 << (i & 63)
		w.n++
		return
	}
	w.far.push(e)
}

// spread ends small mode: cur keeps the events of the buckets up to the
// last near one, the later ones go to far.
func (w *wheel) spread(now int64) {
	nb := now >> wheelShift
	w.base = nb
	h := w.cur.h
	w.cur.h = h[:0]
	for _, e := range h {
		if b := e.at >> wheelShift; b-nb >= wheelSize {
			w.far.push(e)
		} else {
			w.base = max(w.base, b)
			w.cur.push(e)
		}
	}
	w.curTo, w.curMax = (w.base+1)<<wheelShift, math.MaxInt
}

// carve makes the ring, with room for wheelMin/4 entries in every bucket,
// in one allocation.
func (w *wheel) carve() {
	const room = wheelMin / 4
	a := make([]entry, wheelSize*room)
	w.ring = new([wheelSize][]entry)
	for i := range w.ring {
		w.ring[i] = a[i*room : i*room : (i+1)*room]
	}
}

// front returns the queue whose head is the wheel's earliest event, or nil
// when the wheel is empty.
func (w *wheel) front() *queue {
	if len(w.cur.h) > 0 && len(w.far.h) == 0 {
		return &w.cur
	}
	return w.frontSlow()
}

// frontSlow is front when cur is empty or far is not.
func (w *wheel) frontSlow() *queue {
	if len(w.cur.h) == 0 {
		switch {
		case w.n > 0:
			w.advance()
		case w.curMax != wheelMin:
			w.small() // cur and ring are empty: back to small mode
		}
		if len(w.cur.h) == 0 {
			if len(w.far.h) == 0 {
				return nil
			}
			return &w.far
		}
	}
	if len(w.far.h) > 0 && w.far.h[0].less(&w.cur.h[0]) {
		return &w.far
	}
	return &w.cur
}

// advance makes the next non-empty bucket cur, which is empty.
func (w *wheel) advance() {
	from := uint64(w.base+1) & (wheelSize - 1)
	d := uint64(0) // buckets past base+1
	for {
		i := (from + d) & (wheelSize - 1)
		word := w.bits[i>>6] >> (i & 63)
		if word != 0 {
			d += uint64(bits.TrailingZeros64(word))
			break
		}
		d += 64 - i&63
	}
	i := (from + d) & (wheelSize - 1)
	w.base += int64(d) + 1
	w.bits[i>>6] &^= 1 << (i & 63)
	// Copied, not swapped: each bucket keeps its array and, once grown to
	// the world's bursts, allocates no more.
	if w.lap++; w.lap == trimLap {
		w.trim()
	}
	w.lapMax = max(w.lapMax, len(w.ring[i]))
	w.cur.h = append(w.cur.h[:0], w.ring[i]...)
	w.ring[i] = w.ring[i][:0]
	w.n -= len(w.cur.h)
	w.cur.heapify()
	w.curTo = (w.base + 1) << wheelShift
}

// trim drops the ring's and cur's arrays that are far larger than any
// bucket of the last two laps needed, grown in a burst now past (a world's
// start, a storm of pushes): otherwise each keeps the largest burst it
// ever held for the rest of the run (in the registry benchmark, about 150
// bytes per client). Bursts that recur every lap keep their arrays, so a
// steady state allocates nothing. cur is empty where advance calls it.
func (w *wheel) trim() {
	limit := max(trimMin, 8*max(w.lapMax, w.prevMax))
	w.prevMax, w.lapMax, w.lap = w.lapMax, 0, 0
	total := cap(w.cur.h)
	for _, s := range w.ring {
		total += cap(s)
	}
	if total < trimTotal {
		return // too little to matter: keep what bursts rarer than two laps need
	}
	if cap(w.cur.h) > limit {
		w.cur.h = nil
	}
	for i, s := range w.ring {
		if cap(s) > limit {
			w.ring[i] = append([]entry(nil), s...)
		}
	}
}

// trimMin is the capacity below which trim keeps an array (4 times a
// bucket's share of carve's); trimTotal the capacity, half a megabyte,
// below which it keeps them all (the fan-out bench's bursts recur less
// often than every two laps: trimming them cost 0.002 allocations per
// event); trimLap the advances between two trims.
const (
	trimMin   = wheelMin
	trimTotal = 1 << 14
	trimLap   = 4 * wheelSize
)

// len counts the wheel's entries.
func (w *wheel) len() int { return len(w.cur.h) + w.n + len(w.far.h) }

// each calls f on every entry, in no particular order.
func (w *wheel) each(f func(*entry)) {
	for _, s := range [][]entry{w.cur.h, w.far.h} {
		for i := range s {
			f(&s[i])
		}
	}
	if w.ring != nil {
		for _, s := range w.ring {
			for i := range s {
				f(&s[i])
			}
		}
	}
}

// payloads holds the values (messages, faults, callbacks) of queued events
// so that the queues themselves hold no pointers. Freed slots are reused.
type payloads struct {
	v    []any
	free []uint32
}

func (p *payloads) put(x any) uint64 {
	if n := len(p.free); n > 0 {
		i := p.free[n-1]
		p.free = p.free[:n-1]
		p.v[i] = x
		return uint64(i)
	}
	p.v = append(p.v, x)
	return uint64(len(p.v) - 1)
}

func (p *payloads) take(i uint64) any {
	x := p.v[i]
	p.v[i] = nil
	p.free = append(p.free, uint32(i))
	return x
}

// push schedules an event. Timers and dial timeouts, mostly far off, wait
// in their own queue: idle timers, however many, then cost the other
// events nothing, and the main queue holds the near network traffic. Both queues share the
// sequence numbers, so taking the earlier of their heads keeps the one
// (time, sequence) order.
func (w *World) push(e event) {
	q := entry{at: e.at, key: uint64(e.kind), a: e.a, x: uint64(uint32(e.node)) | uint64(e.inc)<<32}
	switch e.kind {
	case evDeliver, evConnClose:
		q.key |= e.b << 4
	case evKeepalive:
		q.key |= e.b << 4
		q.a |= (e.c & genMask) << idBits
	case evTimer:
		q.a |= (e.b & genMask) << idBits
	case evDatagram, evFault, evCall:
		q.x |= w.payloads.put(e.p) << 32
	}
	w.requeue(q, e.at)
}

// requeue schedules a queue entry (again) at at, behind everything queued
// so far for that time. Its payload, if any, goes with it.
func (w *World) requeue(q entry, at int64) {
	q.at = at
	q.key &= 0xff
	if k := q.kind(); k == evTimer || k == evConnectEnd {
		w.seq++
		q.key |= w.seq << 8
		w.timers.push(q)
	} else {
		w.add(q)
	}
}

// add queues an entry of any kind but a timer, whose key holds only its
// kind yet.
func (w *World) add(q entry) {
	w.seq++
	q.key |= w.seq << 8
	w.q.push(q, w.now)
}

// payload takes the entry's payload out of the table; the handler that
// consumes or drops a datagram, a fault or a callback calls it once.
func (w *World) payload(e *entry) any { return w.payloads.take(e.hi()) }

// hasPayload reports whether events of the kind carry one.
func hasPayload(kind uint8) bool { return kind == evDatagram || kind == evFault || kind == evCall }

// head returns the queue holding the next event, or nil when none is left.
// The event loop writes it out, with the wheel's front inlined.
func (w *World) head() *queue {
	q := w.q.front()
	if len(w.timers.h) > 0 {
		q = w.earlier(q)
	}
	return q
}

// earlier returns timers or q, whichever holds the earlier event; timers
// holds one.
func (w *World) earlier(q *queue) *queue {
	if q == nil || w.timers.h[0].less(&q.h[0]) {
		return &w.timers
	}
	return q
}
