package sim

// connTable finds connections by id without a map. Ids are handed out in
// increasing order and never reused, so a slice indexed by id minus the
// oldest id still tracked holds them; forgotten ones are nil and the front
// is trimmed as the oldest are forgotten. A long-lived early connection
// keeps the slice from being trimmed: it then costs 8 bytes per connection
// ever dialed after it. It is also the list of connections a change of the
// network's rules walks (networkChanged), in the order dialed: a list of
// its own cost 16 bytes a connection.
//
// Connection structs are reused, but only at a safe point between events
// (recycle): code in the middle of an event may still hold a forgotten
// connection, and a node it calls may dial. One that holds links is not.
type connTable struct {
	base ConnID // id of tab[0]
	tab  []*conn
	dead []*conn // forgotten during the current event
	free []*conn
}

func (t *connTable) get(id ConnID) *conn {
	if i := uint64(id - t.base); i < uint64(len(t.tab)) {
		return t.tab[i]
	}
	return nil
}

// add stores a new connection with id, the highest so far.
func (t *connTable) add(id ConnID) *conn {
	var c *conn
	if n := len(t.free); n > 0 {
		c = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		c = new(conn)
	}
	if len(t.tab) == 0 {
		t.base = id
	}
	for ConnID(len(t.tab))+t.base < id {
		t.tab = append(t.tab, nil) // not reached while every dial adds its id
	}
	t.tab = append(t.tab, c)
	c.id = id
	return c
}

// forget drops c from the table; it is recycled at the next safe point.
func (t *connTable) forget(c *conn) {
	i := uint64(c.id - t.base)
	if i >= uint64(len(t.tab)) || t.tab[i] != c {
		return
	}
	t.tab[i] = nil
	t.dead = append(t.dead, c)
	n := 0
	for n < len(t.tab) && t.tab[n] == nil {
		n++
	}
	if n > 0 {
		clear(t.tab[:n])
		t.tab = t.tab[n:]
		t.base += ConnID(n)
	}
}

// recycle makes the connections forgotten since the last call reusable,
// but for those a link lives in: those are left to the links, their id
// cleared so that every connRef to them knows they are gone.
func (t *connTable) recycle() {
	for _, c := range t.dead {
		if c.hostsLinks() {
			c.id = 0
			continue
		}
		*c = conn{}
		t.free = append(t.free, c)
	}
	clear(t.dead)
	t.dead = t.dead[:0]
}

// len counts the connections in the table.
func (t *connTable) len() int {
	n := 0
	for _, c := range t.tab {
		if c != nil {
			n++
		}
	}
	return n
}

// connRef names a connection held across events, which may have been
// forgotten and its struct reused since: ok tells.
type connRef struct {
	c  *conn
	id ConnID
}

func (r connRef) ok() bool { return r.c.id == r.id }

// items is the world's one table of queued connection items beyond each
// direction's front, chained per direction; freed slots are reused, so a
// burst on one connection and then another allocates nothing.
//
// When a burst starts on the empty table, the table is dropped if
// neither of the last two bursts (the most items live between two
// emptyings) needed an eighth of it, and it holds more than itemsKeep:
// otherwise the registry's start, every client registering at once,
// leaves each of its 10,000 clients 150 bytes of free items for the rest
// of the run. Only an empty table is dropped, as the chains' indices would
// otherwise have to be rewritten. This is done in push, not as the table
// empties: pop is inlined in every delivery, and the check would stop it.
type items struct {
	v              []queued // chained by next: 1-based, 0: none
	free           int32    // 1-based head of the free chain, 0: none
	live           int32    // items in use
	peak, prevPeak int32    // the most live in the last burst, and the one before
}

// itemsKeep is the table's size (half a megabyte) below which it is kept
// when empty: bursts too rare to keep its room, as the fan-out bench's,
// would otherwise allocate it again.
var itemsKeep = 1 << 14 // a var: TestItemsKeepOrder lowers it to drop tables often

// fifo is one connection direction's queue: the front item inline, the
// rest chained in the world's item table. It also holds the direction's
// two flags, which the queue operations leave alone: in its padding, they
// let a direction fit one cache line.
type fifo struct {
	front       queued
	n           int32
	first, last int32 // 1-based indices into items, 0: none
	scheduled   bool  // the front has a delivery event
	stalled     bool  // a partition holds the front (see World.stalled)
}

func (it *items) push(f *fifo, q queued) {
	f.n++
	if f.n == 1 {
		f.front = q
		return
	}
	var i int32
	q.next = 0
	if it.live == 0 {
		it.burst()
	}
	if it.live++; it.live > it.peak {
		it.peak = it.live
	}
	if it.free != 0 {
		i = it.free
		it.free = it.v[i-1].next
		it.v[i-1] = q
	} else {
		it.v = append(it.v, q)
		i = int32(len(it.v))
	}
	if f.last == 0 {
		f.first = i
	} else {
		it.v[f.last-1].next = i
	}
	f.last = i
}

// pop drops the front item; the next one moves up.
func (it *items) pop(f *fifo) {
	f.n--
	if f.n == 0 {
		f.front.msg = nil // the rest is written before it is read again (push)
		return
	}
	i := f.first
	f.front = it.v[i-1]
	f.first = it.v[i-1].next
	if f.first == 0 {
		f.last = 0
	}
	it.release(i)
}

func (it *items) release(i int32) {
	it.v[i-1] = queued{next: it.free}
	it.free = i
	it.live--
}

// burst starts a burst on the empty table, which it drops when the last
// two bursts left most of it unused.
func (it *items) burst() {
	need := max(it.peak, it.prevPeak)
	it.prevPeak, it.peak = it.peak, 0
	if c := cap(it.v); c > itemsKeep && c > 8*int(need) {
		it.v, it.free = nil, 0
	}
}

// reset drops every item of f.
func (it *items) reset(f *fifo) {
	for i := f.first; i != 0; {
		next := it.v[i-1].next
		it.release(i)
		i = next
	}
	f.front, f.n, f.first, f.last = queued{}, 0, 0, 0
}
