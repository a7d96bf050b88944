package registry

// A client's registrations, kept in slices sorted by registerId: a client
// holds a few (one publisher and one subscriber in the capacity
// benchmark), and a Go map costs at least 256 bytes from its first entry
// (a header and a group of eight slots), where a record costs its size.
// The sorted order is also the order a reconnect re-registers them in.

import "slices"

// clientPub is a registerId's publisher state. ver is its last version,
// kept after an unpublish so that a new publish numbers on.
type clientPub struct {
	regID, dataID, data string
	ver                 uint64
	live                bool         // published (false after an unpublish)
	rev                 *AppRevision // the revision an app publisher named, kept like ver
}

func (r *clientPub) value() Pub {
	return Pub{DataID: r.dataID, RegID: r.regID, Data: r.data, Version: r.ver}
}

// find returns the index of regID's record in s (sorted by key), or where
// it would go. (slices.BinarySearchFunc would pass each record by value,
// and taking its key's address moved every probe to the heap.)
func find[T any](s []T, regID string, key func(*T) string) (int, bool) {
	i, j := 0, len(s)
	for i < j {
		h := int(uint(i+j) >> 1)
		if key(&s[h]) < regID {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(s) && key(&s[i]) == regID
}

func pubKey(r *clientPub) string       { return r.regID }
func subKey(s *ClientSubscribe) string { return s.RegID }

// pubRec is regID's record, added (with version 0) when absent.
func (c *Client) pubRec(regID string) *clientPub {
	i, ok := find(c.pubs, regID, pubKey)
	if !ok {
		c.pubs = slices.Insert(c.pubs, i, clientPub{regID: regID})
	}
	return &c.pubs[i]
}

// pub is regID's publisher (nil unless published).
func (c *Client) pub(regID string) *Pub {
	if i, ok := find(c.pubs, regID, pubKey); ok && c.pubs[i].live {
		p := c.pubs[i].value()
		return &p
	}
	return nil
}

// version is regID's last version (0: never published).
func (c *Client) version(regID string) uint64 {
	if i, ok := find(c.pubs, regID, pubKey); ok {
		return c.pubs[i].ver
	}
	return 0
}

// sub is regID's subscriber (nil if none); valid until the next Subscribe.
func (c *Client) sub(regID string) *ClientSubscribe {
	if i, ok := find(c.subs, regID, subKey); ok {
		return &c.subs[i]
	}
	return nil
}

// setSub stores a subscriber, replacing regID's.
func (c *Client) setSub(s ClientSubscribe) {
	i, ok := find(c.subs, s.RegID, subKey)
	if ok {
		c.subs[i] = s
		return
	}
	c.subs = slices.Insert(c.subs, i, s)
}

// reregister sends every registration on a new connection, publishers
// then subscribers, each by registerId.
func (c *Client) reregister() {
	for i := range c.pubs {
		if c.pubs[i].live {
			c.send(c.registration(&c.pubs[i]))
		}
	}
	for i := range c.subs {
		c.sendSub(&c.subs[i])
	}
}
