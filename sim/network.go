package sim

import (
	"math/bits"
	"time"
)

// NodeID names a node; names are stable across runs and seed the node's streams.
type NodeID string

// ConnID names a connection; ids are never reused within a world.
type ConnID uint64

// Latency is a per-message delay distribution, drawn with integers only so
// that every architecture draws the same: uniform in [Min, Max], and with
// probability TailPPM (parts per million) uniform in [Max, TailMax] instead.
type Latency struct {
	Min     time.Duration `json:"min"`
	Max     time.Duration `json:"max"`
	TailPPM int64         `json:"tail_ppm,omitempty"`
	TailMax time.Duration `json:"tail_max,omitempty"`
}

// delays is a Latency prepared once per world for drawing: the bounds of
// both ranges and the tail's chance, so that a draw, the hottest of every
// run, reads them and decides nothing twice.
type delays struct {
	lo, tailLo int64
	u, tailU   uint64 // each range's hi-lo+1; 0: hi <= lo, nothing to draw
	ppm        int64  // the tail's chance; 0: no tail
}

// prepare makes the delays that draw as l does.
func (l Latency) prepare() delays {
	span := func(lo, hi time.Duration) uint64 {
		u := uint64(hi - lo + 1)
		if hi <= lo {
			return 0
		}
		if u == 0 {
			panic("sim: latency range wider than 2^64-1 ns")
		}
		return u
	}
	d := delays{lo: int64(l.Min), u: span(l.Min, l.Max)}
	if l.TailPPM > 0 && l.TailMax > l.Max {
		d.ppm, d.tailLo, d.tailU = l.TailPPM, int64(l.Max), span(l.Max, l.TailMax)
	}
	return d
}

// draw draws one delay: with the tail's chance from the tail's range,
// otherwise from the first. Both draws are pcg.chance and pcg.int64n
// written out, so that a message's latency is one call.
func (l *delays) draw(r *pcg) int64 {
	lo, u := l.lo, l.u
	if ppm := l.ppm; ppm > 0 {
		tail := ppm >= 1_000_000 // then chance draws nothing
		if !tail {
			const n = 1_000_000
			h, lw := bits.Mul64(r.Uint64(), n)
			if lw < n {
				h = r.retry(n, h, lw)
			}
			tail = int64(h) < ppm
		}
		if tail {
			lo, u = l.tailLo, l.tailU
		}
	}
	if u == 0 {
		return lo
	}
	if u&(u-1) == 0 { // as int64n: a power of two
		return lo + int64(r.retry(u, 0, 0))
	}
	h, lw := bits.Mul64(r.Uint64(), u)
	if lw < u {
		h = r.retry(u, h, lw)
	}
	return lo + int64(h)
}

// NetworkConfig sets the network's behaviour; zero fields take defaults.
type NetworkConfig struct {
	Latency Latency `json:"latency"`
	// KeepAlive is how long a connection survives a partition before it
	// breaks, and the upper bound on when a crashed node's peers are told.
	KeepAlive time.Duration `json:"keepalive"`
	// ConnectTimeout is how long a dial may take before it fails.
	ConnectTimeout time.Duration `json:"connect_timeout"`
	// RTO is the extra delay a lost packet adds to a connection message.
	RTO time.Duration `json:"rto"`
	// DatagramLossPPM and DatagramDupPPM are the baseline datagram loss and
	// duplication probabilities.
	DatagramLossPPM int64 `json:"datagram_loss_ppm,omitempty"`
	DatagramDupPPM  int64 `json:"datagram_dup_ppm,omitempty"`
}

// DefaultNetwork returns the network a zero NetworkConfig stands for.
func DefaultNetwork() NetworkConfig {
	var c NetworkConfig
	c.defaults()
	return c
}

func (c *NetworkConfig) defaults() {
	if c.Latency.Max == 0 && c.Latency.Min == 0 {
		c.Latency = Latency{Min: 200 * time.Microsecond, Max: 2 * time.Millisecond, TailPPM: 10_000, TailMax: 20 * time.Millisecond}
	}
	if c.Latency.Max < c.Latency.Min {
		c.Latency.Max = c.Latency.Min
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 3 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = time.Second
	}
	if c.RTO <= 0 {
		c.RTO = 200 * time.Millisecond
	}
}

// link is the directed path between two nodes, with its own random stream
// and a cache of the rules (partitions, clogs, loss) that apply to it.
type link struct {
	from, to  int32
	rng       pcg
	gen       uint64
	blocked   bool
	clogUntil int64
	lossPPM   int64
	dupPPM    int64
}

type ruleKind uint8

