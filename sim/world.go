package sim

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sort"
	"strconv"
	"time"
	"unsafe"
)

// Config configures a world. Zero fields take defaults.
type Config struct {
	Seed    uint64
	Network NetworkConfig
	Clock   ClockConfig
	// TornWrites makes every crash keep a torn prefix of unsynced writes.
	TornWrites bool
	// Trace receives the full trace as JSON lines; nil keeps only the
	// fingerprint.
	Trace io.Writer
}

// World is one simulated universe. It is not safe for concurrent use, and
// only one world runs at a time in a process (see package doc).
type World struct {
	cfg  Config
	lat  delays // cfg.Network.Latency, prepared
	seed uint64
	now  int64
	seq  uint64
	// q holds every event but timers and dial timeouts, which wait in
	// timers (see push).
	q        wheel
	timers   queue
	payloads payloads

	nodes []*slot
	byID  nodeIndex

	conns    connTable
	items    items // queued connection items beyond each direction's front
	nextConn ConnID
	stalled  []stallRef
	links    linkTable
	rules    []linkRule
	ruleGen  uint64

	nextTimer  TimerID
	liveTimers timerTable
	armed      map[string]*armedFailpoint
	faultRand  *rand.Rand
	crypto     *rand.Rand

	fp       fingerprint
	trace    *tracer
	events   uint64
	wall     time.Duration
	findings []Finding
	faults   []AppliedFault
	reached  map[string]uint64 // coverage marks (coverage.go); not in the fingerprint
	stop     bool
	running  bool
	// inNode is 1 + the index of the node whose code is running, 0 if
	// none: an index, as a pointer stored on every call would check for
	// a write barrier.
	inNode   int32
	reply    reply // the connection a Message call is for
	digester digester
}

// reply is the connection the last Message call delivered on, which the
// node most likely answers on: Env.Send then skips finding the connection
// and the node's end of it. It holds while the connection struct is not
// reused (only between events: the loop clears it then) and env's node
// lives (crash clears it); only env's calls match.
type reply struct {
	env *Env
	c   *conn
	id  ConnID
	end int
}

// slot is a node's place in the world: the machine (clock, disk, stats)
// and the current process incarnation.
//
// It holds only what every event of the node touches, in two 64-byte
// lines: the first all that a message delivery or a send reads and writes
// of it, the second the first incarnation's Env, which the node's calls
// read next. The rest is in slotCold, its fields promoted. In a world of
// many nodes every event's node is a cache miss, and the hot slots packed
// densely (128 bytes, a size class whose objects start on a line;
// TestHotLayouts) take a third of the pages, and of the TLB entries, that
// whole slots did.
type slot struct {
	node      Node
	up        bool
	paused    bool
	attention bool // the last call left something to apply: an exit or a slow sync
	inc       uint32
	idx       int32
	busyUntil int64
	sent      uint64 // NodeStats.Sent and Received, kept here to share the line
	received  uint64
	*slotCold

	env0 Env // the first incarnation's Env: no allocation, next to the slot
}

// slotCold is the part of a node's slot that events seldom touch.
type slotCold struct {
	stats   coldStats
	id      NodeID
	factory func() Node
	rare    *slotRare // made on first use (rarePart)
	clock   clock
	conns   []ConnID
	due     timerHeap // live timers by deadline; cancelled ones linger until popped or pruneDue
}

// slotRare is what most nodes never need. Out of slotCold, it keeps that
// in the 176-byte size class, not 224.
type slotRare struct {
	env   *Env    // the current incarnation's, after the first (its own is env0)
	disk  *Disk   // made on first use (World.diskOf): most clients never write
	held  []entry // events waiting for a paused node
	fpCtx context.Context
	exit  string // the reason of an Exit, applied when the call returns
}

// env returns the current incarnation's Env.
func (n *slot) env() *Env {
	if n.inc == 1 {
		return &n.env0
	}
	return n.rare.env
}

// madeDisk returns the node's disk, or nil if none was made yet.
func (n *slot) madeDisk() *Disk {
	if n.rare == nil {
		return nil
	}
	return n.rare.disk
}

// rarePart returns the node's rare part, made on first use.
func (n *slot) rarePart() *slotRare {
	if n.rare == nil {
		n.rare = new(slotRare)
	}
	return n.rare
}

