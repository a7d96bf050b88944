// Package goroutines exercises goroutines, channels and select.
package goroutines

import (
	"context"
	"sync"
)

func work() {}

type C chan int // want `^channel type: channels need goroutines and block by the real scheduler; deliver messages and callbacks through the simulation, or add //detlint:allow <why>$`

type withChan struct {
	done <-chan struct{} // want `channel type`
}

func goroutines(ctx context.Context) {
	go work()      // want `^go statement: goroutines are scheduled nondeterministically; run the work inline or as a simulation event, or add //detlint:allow <why>$`
	go func() {}() // want `go statement`

	var wg sync.WaitGroup
	wg.Go(work) // want `sync.WaitGroup.Go starts a goroutine`
	wg.Add(1)
	wg.Done()
	wg.Wait()

	stop := context.AfterFunc(ctx, work) // want `context.AfterFunc runs its function on a new goroutine`
	stop()
}

func channels(in <-chan int) { // want `channel type`
	ch := make(chan int, 1) // want `channel type`
	ch <- 1                 // want `^channel send: `
	v := <-ch               // want `^channel receive: `
	v, ok := <-ch           // want `channel receive`
	_, _ = v, ok
	for x := range in { // want `range over channel`
		_ = x
	}
	var cc chan chan int // want `channel type`
	_ = cc
	c := make(C) // want `make of a channel`
	_ = len(c)
	close(ch)
}

func selects(a, b chan int) { // want `channel type`
	select { // want `^select statement: a ready case is chosen at random`
	case v := <-a:
		_ = v
	case v, ok := (<-a):
		_, _ = v, ok
	case <-b:
	case b <- 1:
	default:
	}
}