const (
	ruleBlock ruleKind = iota + 1
	ruleClog
	ruleLoss
)

// linkRule applies to every link from a node of from to a node of to.
type linkRule struct {
	kind     ruleKind
	from, to bitset
	until    int64 // 0: until healed
	ppm      int64 // loss
	dupPPM   int64
}

func (w *World) link(from, to int32) *link { return w.linkIn(from, to, nil) }

// linkIn is link, and when the link is new and room is not nil, the link
// lives in room: a connection direction's own storage (see direction).
func (w *World) linkIn(from, to int32, room *link) *link {
	l := w.links.get(from, to)
	if l == nil {
		if l = room; l == nil {
			l = new(link)
		}
		*l = link{from: from, to: to, gen: ^uint64(0),
			rng: newPCG(w.seed, "net/"+string(w.nodes[from].id)+"->"+string(w.nodes[to].id))}
		w.links.add(l)
	}
	return w.refresh(l)
}

// refresh brings the link's cached rule state up to date.
func (w *World) refresh(l *link) *link {
	from, to := l.from, l.to
	if l.gen != w.ruleGen {
		l.gen = w.ruleGen
		l.blocked, l.clogUntil = false, 0
		l.lossPPM, l.dupPPM = w.cfg.Network.DatagramLossPPM, w.cfg.Network.DatagramDupPPM
		for i := range w.rules {
			r := &w.rules[i]
			if !r.from.has(from) || !r.to.has(to) {
				continue
			}
			switch r.kind {
			case ruleBlock:
				l.blocked = true
			case ruleClog:
				l.clogUntil = max(l.clogUntil, r.until)
			case ruleLoss:
				l.lossPPM = max(l.lossPPM, r.ppm)
				l.dupPPM = max(l.dupPPM, r.dupPPM)
			}
		}
	}
	return l
}

// delay draws one connection message's delay: latency plus a
// retransmission timeout for each lost packet.
func (w *World) delay(l *link) int64 {
	d := w.lat.draw(&l.rng)
	if l.lossPPM > 0 { // chance draws nothing otherwise
		d += w.retransmits(l)
	}
	return d
}

// retransmits draws the packets lost on a lossy link and returns the
// retransmission timeouts they add.
func (w *World) retransmits(l *link) int64 {
	var d int64
	for i := 0; i < 6 && l.rng.chance(l.lossPPM); i++ {
		d += int64(w.cfg.Network.RTO) << i
	}
	return d
}

// Connection control items travel in the message queues, in order with data.
const (
	ctlData uint8 = iota
	ctlSyn
	ctlSynAck
	ctlFin
)

type queued struct {
	msg   any
	ready int64
	ctl   uint8
	next  int32 // an item's successor in the item table (items): in the padding, 32 bytes not 40
}

// direction is one way of a connection: a FIFO whose front alone has a
// delivery event, so FIFO order holds whatever the latencies drawn.
//
// The first connection between two nodes keeps each direction's link in
// own, the line after the direction's: a send then finds the link's random
// stream next to the queue it draws for, not in a line of its own
// elsewhere. Such a connection is never reused (connTable.recycle).
type direction struct {
	fifo // and the flags scheduled and stalled
	last int64
	l    *link
	own  link
}

// hostsLinks reports whether a link lives in c.
func (c *conn) hostsLinks() bool { return c.dir[0].l == &c.dir[0].own || c.dir[1].l == &c.dir[1].own }

type connEnd struct {
	node int32
	inc  uint32
}

// conn is a TCP-like connection. End 0 dialed, end 1 accepted; dir[i]
// carries what end i sends.
//
// It is laid out in 64-byte lines: what every delivery and send reads (the
// flags, the ends, the names) in the first, each direction in its own
// followed by its link's: 320 bytes, a size class whose objects start on a
// line. In a large world every connection a delivery or
// a send touches is a cache miss, and this keeps a delivery to two lines
// and a send to the header and two neighbouring lines.
type conn struct {
	id      ConnID
	opened  bool
	synLost bool
	broken  bool
	blocked bool
	told    [2]bool // end i knows it is closed, by itself or by a notice
	// blockGen counts the changes of blocked, for the keepalive events. 16
	// bits fill the first line's padding, and a wrap would need 65,536
	// partition changes within one keepalive timeout.
	blockGen uint16
	end      [2]connEnd
	name     [2]NodeID // node names of the ends (the dialed name may be unknown)
	dir      [2]direction
}

type stallRef struct {
	connRef
	d int
}