// coldStats is NodeStats but Sent and Received, which live in the hot
// slot; with them, and its rarer counters in 64 bits, slotCold would not
// fit the 176-byte size class.
type coldStats struct {
	DatagramsSent, DatagramsReceived, DatagramsLost uint64
	Timers                                          uint64
	Starts, Crashes, Pauses, Panics                 uint32
}

// nodeStats returns the node's counters.
func (n *slot) nodeStats() NodeStats {
	s := &n.stats
	return NodeStats{Sent: n.sent, Received: n.received, DatagramsSent: s.DatagramsSent,
		DatagramsReceived: s.DatagramsReceived, DatagramsLost: s.DatagramsLost, Timers: s.Timers,
		Starts: uint64(s.Starts), Crashes: uint64(s.Crashes), Pauses: uint64(s.Pauses), Panics: uint64(s.Panics)}
}

// takeHeld returns the events held for the node, and holds none.
func (n *slot) takeHeld() []entry {
	if n.rare == nil {
		return nil
	}
	h := n.rare.held
	n.rare.held = nil
	return h
}

// NodeStats counts what happened to one node over the run.
type NodeStats struct {
	Sent              uint64 `json:"sent"`
	Received          uint64 `json:"received"`
	DatagramsSent     uint64 `json:"datagrams_sent"`
	DatagramsReceived uint64 `json:"datagrams_received"`
	DatagramsLost     uint64 `json:"datagrams_lost"`
	Timers            uint64 `json:"timers"`
	Starts            uint64 `json:"starts"`
	Crashes           uint64 `json:"crashes"`
	Pauses            uint64 `json:"pauses"`
	Panics            uint64 `json:"panics"`
}

