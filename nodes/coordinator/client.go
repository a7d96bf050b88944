package coordinator

import (
	"errors"

	"github.com/sofasim/sofasim/sim"
)

// Client is the coordinator's client side for a node of another system
// (an application pod of the mesh): the TM library, TCC branch
// registration and calls to the RMs, over its own connections and TC
// discovery. Its host forwards connection events, messages and timers;
// each Handle method reports whether the event was the client's.
type Client struct {
	cfg Config
	env *sim.Env
	rpc *rpc
	dsc *discovery
	tc  *tcClient
	tm  *TM
}

// NewClient starts a client inside a running node.
func NewClient(env *sim.Env, cfg Config) *Client {
	cfg.defaults()
	c := &Client{cfg: cfg, env: env, rpc: newRPC(env)}
	c.dsc = newDiscovery(env, &c.cfg, false)
	c.tc = &tcClient{r: c.rpc, env: env, servers: c.dsc.servers, cfg: &c.cfg, target: env.Rand().IntN(max(1, len(cfg.TCs)))}
	c.tm = newTM(env, c.tc, c.cfg.Observer)
	return c
}

// TM begins, commits and rolls back global transactions.
func (c *Client) TM() *TM { return c.tm }

// Add runs an AT phase one on rm: Amount added to Account under x.
func (c *Client) Add(x XID, rm sim.NodeID, account string, amount int64, done func(error)) {
	c.call(rm, Call{Op: CallAdd, XID: x, Account: account, Amount: amount}, done)
}

// Reserve registers a TCC branch of x for item on rm and calls its try.
func (c *Client) Reserve(x XID, rm sim.NodeID, item string, amount int64, done func(error)) {
	c.tc.do(TCRequest{Kind: ReqRegister, XID: x, RM: rm, Resource: item, Mode: ModeTCC}, false, func(resp *TCResponse, err error) {
		if err != nil || resp.Code != CodeOK {
			done(errors.New("tcc register failed"))
			return
		}
		c.call(rm, Call{Op: CallTry, XID: x, Branch: resp.Branch, Account: item, Amount: amount}, done)
	})
}

func (c *Client) call(rm sim.NodeID, m Call, done func(error)) {
	m.Req = c.rpc.id()
	c.rpc.send(rm, m.Req, &m, c.cfg.RPCTimeout, func(resp any, err error) {
		if err == nil && !resp.(*CallResp).OK {
			err = errors.New(resp.(*CallResp).Err)
		}
		done(err)
	})
}

// HandleMessage takes the client's answers and registry pushes.
func (c *Client) HandleMessage(conn sim.ConnID, from sim.NodeID, msg any) bool {
	return c.rpc.handleMessage(msg) || c.dsc.handleMessage(conn, from, msg)
}

// HandleConnected takes the client's registry connections.
func (c *Client) HandleConnected(conn sim.ConnID, peer sim.NodeID) bool {
	_, mine := c.rpc.peers[conn]
	return mine || c.dsc.handleConnected(conn, peer)
}

// HandleClosed fails the calls in flight on a broken connection.
func (c *Client) HandleClosed(conn sim.ConnID, peer sim.NodeID) bool {
	return c.rpc.handleClosed(conn) || c.dsc.handleClosed(conn, peer)
}

// HandleTimer runs the client's timers.
func (c *Client) HandleTimer(id sim.TimerID, tag any) bool {
	return c.tc.handleTimer(tag) || c.dsc.handleTimer(id, tag)
}
