package sim

import "math/bits"

// calendar is the world's event queue (timers aside): a calendar queue
// that pops in exactly the (time, sequence) order a binary heap would, at
// a cost that does not grow with the number of events in flight.
//
// Events due within span of the cursor sit in buckets of bucketWidth
// nanoseconds, each a small heap; a bitmap finds the next non-empty bucket.
// Later events wait in the far heap and move into their bucket when the
// cursor comes within span of them. Events are never scheduled before the
// last one popped (virtual time does not go back), which is what lets the
// cursor only move forward.
//
// A binary heap of n events costs O(log n) cache misses per pop once it
// outgrows the caches: in a world of 10,000 nodes with a message in flight
// each, the heap was most of the cost of an event.
type calendar struct {
	cur     int64 // bucket number (at >> bucketShift) of the cursor
	n       int   // events in buckets
	buckets [nBuckets]queue
	used    [nBuckets / 64]uint64 // bit i: bucket i is not empty
	summary uint64                // bit j: used[j] != 0
	far     queue
}

const (
	bucketShift = 10 // buckets of 1,024 ns
	nBuckets    = 4096
	// span is how far ahead of the cursor buckets reach: about 4 ms, the
	// bulk of network latencies.
	span = nBuckets << bucketShift
)

func (c *calendar) push(e entry) {
	b := e.at >> bucketShift
	if b >= c.cur+nBuckets {
		c.far.push(e)
		return
	}
	// b >= c.cur: nothing is scheduled before the last event popped.
	i := int(b & (nBuckets - 1))
	c.buckets[i].push(e)
	c.n++
	c.used[i>>6] |= 1 << (i & 63)
	c.summary |= 1 << (i >> 6)
}

// next returns the bucket holding the earliest event, or nil if none is
// left. It moves the cursor there, pulling far events into buckets.
func (c *calendar) next() *queue {
	if c.n == 0 {
		if len(c.far.h) == 0 {
			return nil
		}
		c.advance(c.far.h[0].at >> bucketShift)
	}
	i := c.first()
	c.advance(c.cur + int64((i-int(c.cur&(nBuckets-1)))&(nBuckets-1)))
	return &c.buckets[i]
}

// peek returns the earliest event, or nil. It leaves the cursor where it
// is: the caller may still schedule events before the one returned.
func (c *calendar) peek() *entry {
	if c.n == 0 {
		if len(c.far.h) == 0 {
			return nil
		}
		return &c.far.h[0]
	}
	return &c.buckets[c.first()].h[0]
}

func (c *calendar) pop() entry {
	q := c.next()
	e := q.pop()
	c.n--
	if len(q.h) == 0 {
		i := int(c.cur & (nBuckets - 1))
		c.used[i>>6] &^= 1 << (i & 63)
		if c.used[i>>6] == 0 {
			c.summary &^= 1 << (i >> 6)
		}
	}
	return e
}

// first finds the first non-empty bucket at or after the cursor, in
// cursor order (the buckets are a ring). There is one.
func (c *calendar) first() int {
	p := int(c.cur & (nBuckets - 1))
	w := p >> 6
	if m := c.used[w] >> (p & 63); m != 0 {
		return p + bits.TrailingZeros64(m)
	}
	// The next non-empty word after w, wrapping around; w itself last
	// (its bits below p are the ring's far end).
	s := bits.RotateLeft64(c.summary, -(w + 1))
	j := (w + 1 + bits.TrailingZeros64(s)) & (len(c.used) - 1)
	return j<<6 + bits.TrailingZeros64(c.used[j])
}

// advance moves the cursor forward to bucket b and pulls the far events
// that are now within span into their buckets.
func (c *calendar) advance(b int64) {
	if b <= c.cur {
		return
	}
	c.cur = b
	for len(c.far.h) > 0 && c.far.h[0].at>>bucketShift < c.cur+nBuckets {
		c.push(c.far.pop())
	}
}