// Finding is something the harness noticed that is a failure by itself,
// such as a panic inside a node.
type Finding struct {
	Kind  string        `json:"kind"`
	Node  NodeID        `json:"node"`
	At    time.Duration `json:"at"`
	Seed  uint64        `json:"seed"`
	Value string        `json:"value"`
	Stack string        `json:"stack,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s in %s at %v (seed %d): %s", f.Kind, f.Node, f.At, f.Seed, f.Value)
}

// NewWorld creates an empty world.
func NewWorld(cfg Config) *World {
	cfg.Network.defaults()
	if cfg.Clock == (ClockConfig{}) {
		cfg.Clock = ClockConfig{MaxOffset: 10 * time.Millisecond, MaxDriftPPM: 100}
	}
	return &World{
		cfg:       cfg,
		lat:       cfg.Network.Latency.prepare(),
		seed:      cfg.Seed,
		armed:     map[string]*armedFailpoint{},
		faultRand: NewStream(cfg.Seed, "faults"),
		crypto:    NewStream(cfg.Seed, "crypto/rand"),
		fp:        newFingerprint(),
		trace:     newTracer(cfg.Trace),
	}
}

// Seed returns the root seed.
func (w *World) Seed() uint64 { return w.seed }

// Now returns the virtual time.
func (w *World) Now() time.Duration { return time.Duration(w.now) }

// Events counts the events processed so far.
func (w *World) Events() uint64 { return w.events }

// Fingerprint returns the running hash of the run.
func (w *World) Fingerprint() uint64 { return w.fp.sum() }

// Findings returns what the harness noticed (panics in nodes).
func (w *World) Findings() []Finding { return w.findings }

// Stream returns a named random stream for harness use (workloads, nemesis).
func (w *World) Stream(name string) *rand.Rand { return NewStream(w.seed, "harness/"+name) }

// AddNode adds a node that the world starts at the current virtual time
// (time zero before Run) and rebuilds with factory on every restart.
func (w *World) AddNode(id NodeID, factory func() Node) {
	if _, dup := w.indexOf(id); dup {
		panic(fmt.Sprintf("sim: node %q added twice", id))
	}
	n := &slot{idx: int32(len(w.nodes)), slotCold: &slotCold{id: id, factory: factory}}
	cr := NewStream(w.seed, "clock/"+string(id))
	if m := int64(w.cfg.Clock.MaxOffset); m > 0 {
		n.clock.wallOff = cr.Int64N(2*m+1) - m
		n.clock.syncOff = n.clock.wallOff
	}
	if m := w.cfg.Clock.MaxDriftPPM; m > 0 {
		n.clock.ppm = cr.Int64N(2*m+1) - m
	}
	w.nodes = append(w.nodes, n)
	w.byID.added(w.nodes)
	w.push(event{at: w.now, kind: evStart, node: n.idx})
}

// NodeIDs lists the nodes in the order they were added.
func (w *World) NodeIDs() []NodeID {
	out := make([]NodeID, len(w.nodes))
	for i, n := range w.nodes {
		out[i] = n.id
	}
	return out
}

// Node returns the node's current object, or nil while it is down.
func (w *World) Node(id NodeID) Node {
	if i, ok := w.indexOf(id); ok && w.nodes[i].up {
		return w.nodes[i].node
	}
	return nil
}

// Up reports whether the node's process is running (paused counts as up).
func (w *World) Up(id NodeID) bool {
	i, ok := w.indexOf(id)
	return ok && w.nodes[i].up
}

// Paused reports whether the node is paused.
func (w *World) Paused(id NodeID) bool {
	i, ok := w.indexOf(id)
	return ok && w.nodes[i].paused
}

// Jumped is how far clock jumps have moved a node's wall clock from where
// time synchronisation keeps it: the jump that steps it back.
func (w *World) Jumped(id NodeID) Duration {
	i, ok := w.indexOf(id)
	if !ok {
		return 0
	}
	c := &w.nodes[i].clock
	return Duration(c.wallOff - c.syncOff)
}

// Disk returns a node's disk, for tests and checkers.
func (w *World) Disk(id NodeID) *Disk {
	if i, ok := w.indexOf(id); ok {
		return w.diskOf(w.nodes[i])
	}
	return nil
}

// diskOf returns the node's disk, made on first use with its random
// stream: a stream is a pure function of the seed and its name, and only
// the disk draws from it, so its draws are the same whenever it is made.
func (w *World) diskOf(n *slot) *Disk {
	r := n.rarePart()
	if r.disk == nil {
		r.disk = newDisk()
		r.disk.rng = NewStream(w.seed, "disk/"+string(n.id))
		r.disk.busyFlag = &n.attention
	}
	return r.disk
}

// Stats returns a node's counters.
func (w *World) Stats(id NodeID) NodeStats {
	if i, ok := w.indexOf(id); ok {
		return w.nodes[i].nodeStats()
	}
	return NodeStats{}
}

// At schedules a harness callback at virtual time t (or now, if t passed).
// Callbacks run between events and may inspect nodes and inject faults.
func (w *World) At(t time.Duration, fn func()) {
	w.push(event{at: max(int64(t), w.now), kind: evCall, p: fn})
}

// After schedules a harness callback d after now.
func (w *World) After(d time.Duration, fn func()) { w.At(time.Duration(w.now)+d, fn) }

// Stop makes Run return after the current event.
func (w *World) Stop() { w.stop = true }

// Limits bound a Run; zero fields are unbounded. Run also returns when no
// events are left.
type Limits struct {
	Until     time.Duration // run events up to and including this virtual time
	MaxEvents uint64        // stop after this many events in this call
}

// StopReason says why Run returned.
type StopReason string

const (
	StopUntil     StopReason = "until"
	StopEvents    StopReason = "events"
	StopQuiescent StopReason = "quiescent"
	StopCalled    StopReason = "stopped"
)

// Outcome reports one Run call.
type Outcome struct {
	Reason  StopReason
	Now     time.Duration // virtual time at return
	Events  uint64        // events processed by this call
	Wall    time.Duration // wall time of this call
	Speedup float64       // virtual time advanced / wall time
}

// Run processes events in (time, sequence) order until a limit is reached
// or no events are left. It may be called again to continue the run. While
// it runs, the world owns the process (see package doc).
func (w *World) Run(lim Limits) Outcome {
	if w.running {
		panic("sim: World.Run called from inside its own Run (from a harness callback or node)")
	}
	release := w.acquire()
	defer release()
	start := wallNow()
	startV, startE := w.now, w.events
	w.stop = false
	var reason StopReason
	for reason == "" {
		reason = w.loop(lim, startE)
	}
	if reason == StopUntil || (reason == StopQuiescent && lim.Until > 0) {
		w.now = max(w.now, int64(lim.Until))
	}
	wall := wallSince(start)
	w.wall += wall
	out := Outcome{Reason: reason, Now: time.Duration(w.now), Events: w.events - startE, Wall: wall}
	if wall > 0 {
		out.Speedup = float64(w.now-startV) / float64(wall)
	}
	return out
}

// loop processes events until a limit is reached and says which, or
// returns "" after a panic in node code, recorded as a finding.
func (w *World) loop(lim Limits, startE uint64) (reason StopReason) {
	defer func() {
		if i := w.inNode; i != 0 { // a panic in node code; any other goes on up
			n := w.nodes[i-1]
			if r := recover(); r != nil {
				w.panicked(n, r)
				if w.stop {
					reason = StopCalled
				}
			}
		}
	}()
	until, last := int64(math.MaxInt64), uint64(math.MaxUint64)
	if lim.Until > 0 {
		until = int64(lim.Until)
	}
	if lim.MaxEvents > 0 {
		last = startE + lim.MaxEvents
	}
	pf := prefetching && len(w.nodes) >= prefetchNodes // nodes added later wait for the next Run: only a hint
	for {
		q := w.q.front() // head, written out
		if len(w.timers.h) > 0 {
			q = w.earlier(q)
		}
		if q == nil {
			return StopQuiescent
		}
		ev := q.h[0]
		if ev.at > until {
			return StopUntil
		}
		if w.events >= last {
			return StopEvents
		}
		if len(w.conns.dead) > 0 {
			w.conns.recycle()
			w.reply = reply{} // its connection may be reused
		}
		q.drop()
		if pf && len(q.h) > 0 {
			w.prefetch(q)
		}
		w.now = ev.at
		w.events++
		w.dispatch(&ev)
		if w.stop {
			return StopCalled
		}
	}
}

// prefetchNodes is the world size from which the event loop prefetches
// (see prefetch): in a smaller world everything stays cached.
const prefetchNodes = 256

// prefetching is off only in tests that measure or check what prefetch
// changes (nothing but speed).
var prefetching = true

// prefetch asks for the lines the next events will read, in two stages
// one event apart, while the current event runs: in a large world each is
// a cache miss, and the misses then overlap with work instead of stalling
// it one after another. The queue q just popped an event; its head is
// likely the next and the least of the head's children the one after.
//
// Stage one, for the one after: its node's slot (the first line, and the
// Env in the second) and, for a delivery, its connection's header and
// direction. Stage two, for the next, reads those lines (asked for one
// event ago) to find what they point to: the direction's next queued item,
// the message, the node object, and the connection the node last sent on,
// where it likely sends again.
func (w *World) prefetch(q *queue) {
	h := q.h
	if len(h) > 1 {
		k := 1
		for j := 2; j < min(len(h), 5); j++ {
			if h[j].less(&h[k]) {
				k = j
			}
		}
		e := &h[k]
		n := w.nodes[e.node()]
		var c, d unsafe.Pointer
		if e.kind() == evDeliver {
			if cn := w.conns.get(ConnID(e.a)); cn != nil {
				c, d = unsafe.Pointer(cn), unsafe.Pointer(&cn.dir[e.bit()])
			}
		}
		prefetch4(unsafe.Pointer(n), unsafe.Pointer(&n.env0), c, d)
	}
	e := &h[0]
	if e.kind() != evDeliver {
		return
	}
	n := w.nodes[e.node()]
	cn := w.conns.get(ConnID(e.a))
	if cn == nil || !n.up {
		return
	}
	dir := &cn.dir[e.bit()]
	var next unsafe.Pointer
	if dir.first != 0 {
		next = unsafe.Pointer(&w.items.v[dir.first-1])
	}
	var sc, sd, sl unsafe.Pointer
	env := n.env() // read from the rare part only after a restart
	if hint := env.sentOn; hint != 0 {
		if out := w.conns.get(ConnID(hint >> 1)); out != nil {
			od := &out.dir[hint&1]
			sc, sd, sl = unsafe.Pointer(out), unsafe.Pointer(od), unsafe.Pointer(&od.own)
		}
	}
	prefetch4(next, dataOf(dir.front.msg), dataOf(n.node), sc)
	prefetch4(sd, sl, nil, nil)
}

// dataOf returns an interface value's data word: the pointer it holds, or
// its boxed value's address (for prefetch only).
func dataOf(x any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[1] }

// Wall returns the wall time spent in Run so far.
func (w *World) Wall() time.Duration { return w.wall }

func (w *World) dispatch(ev *entry) {
	kind := ev.kind()
	h := Mix(w.fp.h, uint64(ev.at))
	h = Mix(h, uint64(kind)<<32|uint64(uint32(ev.x)))
	w.fp.h = Mix(h, ev.id())
	if kind == evDeliver { // the most common, first; it is for any incarnation
		n := w.nodes[ev.node()]
		if w.waits(n) {
			w.hold(n, ev)
			return
		}
		w.deliverHead(ev, n)
		return
	}
	if kind >= evFault || kind == evStart {
		w.dispatchWorld(ev, kind)
		return
	}
	n := w.nodes[ev.node()]
	if inc := ev.inc(); inc != 0 && inc != n.inc {
		return // meant for an incarnation that is gone
	}
	if w.waits(n) {
		w.hold(n, ev)
		return
	}
	switch kind {
	case evConnClose:
		w.onConnClose(ev)
	case evKeepalive:
		w.onKeepalive(ev)
	case evConnectEnd:
		w.onConnectEnd(ev)
	case evDatagram:
		w.deliverDatagram(ev)
	case evTimer:
		w.fireTimer(n, ev)
	}
}

// dispatchWorld handles the events that are not a node's: faults,
// harness callbacks, rule expiries and starts (of a node that is down).
func (w *World) dispatchWorld(ev *entry, kind uint8) {
	switch kind {
	case evFault:
		w.applyFault(w.payload(ev).(*Fault))
	case evCall:
		w.record(kind, nil, "", 0, "")
		w.payload(ev).(func())()
	case evExpire:
		w.expireRules()
	case evStart:
		w.start(w.nodes[ev.node()])
	}
}

// waits reports whether the node's events wait: it is paused, or busy
// (a slow sync). Only a running node is either (crash clears both).
func (w *World) waits(n *slot) bool { return n.busyUntil > w.now || n.paused }

// hold keeps an event for a paused node until it resumes, or requeues it
// for when a busy node (a slow sync) is free.
func (w *World) hold(n *slot, ev *entry) {
	if n.paused {
		r := n.rarePart()
		r.held = append(r.held, *ev)
		return
	}
	w.requeue(*ev, n.busyUntil)
}

// Calls into node code. A panic in node code becomes a finding and crashes
// the node (panicked); after a call returns, returned applies what it left
// behind (an exit, a slow sync). The calls made while dispatching an event
// are the last thing their event does, so they defer nothing: the panic
// unwinds to the event loop (see loop), which records it and goes on with
// the next event. Start also runs in the middle of applying a fault, so it
// recovers by itself.

func (w *World) callOpen(n *slot, c ConnID, peer NodeID) {
	w.inNode = n.idx + 1
	n.node.Connected(c, peer)
	w.returned(n)
}

func (w *World) callMessage(n *slot, c ConnID, from NodeID, msg any) {
	w.inNode = n.idx + 1
	n.node.Message(c, from, msg)
	w.returned(n)
}

func (w *World) callClosed(n *slot, c ConnID, peer NodeID) {
	w.inNode = n.idx + 1
	n.node.Closed(c, peer)
	w.returned(n)
}

func (w *World) callDatagram(n *slot, from NodeID, msg any) {
	w.inNode = n.idx + 1
	n.node.Datagram(from, msg)
	w.returned(n)
}

func (w *World) callTimer(n *slot, id TimerID, tag any) {
	w.inNode = n.idx + 1
	n.node.Timer(id, tag)
	w.returned(n)
}

func (w *World) callStart(n *slot) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked(n, r)
		}
	}()
	w.inNode = n.idx + 1
	n.node.Start(n.env())
	w.returned(n)
}

func (w *World) returned(n *slot) {
	w.inNode = 0
	if n.attention {
		w.leftBehind(n)
	}
}

func (w *World) leftBehind(n *slot) {
	n.attention = false
	if r := n.rare; r != nil && r.exit != "" {
		reason := r.exit
		r.exit = ""
		w.crash(n, false, "exit: "+reason)
		w.recordDeath(n, "exit: "+reason)
		return
	}
	if d := n.madeDisk(); d != nil && d.busy > 0 {
		b := d.busy
		d.busy = 0
		n.busyUntil = max(n.busyUntil, w.now) + b
	}
}

// panicked records a panic in node code as a finding and crashes the node.
func (w *World) panicked(n *slot, r any) {
	w.inNode = 0
	n.stats.Panics++
	f := Finding{Kind: "panic", Node: n.id, At: time.Duration(w.now), Seed: w.seed,
		Value: fmt.Sprint(r), Stack: string(debug.Stack())}
	w.findings = append(w.findings, f)
	w.fp.str("panic")
	w.trace.write(&TraceRecord{T: w.now, Kind: "panic", Node: n.id, Event: f.Value})
	w.crash(n, false, "panic")
	w.recordDeath(n, "panic: "+f.Value)
}

func (w *World) start(n *slot) {
	if n.up {
		return
	}
	n.inc++
	n.up = true
	n.paused = false
	if n.rare != nil {
		n.rare.held = nil
	}
	n.busyUntil = 0
	n.due = n.due[:0]
	n.stats.Starts++
	env := &n.env0 // dead for good once the first incarnation is
	if n.inc > 1 {
		env = new(Env)
		n.rarePart().env = env
	}
	*env = Env{w: w, n: n, inc: n.inc}
	var buf [64]byte
	name := strconv.AppendUint(append(append(append(buf[:0], "node/"...), n.id...), '/'), uint64(n.inc), 10)
	env.src.Seed(StreamSeed(w.seed, string(name)))
	env.rng = *rand.New(&env.src)
	n.node = n.factory()
	w.record(evStart, n, "", 0, "start")
	w.callStart(n)
}

// recordDeath lists a process that died by itself (a panic, an Exit) with
// the applied faults, so that a timeline shows it down like a crash.
func (w *World) recordDeath(n *slot, note string) {
	w.faults = append(w.faults, AppliedFault{At: time.Duration(w.now),
		Fault: Fault{At: Duration(w.now), Op: Crash{Nodes: []NodeID{n.id}}}, Note: note})
}

// crash kills the node's process: timers, connections and unsynced writes
// are gone; the disk and the clock stay.
func (w *World) crash(n *slot, torn bool, reason string) {
	if !n.up {
		return
	}
	held := n.takeHeld()
	w.reply = reply{} // its Env may be the node's
	n.up = false
	if n.rare != nil {
		n.rare.exit = "" // an Exit and a panic in one call are one death
	}
	n.paused = false
	n.busyUntil = 0
	n.node = nil
	for _, k := range n.due {
		w.dropTimer(k.id)
	}
	n.due = nil
	n.stats.Crashes++
	w.fp.str("crash")
	w.trace.write(&TraceRecord{T: w.now, Kind: "crash", Node: n.id, Event: reason})
	w.crashConns(n)
	for _, e := range held {
		// A held delivery is the only event of its connection direction:
		// hand it back, and the connection decides (a FIN still closes a
		// connection this node had closed, for instance).
		switch {
		case e.kind() == evDeliver:
			w.requeue(e, w.now)
		case hasPayload(e.kind()):
			w.payload(&e) // a datagram the dead process never gets
		}
	}
	if d := n.madeDisk(); d != nil {
		d.crash(d.rng, torn || w.cfg.TornWrites)
	}
}

func (w *World) pause(n *slot) {
	if n.up && !n.paused {
		n.paused = true
		n.stats.Pauses++
	}
}

func (w *World) resume(n *slot) {
	if !n.paused {
		return
	}
	n.paused = false
	held := n.takeHeld()
	for _, e := range held {
		w.requeue(e, w.now)
	}
}

func (w *World) setTimer(n *slot, d time.Duration, tag any) TimerID {
	w.nextTimer++
	checkID(uint64(w.nextTimer))
	id := w.nextTimer
	dl := n.clock.mono(w.now) + int64(max(d, 0))
	w.liveTimers.put(id, n.idx, tag)
	if len(n.due) == cap(n.due) {
		w.pruneDue(n)
	}
	n.due.push(timerKey{deadline: dl, id: id})
	w.push(event{at: max(n.clock.virt(dl), w.now), kind: evTimer, node: n.idx, inc: n.inc, a: uint64(id), b: n.clock.gen})
	return id
}

// dropTimer deletes a timer from the table.
func (w *World) dropTimer(id TimerID) { w.liveTimers.del(id) }

// pruneDue drops the cancelled timers from a node's full due heap before
// it grows: a node that sets and cancels a timer per request would
// otherwise grow it to the most timers ever set within one timeout (in the
// registry benchmark, 3.4 times the live ones). A walk that frees less than
// a quarter leaves the heap a quarter spare, so a node whose timers are
// nearly all live does not walk them on every SetTimer. Which live timer is
// due first does not change.
func (w *World) pruneDue(n *slot) {
	live := n.due[:0]
	for _, k := range n.due {
		if w.liveTimers.live(k.id) {
			live = append(live, k)
		}
	}
	if len(live) < len(n.due) {
		clear(n.due[len(live):])
		n.due = live
		n.due.heapify()
	}
	if 4*(cap(n.due)-len(n.due)) < len(n.due) {
		n.due = append(make(timerHeap, 0, roomFor(len(n.due))), n.due...)
	}
}

// fireTimer fires the node's earliest due timer, by (deadline, id). Every
// live timer has an event at or after its deadline, but several can fall
// due at one virtual instant (a fast clock maps two deadlines to the same
// nanosecond; events that waited while the node was paused or busy are
// queued again behind one due at that instant), so the event's own timer
// is not necessarily the one to fire first; it fires at a later event.
func (w *World) fireTimer(n *slot, ev *entry) {
	if c := cap(w.timers.h); c > 1024 && roomy(len(w.timers.h), c) {
		w.timers.shrink()
	}
	if !sameGen(ev.gen(), n.clock.gen) {
		return // rescheduled after a rate change
	}
	mono := n.clock.mono(w.now)
	for len(n.due) > 0 {
		k := n.due[0]
		t, ok := w.liveTimers.get(k.id)
		if !ok {
			n.due.pop() // fired or cancelled
			continue
		}
		if k.deadline > mono {
			return // this event's timer was cancelled or already fired
		}
		n.due.pop()
		w.dropTimer(k.id)
		n.stats.Timers++
		w.record(evTimer, n, "", 0, "timer")
		w.callTimer(n, k.id, t.tag)
		return
	}
}

// timerKey orders a node's timers: by monotonic deadline, then as set.
type timerKey struct {
	deadline int64
	id       TimerID
}

func (a timerKey) less(b timerKey) bool {
	return a.deadline < b.deadline || a.deadline == b.deadline && a.id < b.id
}

// timerHeap is a binary min-heap of timer keys.
type timerHeap []timerKey

func (h *timerHeap) push(k timerKey) {
	if len(*h) == cap(*h) { // append would double it: a session server's would be half empty
		*h = append(make(timerHeap, 0, roomFor(len(*h))), *h...)
	}
	*h = append(*h, k)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q[i].less(q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

// heapify makes a heap of keys in any order.
func (h *timerHeap) heapify() {
	q := *h
	*h = q[:0]
	for _, k := range q {
		h.push(k)
	}
}

func (h *timerHeap) pop() {
	q := *h
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q[r].less(q[l]) {
			m = r
		}
		if !q[m].less(q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	if c := cap(q); c > 64 && roomy(n, c) {
		// A burst of timers is past (a session server's clients all
		// registering at the start): keep room for the live ones, not it.
		q = append(make(timerHeap, 0, roomFor(n)), q...)
	}
	*h = q
}

// rescheduleTimers re-pushes a node's live timers after its clock rate
// changed, in id order.
func (w *World) rescheduleTimers(n *slot) {
	if !n.up {
		return
	}
	var live []timerKey
	for _, k := range n.due {
		if w.liveTimers.live(k.id) {
			live = append(live, k)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].id < live[j].id })
	for _, k := range live {
		at := max(n.clock.virt(k.deadline), w.now)
		w.push(event{at: at, kind: evTimer, node: n.idx, inc: n.inc, a: uint64(k.id), b: n.clock.gen})
	}
}

// record writes a kernel event to the full trace, when one is written.
func (w *World) record(kind uint8, n *slot, peer NodeID, c ConnID, what string) {
	if w.trace == nil {
		return
	}
	r := TraceRecord{T: w.now, Kind: kindNames[kind], Peer: peer, Conn: c, Event: what}
	if n != nil {
		r.Node = n.id
	}
	w.trace.write(&r)
}

func (w *World) recordMsg(kind uint8, n *slot, from NodeID, c ConnID, msg any) {
	if d, ok := msg.(Digester); ok {
		w.fp.u64(d.Digest())
	}
	if w.trace != nil {
		w.traceMsg(kind, n, from, c, msg)
	}
}

func (w *World) traceMsg(kind uint8, n *slot, from NodeID, c ConnID, msg any) {
	w.trace.write(&TraceRecord{T: w.now, Kind: kindNames[kind], Node: n.id, Peer: from, Conn: c, Msg: fmt.Sprintf("%T %+v", msg, msg)})
}
