package coordinator

import (
	"errors"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Workload configures an App.
type Workload struct {
	// Think is the mean pause between operations (default 50ms).
	Think time.Duration
	// Shares of operations in parts per million: TCC reservations, audits,
	// the rest AT transfers. SplitPPM of transfers debit the source in two
	// branches (two updates of one row in one global transaction).
	TCCPPM, AuditPPM, SplitPPM int
	// ReadPPM of operations read one account with SELECT FOR UPDATE
	// inside a global transaction.
	ReadPPM int
	// MaxAmount of a transfer or reservation (default 50).
	MaxAmount int64
	// Until: no operation starts after this much monotonic time (0: never stop).
	Until time.Duration
	// Scripted: the App draws nothing itself and runs only the
	// transactions its host asks for with Run (scenarios draw them from
	// their seed, so plans can be printed and shrunk).
	Scripted bool
}

// App is a business application node: it runs global transactions (bank
// transfers between accounts of different RMs, TCC reservations, audits)
// with the TM library and calls the RMs' services.
type App struct {
	cfg Config
	wl  Workload
	env *sim.Env
	rpc *rpc
	dsc *discovery
	tm  *TM
	tc  *tcClient
	// Stats
	Committed, RolledBack, Unknown, Failed int
}

type nextOp struct{}

// NewApp builds an application node.
func NewApp(cfg Config, wl Workload) *App {
	cfg.defaults()
	if wl.Think <= 0 {
		wl.Think = 50 * time.Millisecond
	}
	if wl.MaxAmount <= 0 {
		wl.MaxAmount = 50
	}
	return &App{cfg: cfg, wl: wl}
}

// AddApps adds application nodes to the world.
func AddApps(w *sim.World, cfg Config, wl Workload, ids []sim.NodeID) {
	for _, id := range ids {
		w.AddNode(id, func() sim.Node { return NewApp(cfg, wl) })
	}
}

func (a *App) Start(env *sim.Env) {
	a.env = env
	a.rpc = newRPC(env)
	a.dsc = newDiscovery(env, &a.cfg, false)
	a.tc = &tcClient{r: a.rpc, env: env, servers: a.dsc.servers, cfg: &a.cfg, target: env.Rand().IntN(max(1, len(a.cfg.TCs)))}
	a.tm = newTM(env, a.tc, a.cfg.Observer)
	if !a.wl.Scripted {
		a.schedule()
	}
}

func (a *App) schedule() {
	d := time.Duration(a.env.Rand().Int64N(int64(2*a.wl.Think) + 1))
	a.env.SetTimer(d, nextOp{})
}

func (a *App) Connected(c sim.ConnID, p sim.NodeID) { a.dsc.handleConnected(c, p) }
func (a *App) Closed(c sim.ConnID, p sim.NodeID) {
	if !a.rpc.handleClosed(c) {
		a.dsc.handleClosed(c, p)
	}
}
func (a *App) Datagram(sim.NodeID, any) {}
func (a *App) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if !a.rpc.handleMessage(msg) {
		a.dsc.handleMessage(c, from, msg)
	}
}

func (a *App) Timer(id sim.TimerID, tag any) {
	switch t := tag.(type) {
	case nextOp:
		if a.wl.Until > 0 && a.env.Monotonic() > a.wl.Until {
			return
		}
		a.op()
	case later:
		t.fn()
	default:
		if !a.tc.handleTimer(tag) {
			a.dsc.handleTimer(id, tag)
		}
	}
}

func (a *App) call(rm sim.NodeID, c Call, done func(*CallResp, error)) {
	c.Req = a.rpc.id()
	a.rpc.send(rm, c.Req, &c, a.cfg.RPCTimeout, func(resp any, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		r := resp.(*CallResp)
		if !r.OK {
			done(r, errors.New(r.Err))
			return
		}
		done(r, nil)
	})
}

func (a *App) op() {
	r := a.env.Rand()
	p := r.IntN(1_000_000)
	next := func(Outcome) { a.schedule() }
	switch {
	case p < a.wl.AuditPPM:
		a.global(a.audit, false, next)
	case p < a.wl.AuditPPM+a.wl.TCCPPM:
		a.global(a.reserve, false, next)
	case p < a.wl.AuditPPM+a.wl.TCCPPM+a.wl.ReadPPM:
		a.global(a.read, false, next)
	default:
		a.global(a.transfer, false, next)
	}
}

// global runs body inside a global transaction: commit if it succeeds,
// roll back otherwise (or always, with abort: the business logic changed
// its mind after its branches ran). then hears the outcome (OutcomeFailed:
// the begin failed).
func (a *App) global(body func(x XID, done func(error)), abort bool, then func(Outcome)) {
	a.tm.Begin(a.cfg.TxTimeout, func(x XID, err error) {
		if err != nil {
			a.Failed++
			then(OutcomeFailed)
			return
		}
		body(x, func(err error) {
			end := a.tm.Commit
			if err != nil || abort {
				end = a.tm.Rollback
			}
			end(x, func(o Outcome) {
				switch o {
				case OutcomeCommitted:
					a.Committed++
				case OutcomeRolledBack:
					a.RolledBack++
				default:
					a.Unknown++
				}
				then(o)
			})
		})
	})
}

