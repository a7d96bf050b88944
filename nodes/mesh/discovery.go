package mesh

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// Discovery is a node's view of the service registry: applications publish
// their endpoint, the control plane subscribes to services. Its host node
// forwards connection events, messages and timers to the Handle methods.
type Discovery interface {
	Publish(service string, ep Endpoint)
	Unpublish(service string, addr sim.NodeID)
	Subscribe(service string)
	HandleConnected(c sim.ConnID, peer sim.NodeID) bool
	HandleClosed(c sim.ConnID, peer sim.NodeID) bool
	HandleMessage(c sim.ConnID, from sim.NodeID, msg any) bool
	HandleTimer(id sim.TimerID, tag any) bool
}

// DiscoveryFactory builds a node's Discovery at its start; onEndpoints
// receives a service's full endpoint list (sorted by address) on every
// change.
type DiscoveryFactory func(env *sim.Env, onEndpoints func(service string, eps []Endpoint)) Discovery

// RegistryDiscovery uses the registry's client library: an endpoint is a
// publisher of dataId "mesh/<service>" with registerId = its address.
func RegistryDiscovery(sessions []sim.NodeID) DiscoveryFactory {
	return func(env *sim.Env, on func(string, []Endpoint)) Discovery {
		d := &regDiscovery{id: env.ID(), env: env}
		d.c = registry.NewClient(env, registry.ClientConfig{Sessions: sessions, OnPush: func(regID string, dt *registry.Datum) {
			if on == nil || !strings.HasPrefix(dt.DataID, "mesh/") {
				return
			}
			var eps []Endpoint
			for _, p := range dt.Pubs {
				if ep, ok := parseEndpoint(p.Data); ok {
					eps = append(eps, ep)
				}
			}
			on(strings.TrimPrefix(dt.DataID, "mesh/"), newestByAddr(eps))
		}})
		return d
	}
}

// newestByAddr sorts endpoints by address and keeps the newest
// incarnation of each: a restarted instance publishes again before the
// registry has dropped its old incarnation's publisher (whose session
// learns of the crash later), and an address twice in a cluster would be
// one host counted twice (found by checkers/mesh max-ejection-percent in
// mesh-outlier: "2 of 3 hosts ejected" in a two-host subset).
func newestByAddr(eps []Endpoint) []Endpoint {
	slices.SortFunc(eps, func(a, b Endpoint) int {
		if c := strings.Compare(string(a.Addr), string(b.Addr)); c != 0 {
			return c
		}
		return int(a.Epoch) - int(b.Epoch)
	})
	out := eps[:0]
	for i, ep := range eps {
		if i+1 < len(eps) && eps[i+1].Addr == ep.Addr {
			continue
		}
		out = append(out, ep)
	}
	return out
}

type regDiscovery struct {
	c   *registry.Client
	id  sim.NodeID
	env *sim.Env
}

// regID names an instance's publisher: one per incarnation, because the
// registry orders a registerId's registrations by the client's version and
// a restarted process counts from one again.
func (d *regDiscovery) regID(addr sim.NodeID) string {
	return fmt.Sprintf("%s#%d", addr, d.env.Incarnation())
}

func (d *regDiscovery) Publish(service string, ep Endpoint) {
	d.c.Publish("mesh/"+service, d.regID(ep.Addr), formatEndpoint(ep))
}
func (d *regDiscovery) Unpublish(_ string, addr sim.NodeID) { d.c.Unpublish(d.regID(addr)) }

// Subscribe registers a subscriber per incarnation too: a pilot that
// restarted and subscribed again under its old registerId lost it when
// the session cleaned up the old connection, and then never heard of an
// endpoint change again (mesh-chaos seed 57: sidecars of that pilot kept
// empty clusters to the end; found by checkers/mesh convergence).
func (d *regDiscovery) Subscribe(service string) {
	d.c.Subscribe("mesh/"+service, fmt.Sprintf("sub/%s/%s#%d", service, d.id, d.env.Incarnation()))
}
func (d *regDiscovery) HandleConnected(c sim.ConnID, p sim.NodeID) bool {
	return d.c.HandleConnected(c, p)
}
func (d *regDiscovery) HandleClosed(c sim.ConnID, p sim.NodeID) bool { return d.c.HandleClosed(c, p) }
func (d *regDiscovery) HandleMessage(c sim.ConnID, f sim.NodeID, m any) bool {
	return d.c.HandleMessage(c, f, m)
}
func (d *regDiscovery) HandleTimer(id sim.TimerID, tag any) bool { return d.c.HandleTimer(id, tag) }

// formatEndpoint is an endpoint as registry publisher data.
func formatEndpoint(ep Endpoint) string {
	return fmt.Sprintf("a=%s;v=%s;w=%d;e=%d", ep.Addr, ep.Version, ep.Weight, ep.Epoch)
}

func parseEndpoint(data string) (Endpoint, bool) {
	var ep Endpoint
	var addr string
	_, err := fmt.Sscanf(strings.ReplaceAll(data, ";", " "), "a=%s v=%s w=%d e=%d", &addr, &ep.Version, &ep.Weight, &ep.Epoch)
	ep.Addr = sim.NodeID(addr)
	return ep, err == nil
}