func (w *World) dial(n *slot, to NodeID) ConnID {
	w.nextConn++
	checkID(uint64(w.nextConn))
	c := w.conns.add(w.nextConn)
	c.name = [2]NodeID{n.id, to}
	c.end[0] = connEnd{node: n.idx, inc: n.inc}
	n.conns = append(n.conns, c.id)
	w.push(event{at: w.now + int64(w.cfg.Network.ConnectTimeout), kind: evConnectEnd, node: n.idx, inc: n.inc, a: uint64(c.id)})
	ti, ok := w.indexOf(to)
	if !ok {
		c.synLost = true // no such host: the dial times out
		return c.id
	}
	c.end[1] = connEnd{node: ti}
	c.dir[0].l = w.linkIn(n.idx, ti, &c.dir[0].own)
	c.dir[1].l = w.linkIn(ti, n.idx, &c.dir[1].own)
	w.enqueue(c, 0, nil, ctlSyn)
	return c.id
}

// endOf returns which end of c the node incarnation is, or -1.
func (c *conn) endOf(n *slot) int {
	for e := 0; e < 2; e++ {
		if c.end[e].node == n.idx && c.end[e].inc == n.inc && (e == 0 || c.opened) {
			return e
		}
	}
	return -1
}

func (w *World) enqueue(c *conn, d int, msg any, ctl uint8) {
	dir := &c.dir[d&1]
	if dir.n > 0 {
		w.items.push(&dir.fifo, queued{msg: msg, ready: w.now + w.delay(dir.l), ctl: ctl})
		return
	}
	// The common case, written out: the message becomes the front, stored
	// before the draw (not kept on the stack around it), and goes straight
	// into the event queue.
	dir.front.msg, dir.front.ctl, dir.n = msg, ctl, 1
	l := dir.l // delay written out, a call fewer on every send
	ready := w.now + w.lat.draw(&l.rng)
	if l.lossPPM > 0 {
		ready += w.retransmits(l)
	}
	dir.front.ready = ready
	if !dir.scheduled && !dir.stalled {
		w.seq++
		e := entry{at: max(ready, w.now, dir.last), key: w.seq<<8 | uint64(d&1)<<4 | uint64(evDeliver),
			a: uint64(c.id), x: uint64(uint32(c.end[(1-d)&1].node))}
		if cur := &w.q.cur; w.q.fast(e.at) && len(cur.h) < cap(cur.h) {
			// push, when the heap has room: no call to grow it, around
			// which this function would keep its values on the stack.
			n := len(cur.h)
			cur.h = cur.h[:n+1] // only the length is stored
			cur.up(n, e)
		} else {
			w.q.push(e, w.now)
		}
		dir.scheduled = true
	}
}

func (w *World) scheduleHead(c *conn, d int, at int64) {
	dir := &c.dir[d]
	w.add(entry{at: max(at, w.now, dir.last), key: uint64(d)<<4 | uint64(evDeliver), a: uint64(c.id), x: uint64(uint32(c.end[1-d].node))})
	dir.scheduled = true
}

// deliverHead delivers the front of a connection direction to dst, the
// node of the event (the receiving end's). A data message, every run's
// hottest path, is handled here; faults and control items out of line,
// so that this path keeps its values in registers.
func (w *World) deliverHead(ev *entry, dst *slot) {
	c := w.conns.get(ConnID(ev.a))
	if c == nil || c.broken {
		return
	}
	d := ev.bit() // the direction; d^1, the receiving end
	dir := &c.dir[d&1]
	dir.scheduled = false
	if dir.n == 0 {
		return
	}
	// Until the first rule, every link is open and refresh changes nothing:
	// a world without faults does not touch the link here.
	if w.ruleGen != 0 && w.linkHolds(c, d) {
		return
	}
	if dir.front.ctl != ctlData {
		if !w.deliverCtl(c, d, dst) {
			return
		}
	} else {
		msg := dir.front.msg
		w.items.pop(&dir.fifo)
		dir.last = w.now
		if !c.told[(d^1)&1] { // else closed by the receiver: dropped
			// recordMsg and callMessage written out.
			dst.received++
			if w.digester.of(msg) {
				w.fp.u64(w.digester.digest(msg))
			}
			src := c.name[d&1] // the sender's id
			if w.trace != nil {
				w.traceMsg(evDeliver, dst, src, c.id, msg)
			}
			env := dst.env() // the first incarnation's without reading the cold part
			end := d ^ 1
			if end == 1 && c.end[0].node == dst.idx {
				end = 0 // a connection to itself: endOf finds end 0 first
			}
			w.reply = reply{env: env, c: c, id: c.id, end: end}
			w.inNode = dst.idx + 1
			dst.node.Message(c.id, src, msg)
			w.returned(dst)
		}
	}
	if dir.n > 0 && !c.broken && !dir.scheduled && !dir.stalled {
		w.scheduleHead(c, d, dir.front.ready)
	}
}

