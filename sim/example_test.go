package sim_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// pinger dials the server, sends a ping every 100ms and counts the pongs.
type pinger struct {
	sim.BaseNode // no-op defaults for the callbacks it does not need
	env          *sim.Env
	conn         sim.ConnID
	pongs        int
}

func (p *pinger) Start(env *sim.Env) {
	p.env = env
	p.conn = env.Dial("server")
	env.SetTimer(100*time.Millisecond, nil)
}

func (p *pinger) Timer(sim.TimerID, any) {
	p.env.Send(p.conn, "ping")
	p.env.SetTimer(100*time.Millisecond, nil)
}

func (p *pinger) Message(sim.ConnID, sim.NodeID, any) { p.pongs++ }

// echo answers every message on the connection it came on.
type echo struct {
	sim.BaseNode
	env *sim.Env
}

func (e *echo) Start(env *sim.Env) { e.env = env }

func (e *echo) Message(c sim.ConnID, _ sim.NodeID, _ any) { e.env.Send(c, "pong") }

// The smallest complete world: two nodes, a connection, a fault plan (the
// server is cut off for half a second, shorter than the keepalive, so the
// connection survives and the pings wait), a run and its fingerprint. The
// same seed and plan always give the same run, and so the same output.
func Example() {
	w := sim.NewWorld(sim.Config{Seed: 42})
	w.AddNode("server", func() sim.Node { return &echo{} })
	w.AddNode("client", func() sim.Node { return &pinger{} })

	plan := []sim.Fault{
		{At: sim.Duration(time.Second), Op: sim.Partition{Cuts: sim.Isolate("server", w.NodeIDs())}},
		{At: sim.Duration(1500 * time.Millisecond), Op: sim.Heal{}},
	}
	if err := w.Schedule(plan); err != nil {
		panic(err)
	}
	data, _ := json.Marshal(plan) // a plan is data: save it, replay it with sim.ParseFaults
	fmt.Println(string(data))

	out := w.Run(sim.Limits{Until: 3 * time.Second})
	fmt.Println("stopped:", out.Reason, "at", out.Now)
	fmt.Println("pongs:", w.Node("client").(*pinger).pongs)
	for _, f := range w.Faults() {
		fmt.Println("fault:", f.Fault)
	}
	fmt.Printf("fingerprint: %016x\n", w.Fingerprint())
	// Output:
	// [{"at":"1s","kind":"partition","cuts":[{"from":["server"],"to":["client"]},{"from":["client"],"to":["server"]}]},{"at":"1.5s","kind":"heal"}]
	// stopped: until at 3s
	// pongs: 29
	// fault: partition @1s {[server] -/-> [client]} {[client] -/-> [server]}
	// fault: heal @1.5s
	// fingerprint: 6802d30a90e2ffcd
}
