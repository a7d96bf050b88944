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

// event is one entry of the queue. It is a value type so that the queue
// holds no per-event heap objects on the hot path.
type event struct {
	at   int64 // virtual ns
	seq  uint64
	kind uint8
	node int32
	inc  uint32 // target incarnation, 0 = any
	a, b uint64
	c    uint64
	p    any
}

func (e *event) less(o *event) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.seq < o.seq
}

// eventQueue is a binary min-heap on (at, seq), written out by hand so that
// pushes and pops neither box nor allocate once it has grown.
type eventQueue struct{ h []event }

func (q *eventQueue) len() int { return len(q.h) }

func (q *eventQueue) push(e event) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.h[i].less(&q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *eventQueue) peek() *event { return &q.h[0] }

func (q *eventQueue) pop() event {
	top := q.h[0]
	n := len(q.h) - 1
	q.h[0] = q.h[n]
	q.h[n] = event{}
	q.h = q.h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.h[r].less(&q.h[l]) {
			m = r
		}
		if !q.h[m].less(&q.h[i]) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}