// linkHolds reports whether a rule holds direction d of c: a partition
// stalls it, a clog delays its front.
func (w *World) linkHolds(c *conn, d int) bool {
	dir := &c.dir[d]
	l := w.refresh(dir.l)
	if l.blocked {
		dir.stalled = true
		w.stalled = append(w.stalled, stallRef{connRef{c, c.id}, d})
		return true
	}
	if l.clogUntil > w.now {
		w.scheduleHead(c, d, l.clogUntil)
		return true
	}
	return false
}

// deliverCtl delivers a control item, the front of direction d of c, or
// reports that it is lost.
func (w *World) deliverCtl(c *conn, d int, dst *slot) bool {
	dir := &c.dir[d]
	ctl := dir.front.ctl
	if ctl == ctlSyn && !dst.up {
		c.synLost = true // nobody listens: the dial times out
		return false
	}
	w.items.pop(&dir.fifo)
	dir.last = w.now
	src := c.name[d] // the sender's id
	switch ctl {
	case ctlSyn:
		c.opened = true
		c.end[1].inc = dst.inc
		dst.conns = append(dst.conns, c.id)
		w.record(evDeliver, dst, src, c.id, "accept")
		w.callOpen(dst, c.id, src)
		if !c.broken && !c.told[1] {
			w.enqueue(c, 1, nil, ctlSynAck)
		}
		if !c.broken {
			w.watchBlocked(c) // the answer may be cut already (asymmetric partition)
		}
	case ctlSynAck:
		w.record(evDeliver, dst, src, c.id, "connected")
		w.callOpen(dst, c.id, src)
	case ctlFin:
		w.breakConn(c, d, -1)
		w.tellClosed(c, d^1, evDeliver)
	}
	return true
}

// breakConn marks c broken and drops everything in flight. The quitter end
// (or none, -1) needs no notice; the other end is told after peerDelay when
// peerDelay >= 0, otherwise by whoever called.
func (w *World) breakConn(c *conn, quitter int, peerDelay int64) {
	if c.broken {
		return
	}
	c.broken = true
	w.items.reset(&c.dir[0].fifo)
	w.items.reset(&c.dir[1].fifo)
	if quitter >= 0 {
		c.told[quitter] = true
	}
	if peerDelay < 0 || quitter < 0 {
		return
	}
	other := 1 - quitter
	if c.told[other] || (other == 1 && !c.opened) {
		return
	}
	e := c.end[other]
	w.push(event{at: w.now + peerDelay, kind: evConnClose, node: e.node, inc: e.inc, a: uint64(c.id), b: uint64(other)})
}

// tellClosed tells end e of c, now, that its connection is closed.
func (w *World) tellClosed(c *conn, e int, kind uint8) {
	if c.told[e] || (e == 1 && !c.opened) {
		w.maybeForget(c) // both ends closed: the last FIN finds this end told
		return
	}
	c.told[e] = true
	w.maybeForget(c)
	n := w.nodes[c.end[e].node]
	if !n.up || n.inc != c.end[e].inc {
		return
	}
	n.dropConn(c.id)
	peer := c.name[1-e]
	w.record(kind, n, peer, c.id, "closed")
	w.callClosed(n, c.id, peer)
}

// maybeForget drops a broken connection that both ends know is closed.
func (w *World) maybeForget(c *conn) {
	if c.broken && c.told[0] && (c.told[1] || !c.opened) {
		w.conns.forget(c)
	}
}

func (n *slot) dropConn(id ConnID) {
	for i, x := range n.conns {
		if x == id {
			n.conns = append(n.conns[:i], n.conns[i+1:]...)
			return
		}
	}
}

// onConnClose handles a scheduled close notice.
func (w *World) onConnClose(ev *entry) {
	if c := w.conns.get(ConnID(ev.a)); c != nil {
		w.tellClosed(c, ev.bit(), evConnClose)
	}
}

// onKeepalive: an end's keepalive probe found the connection still blocked.
func (w *World) onKeepalive(ev *entry) {
	c := w.conns.get(ConnID(ev.id()))
	if c == nil {
		return
	}
	e := ev.bit()
	if !c.broken {
		if !c.blocked || !sameGen(ev.gen(), uint64(c.blockGen)) {
			return // healed in time
		}
		w.breakConn(c, -1, -1) // the other end learns from its own probe
	}
	w.tellClosed(c, e, evKeepalive)
}