// steps runs calls one after another, stopping at the first failure.
func steps(fns []func(done func(error)), done func(error)) {
	if len(fns) == 0 {
		done(nil)
		return
	}
	fns[0](func(err error) {
		if err != nil {
			done(err)
			return
		}
		steps(fns[1:], done)
	})
}

func (a *App) pickAccount() (sim.NodeID, string) {
	r := a.env.Rand()
	return a.cfg.RMs[r.IntN(len(a.cfg.RMs))], AccountName(r.IntN(a.cfg.Accounts))
}

func (a *App) add(x XID, rm sim.NodeID, acct string, amt int64) func(func(error)) {
	return func(done func(error)) {
		a.call(rm, Call{Op: CallAdd, XID: x, Account: acct, Amount: amt}, func(_ *CallResp, err error) { done(err) })
	}
}

// transfer moves money between two accounts drawn from the App's stream.
func (a *App) transfer(x XID, done func(error)) {
	r := a.env.Rand()
	srm, sacct := a.pickAccount()
	drm, dacct := a.pickAccount()
	for drm == srm && dacct == sacct {
		drm, dacct = a.pickAccount()
	}
	t := Txn{Kind: TxnTransfer, FromRM: srm, From: sacct, ToRM: drm, To: dacct, Amount: 1 + r.Int64N(a.wl.MaxAmount)}
	t.Split = t.Amount > 1 && r.IntN(1_000_000) < a.wl.SplitPPM
	a.runTransfer(t)(x, done)
}

// runTransfer debits From (in two branches on the same row when Split),
// then credits To (possibly on another RM).
func (a *App) runTransfer(t Txn) func(XID, func(error)) {
	return func(x XID, done func(error)) {
		var fns []func(func(error))
		if t.Split && t.Amount > 1 {
			fns = append(fns, a.add(x, t.FromRM, t.From, -(t.Amount/2)), a.add(x, t.FromRM, t.From, -(t.Amount-t.Amount/2)))
		} else {
			fns = append(fns, a.add(x, t.FromRM, t.From, -t.Amount))
		}
		fns = append(fns, a.add(x, t.ToRM, t.To, t.Amount))
		steps(fns, done)
	}
}

// reserve reserves an item drawn from the App's stream.
func (a *App) reserve(x XID, done func(error)) {
	r := a.env.Rand()
	rm := a.cfg.RMs[r.IntN(len(a.cfg.RMs))]
	item := ItemName(r.IntN(a.cfg.Items))
	amt := 1 + r.Int64N(min(a.wl.MaxAmount, a.cfg.Stock/4+1))
	a.runReserve(Txn{Kind: TxnReserve, FromRM: rm, From: item, Amount: amt})(x, done)
}

// runReserve registers a TCC branch on an RM for an item, then calls its try.
func (a *App) runReserve(t Txn) func(XID, func(error)) {
	return func(x XID, done func(error)) {
		a.tc.do(TCRequest{Kind: ReqRegister, XID: x, RM: t.FromRM, Resource: t.From, Mode: ModeTCC}, false, func(resp *TCResponse, err error) {
			if err != nil || resp.Code != CodeOK {
				done(errors.New("tcc register failed"))
				return
			}
			a.call(t.FromRM, Call{Op: CallTry, XID: x, Branch: resp.Branch, Account: t.From, Amount: t.Amount}, func(_ *CallResp, err error) { done(err) })
		})
	}
}

// audit reads every account of every RM with SELECT FOR UPDATE, holding
// the global locks, and reports the sum.
func (a *App) audit(x XID, done func(error)) {
	var sum int64
	var fns []func(func(error))
	for _, rm := range a.cfg.RMs {
		fns = append(fns, func(d func(error)) {
			a.call(rm, Call{Op: CallAudit, XID: x}, func(resp *CallResp, err error) {
				if err == nil {
					for _, v := range resp.Values { //detlint:allow summing is order-independent
						sum += v
					}
				}
				d(err)
			})
		})
	}
	steps(fns, func(err error) {
		a.tm.tell(TMEvent{Op: "audit", XID: x, Sum: sum, Complete: err == nil})
		done(err)
	})
}

// read reads one account drawn from the App's stream.
func (a *App) read(x XID, done func(error)) {
	rm, acct := a.pickAccount()
	a.runRead(Txn{Kind: TxnRead, FromRM: rm, From: acct})(x, done)
}

// runRead reads one account with SELECT FOR UPDATE.
func (a *App) runRead(t Txn) func(XID, func(error)) {
	return func(x XID, done func(error)) {
		a.call(t.FromRM, Call{Op: CallRead, XID: x, Account: t.From, ForUpdate: true}, func(_ *CallResp, err error) { done(err) })
	}
}
