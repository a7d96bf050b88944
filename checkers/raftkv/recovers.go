package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// RecoversFromDisk: a server starts from whatever a crash left on its disk
// (torn tails included) unless the disk was corrupted at rest. The harness
// feeds recovery the disk at every restart, every 500 ms while a member
// runs (recorded only when it fails) and, at the end, each member's crash
// image: a WAL that recovery itself damaged (a torn tail cut at the
// wrong offset, a record appended over garbage) fails here even if no
// later crash happened to read it.
type RecoversFromDisk struct{}

func (RecoversFromDisk) Name() string { return "recovers-from-disk" }

func (c RecoversFromDisk) Check(p *Protocol, _ checkers.Options) checkers.Result {
	var bad []string
	n := 0
	for _, e := range p.Events {
		if e.Kind != DiskImage {
			continue
		}
		n++
		if e.Key != "" {
			bad = append(bad, e.String())
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d disk images recovered", n))
}