func (w *World) onConnectEnd(ev *entry) {
	c := w.conns.get(ConnID(ev.a))
	if c == nil || c.opened || c.broken {
		return
	}
	w.breakConn(c, -1, -1)
	w.tellClosed(c, 0, evConnectEnd)
}

// crashConns breaks every connection of a node that just died. Each peer is
// told after a delay between the minimum latency (an RST) and the keepalive
// timeout (a dead host).
func (w *World) crashConns(n *slot) {
	for _, id := range n.conns {
		c := w.conns.get(id)
		if c == nil {
			continue
		}
		e := c.endOf(n)
		if e < 0 {
			continue
		}
		if c.broken {
			// Broken, and this end's notice is on its way to a process
			// that is gone: nobody is left to tell.
			c.told[e] = true
			w.maybeForget(c)
			continue
		}
		l := c.dir[e].l
		var delay int64
		if l != nil {
			lo := int64(w.cfg.Network.Latency.Min)
			delay = lo + l.rng.int64n(int64(w.cfg.Network.KeepAlive)-lo+1)
		}
		w.breakConn(c, e, delay)
		w.maybeForget(c)
	}
	n.conns = n.conns[:0]
}

// networkChanged re-evaluates connections after the rules changed: blocked
// connections start their keepalive clocks, unblocked stalled ones resume.
func (w *World) networkChanged() {
	w.ruleGen++
	// Every connection in the table, in the order dialed. Forgetting one
	// may trim the table's front past the next id, but not its end: it is
	// walked by id up to the end it had (get finds nothing below the front).
	end := w.conns.base + ConnID(len(w.conns.tab))
	for id := w.conns.base; id < end; id++ {
		switch c := w.conns.get(id); {
		case c == nil:
		case c.broken:
			w.maybeForget(c)
		case c.opened:
			w.watchBlocked(c)
		}
	}
	stalled := w.stalled[:0]
	for _, s := range w.stalled {
		if !s.ok() {
			continue
		}
		dir := &s.c.dir[s.d]
		if s.c.broken || !dir.stalled {
			continue
		}
		if w.refresh(dir.l).blocked {
			stalled = append(stalled, s)
			continue
		}
		dir.stalled = false
		if dir.n > 0 {
			w.scheduleHead(s.c, s.d, w.now+w.delay(dir.l)) // retransmitted
		}
	}
	clear(w.stalled[len(stalled):])
	w.stalled = stalled
}

// watchBlocked starts an open connection's keepalive clocks when a
// partition cuts either direction, and stops them when none does.
func (w *World) watchBlocked(c *conn) {
	blocked := w.refresh(c.dir[0].l).blocked || w.refresh(c.dir[1].l).blocked
	switch {
	case blocked && !c.blocked:
		c.blocked = true
		c.blockGen++
		ka := int64(w.cfg.Network.KeepAlive)
		for e := 0; e < 2; e++ {
			at := w.now + ka + c.dir[e].l.rng.int64n(ka/4+1)
			w.push(event{at: at, kind: evKeepalive, node: c.end[e].node, inc: c.end[e].inc, a: uint64(c.id), b: uint64(e), c: uint64(c.blockGen)})
		}
	case !blocked && c.blocked:
		c.blocked = false
		c.blockGen++
	}
}

func (w *World) sendDatagram(n *slot, to NodeID, msg any) {
	ti, ok := w.indexOf(to)
	n.stats.DatagramsSent++
	if !ok {
		return
	}
	l := w.link(n.idx, ti)
	if l.rng.chance(l.lossPPM) {
		w.nodes[ti].stats.DatagramsLost++
		return
	}
	copies := 1
	if l.rng.chance(l.dupPPM) {
		copies = 2
	}
	for i := 0; i < copies; i++ {
		w.push(event{at: w.now + w.lat.draw(&l.rng), kind: evDatagram, node: ti, a: uint64(n.idx), p: msg})
	}
}

func (w *World) deliverDatagram(ev *entry) {
	dst := w.nodes[ev.node()]
	l := w.link(int32(ev.a), ev.node())
	if l.blocked || !dst.up {
		dst.stats.DatagramsLost++
		w.payload(ev)
		return
	}
	if l.clogUntil > w.now {
		w.requeue(*ev, l.clogUntil)
		return
	}
	dst.stats.DatagramsReceived++
	src := w.nodes[ev.a].id
	msg := w.payload(ev)
	w.recordMsg(evDatagram, dst, src, 0, msg)
	w.callDatagram(dst, src, msg)
}
