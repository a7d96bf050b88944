package sim

// event kinds.
const (
	evStart      uint8 = iota + 1 // node start: node
	evDeliver                     // head of a connection direction: a=conn, b=dir
	evConnClose                   // tell an end its connection closed: a=conn, b=end
	evKeepalive                   // keepalive check: a=conn, b=end, c=block generation
	evConnectEnd                  // connect timeout: a=conn
	evDatagram                    // datagram: node=to, a=from, p=msg
	evTimer                       // timer: node, a=timer id, b=clock generation
	evFault                       // fault: p=*Fault
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

// entry is an event as the queues hold it and the world handles it: 40
// bytes and no pointers, so a queue of millions stays compact and the
// garbage collector never scans it. key is seq<<8 | kind, which orders
// exactly as seq does. A keepalive's c travels in b's upper bits; an
// event's p waits in the payload table and b holds its index.
type entry struct {
	at   int64
	key  uint64
	a, b uint64
	node int32
	inc  uint32
}

func (e *entry) less(o *entry) bool {
	return e.at < o.at || e.at == o.at && e.key < o.key
}

// queue is a 4-ary min-heap of entries on (at, seq), written out by hand
// so that pushes and pops neither box nor allocate once it has grown. Four
// children per node halve the depth of a binary heap: in a world with
// thousands of events in flight, fewer levels are fewer cache misses.
type queue struct{ h []entry }

func (q *queue) push(e entry) {
	q.h = append(q.h, e)
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) >> 2
		if !e.less(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (q *queue) pop() entry {
	h := q.h
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		if c+3 < n { // all four children: compare them without bounds checks
			k := h[c : c+4 : c+4]
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
			m = c + a
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
	if n > 0 {
		h[i] = last
	}
	q.h = h
	return top
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
	q := entry{at: e.at, key: uint64(e.kind), a: e.a, b: e.b, node: e.node, inc: e.inc}
	switch e.kind {
	case evKeepalive:
		q.b |= e.c << 1
	case evDatagram, evFault, evCall:
		q.b = w.payloads.put(e.p)
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
	w.q.push(q)
}

func (e *entry) kind() uint8 { return uint8(e.key) }

// payload takes the entry's payload out of the table; the handler that
// consumes or drops a datagram, a fault or a callback calls it once.
func (w *World) payload(e *entry) any { return w.payloads.take(e.b) }

// hasPayload reports whether events of the kind carry one.
func hasPayload(kind uint8) bool { return kind == evDatagram || kind == evFault || kind == evCall }

// head returns the queue holding the next event, or nil when none is left.
func (w *World) head() *queue {
	switch {
	case len(w.timers.h) == 0:
		if len(w.q.h) == 0 {
			return nil
		}
		return &w.q
	case len(w.q.h) == 0 || w.timers.h[0].less(&w.q.h[0]):
		return &w.timers
	default:
		return &w.q
	}
}
