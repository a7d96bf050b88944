package rehearsal

import (
	"strconv"
	"time"

	"github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/sim"
)

// appPod is a service instance of the rehearsal: a mesh pod (sidecar and
// worker pool) whose requests, after the service time and with the worker
// held, run the service's database branch and call its downstream
// services through the sidecar, inside a global transaction when the
// service begins one.
type appPod struct {
	h   *harness
	svc *Service
	pc  mesh.PodConfig
	pod *mesh.Pod
	co  *coordinator.Client
	env *sim.Env
	seq uint64
	// work waiting for its service time, by timer tag.
	work map[uint64]func()
}

// workDone ends a request's own service time.
type workDone struct{ id uint64 }

// xidHeader carries the global transaction downstream (Seata's TX_XID).
const xidHeader = "tx-xid"

func (p *appPod) Start(env *sim.Env) {
	p.env = env
	p.work = map[uint64]func(){}
	app := *p.pc.App
	app.Then = p.then
	pc := p.pc
	pc.App = &app
	p.pod = mesh.NewPod(pc)
	p.pod.Start(env)
	if p.svc.Transaction || p.svc.Resource != "" {
		p.co = coordinator.NewClient(env, p.h.co)
	}
}

func (p *appPod) Connected(c sim.ConnID, peer sim.NodeID) {
	if p.co == nil || !p.co.HandleConnected(c, peer) {
		p.pod.Connected(c, peer)
	}
}

func (p *appPod) Closed(c sim.ConnID, peer sim.NodeID) {
	if p.co == nil || !p.co.HandleClosed(c, peer) {
		p.pod.Closed(c, peer)
	}
}

func (p *appPod) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if p.co == nil || !p.co.HandleMessage(c, from, msg) {
		p.pod.Message(c, from, msg)
	}
}

func (p *appPod) Datagram(from sim.NodeID, msg any) { p.pod.Datagram(from, msg) }

func (p *appPod) Timer(id sim.TimerID, tag any) {
	if w, ok := tag.(workDone); ok {
		fn := p.work[w.id]
		delete(p.work, w.id)
		if fn != nil {
			fn()
		}
		return
	}
	if p.co == nil || !p.co.HandleTimer(id, tag) {
		p.pod.Timer(id, tag)
	}
}

// then is the service's work for one request, after the mesh App's
// (zero) service time.
func (p *appPod) then(req mesh.Request, done func(mesh.Response)) {
	p.seq++
	id := p.seq
	p.work[id] = func() { p.afterWork(req, done) }
	p.env.SetTimer(p.svc.ServiceTime.Draw(p.env.Rand()), workDone{id})
}

func (p *appPod) afterWork(req mesh.Request, done func(mesh.Response)) {
	answer := func(err bool) {
		if err {
			// Executed here: never NotExecuted, so callers do not replay it.
			done(mesh.Response{Status: mesh.StatusError})
			return
		}
		done(mesh.Response{Status: mesh.StatusOK})
	}
	if !p.svc.Transaction {
		xid, _ := strconv.ParseUint(req.Header(xidHeader), 10, 64)
		p.body(coordinator.XID(xid), func(failed bool) { answer(failed) })
		return
	}
	start := p.h.w.Now()
	tm := p.co.TM()
	tm.Begin(time.Duration(p.h.f.Coordinator.TxTimeout), func(x coordinator.XID, err error) {
		if err != nil {
			p.h.m.transaction(start, false, true)
			answer(true)
			return
		}
		p.body(x, func(failed bool) {
			end := tm.Commit
			if failed {
				end = tm.Rollback
			}
			end(x, func(o coordinator.Outcome) {
				p.h.m.transaction(start, o == coordinator.OutcomeCommitted, o != coordinator.OutcomeUnknown)
				answer(failed || o != coordinator.OutcomeCommitted)
			})
		})
	})
}

// body runs the database branch, then the calls, one after another.
func (p *appPod) body(x coordinator.XID, done func(failed bool)) {
	steps := []func(next func(bool)){}
	if p.svc.Resource != "" && x != 0 {
		steps = append(steps, func(next func(bool)) { p.branch(x, next) })
	}
	for _, c := range p.svc.Calls {
		steps = append(steps, func(next func(bool)) { p.call(c, x, next) })
	}
	var run func(i int)
	run = func(i int) {
		if i == len(steps) {
			done(false)
			return
		}
		steps[i](func(failed bool) {
			if failed {
				done(true)
				return
			}
			run(i + 1)
		})
	}
	run(0)
}

// branch is the service's own database work: a transfer between two
// accounts (AT) or a stock reservation (TCC).
func (p *appPod) branch(x coordinator.XID, done func(bool)) {
	r := p.env.Rand()
	dbs := p.h.dbs[p.svc.Name]
	db := dbs[r.IntN(len(dbs))]
	co := p.h.co
	if p.svc.Resource == "tcc" {
		p.co.Reserve(x, db, coordinator.ItemName(r.IntN(co.Items)), 1, func(err error) { done(err != nil) })
		return
	}
	from, to := r.IntN(co.Accounts), r.IntN(co.Accounts-1)
	if to >= from {
		to++
	}
	db2 := dbs[r.IntN(len(dbs))]
	amt := 1 + r.Int64N(100)
	p.co.Add(x, db, coordinator.AccountName(from), -amt, func(err error) {
		if err != nil {
			done(true)
			return
		}
		p.co.Add(x, db2, coordinator.AccountName(to), amt, func(err error) { done(err != nil) })
	})
}

func (p *appPod) call(service string, x coordinator.XID, done func(bool)) {
	p.seq++
	req := mesh.Request{ID: string(p.env.ID()) + "#" + strconv.FormatUint(uint64(p.env.Incarnation()), 10) + "/" + strconv.FormatUint(p.seq, 10),
		Service: service, Path: "/"}
	if x != 0 {
		req.Headers = []mesh.Header{{Name: xidHeader, Value: strconv.FormatUint(uint64(x), 10)}}
	}
	start := p.h.w.Now()
	p.h.m.issued(service)
	p.pod.Sidecar().Outbound(req, func(r mesh.Response) {
		p.h.m.answered(service, start, r.OK())
		done(!r.OK())
	})
}