// Catalog is a minimal registry in one node, for tests that do not need the
// real one: it keeps endpoints per service in memory and pushes a
// service's full list to its subscribers on every change. Publishers and
// subscribers re-register after a reconnect; a publisher's endpoints go
// when its connection closes, as with the real registry's sessions.
type Catalog struct {
	sim.BaseNode
	env  *sim.Env
	eps  map[string]map[sim.NodeID]catalogEntry
	subs map[string]map[sim.ConnID]bool
}

type catalogEntry struct {
	ep   Endpoint
	conn sim.ConnID
}

// Catalog protocol.
type (
	CatalogPublish struct {
		Service  string
		Endpoint Endpoint
		Unpub    bool
	}
	CatalogSubscribe struct{ Service string }
	CatalogPush      struct {
		Service   string
		Endpoints []Endpoint
	}
)

func (c *Catalog) Start(env *sim.Env) {
	c.env = env
	c.eps = map[string]map[sim.NodeID]catalogEntry{}
	c.subs = map[string]map[sim.ConnID]bool{}
}

func (c *Catalog) Message(conn sim.ConnID, _ sim.NodeID, msg any) {
	switch x := msg.(type) {
	case *CatalogPublish:
		m := c.eps[x.Service]
		if m == nil {
			m = map[sim.NodeID]catalogEntry{}
			c.eps[x.Service] = m
		}
		if x.Unpub {
			delete(m, x.Endpoint.Addr)
		} else {
			m[x.Endpoint.Addr] = catalogEntry{ep: x.Endpoint, conn: conn}
		}
		c.push(x.Service, 0)
	case *CatalogSubscribe:
		if c.subs[x.Service] == nil {
			c.subs[x.Service] = map[sim.ConnID]bool{}
		}
		c.subs[x.Service][conn] = true
		c.push(x.Service, conn)
	}
}

func (c *Catalog) Closed(conn sim.ConnID, _ sim.NodeID) {
	for _, svc := range slices.Sorted(maps.Keys(c.eps)) {
		changed := false
		for _, a := range slices.Sorted(maps.Keys(c.eps[svc])) {
			if c.eps[svc][a].conn == conn {
				delete(c.eps[svc], a)
				changed = true
			}
		}
		if changed {
			c.push(svc, 0)
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(c.subs)) {
		delete(c.subs[svc], conn)
	}
}

// push sends the service's endpoints to one subscriber (only) or all.
func (c *Catalog) push(svc string, only sim.ConnID) {
	var eps []Endpoint
	for _, a := range slices.Sorted(maps.Keys(c.eps[svc])) {
		eps = append(eps, c.eps[svc][a].ep)
	}
	for _, conn := range slices.Sorted(maps.Keys(c.subs[svc])) {
		if only == 0 || conn == only {
			c.env.Send(conn, &CatalogPush{Service: svc, Endpoints: eps})
		}
	}
}

// CatalogDiscovery connects to a Catalog node.
func CatalogDiscovery(catalog sim.NodeID) DiscoveryFactory {
	return func(env *sim.Env, on func(string, []Endpoint)) Discovery {
		d := &catalogClient{env: env, catalog: catalog, on: on, pubs: map[string]CatalogPublish{}}
		d.dial()
		return d
	}
}

type catalogClient struct {
	env     *sim.Env
	catalog sim.NodeID
	conn    sim.ConnID
	on      func(string, []Endpoint)
	pubs    map[string]CatalogPublish // by address
	subs    []string
}

type catalogRedial struct{}

func (d *catalogClient) dial() {
	d.conn = d.env.Dial(d.catalog)
	for _, a := range slices.Sorted(maps.Keys(d.pubs)) {
		p := d.pubs[a]
		d.env.Send(d.conn, &p)
	}
	for _, s := range d.subs {
		d.env.Send(d.conn, &CatalogSubscribe{Service: s})
	}
}

func (d *catalogClient) Publish(service string, ep Endpoint) {
	p := CatalogPublish{Service: service, Endpoint: ep}
	d.pubs[string(ep.Addr)] = p
	d.env.Send(d.conn, &p)
}

func (d *catalogClient) Unpublish(service string, addr sim.NodeID) {
	p, ok := d.pubs[string(addr)]
	if !ok {
		return
	}
	delete(d.pubs, string(addr))
	p.Unpub = true
	d.env.Send(d.conn, &p)
}

func (d *catalogClient) Subscribe(service string) {
	d.subs = append(d.subs, service)
	d.env.Send(d.conn, &CatalogSubscribe{Service: service})
}

func (d *catalogClient) HandleConnected(c sim.ConnID, _ sim.NodeID) bool { return c == d.conn }

func (d *catalogClient) HandleClosed(c sim.ConnID, _ sim.NodeID) bool {
	if c != d.conn {
		return false
	}
	d.conn = 0
	d.env.SetTimer(200*time.Millisecond, catalogRedial{})
	return true
}

func (d *catalogClient) HandleMessage(c sim.ConnID, _ sim.NodeID, msg any) bool {
	p, ok := msg.(*CatalogPush)
	if !ok || c != d.conn {
		return ok
	}
	if d.on != nil {
		d.on(p.Service, p.Endpoints)
	}
	return true
}

func (d *catalogClient) HandleTimer(_ sim.TimerID, tag any) bool {
	if _, ok := tag.(catalogRedial); !ok {
		return false
	}
	d.dial()
	return true
}
