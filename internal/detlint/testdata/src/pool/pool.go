// Package pool exercises sync.Pool.
package pool

import "sync"

var bufs = sync.Pool{New: func() any { return new([]byte) }} // want `^sync.Pool: whether Get returns a recycled or a new object depends on the garbage collector; allocate, or keep an explicit free list, or add //detlint:allow <why>$`

type cache struct {
	p *sync.Pool // want `sync.Pool:`
}

func use(c *cache) {
	b := bufs.Get() // want `^sync.Pool.Get: whether it returns a recycled or a new object`
	bufs.Put(b)
	_ = c.p.Get() // want `sync.Pool.Get:`
}

// Allowed: the rest of package sync.
var (
	once sync.Once
	mu   sync.Mutex
	rw   sync.RWMutex
)
