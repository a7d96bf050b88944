package registry

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// sinkSession records what clients send it, by connection.
type sinkSession struct {
	sim.BaseNode
	got map[sim.ConnID][]any
}

func (s *sinkSession) Start(*sim.Env) { s.got = map[sim.ConnID][]any{} }

func (s *sinkSession) Message(c sim.ConnID, _ sim.NodeID, m any) {
	if _, ping := m.(*ClientPing); !ping {
		s.got[c] = append(s.got[c], m)
	}
}

// A client's registrations behave as the maps they replaced: versions
// count every publish and unpublish of a registerId and survive an
// unpublish, an unpublish of what is not published sends nothing, a new
// subscription keeps the version last pushed, and a reconnect sends the
// live publishers, then the subscribers, each by registerId.
func TestClientRegistrations(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		type op struct {
			kind     int // 0 publish, 1 unpublish, 2 subscribe
			reg, val string
		}
		ops := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) op {
			return op{kind: rapid.IntRange(0, 2).Draw(t, "kind"), reg: fmt.Sprintf("r%d", rapid.IntRange(0, 5).Draw(t, "reg")),
				val: fmt.Sprintf("v%d", rapid.IntRange(0, 3).Draw(t, "val"))}
		}), 1, 30).Draw(rt, "ops")
		w := sim.NewWorld(sim.Config{Seed: 1})
		sink := &sinkSession{}
		w.AddNode("session-1", func() sim.Node { return sink })
		vers, live, subs := map[string]uint64{}, map[string]string{}, map[string]string{}
		var want, again []any
		var inc uint64
		h := &testHost{cfg: ClientConfig{Sessions: []sim.NodeID{"session-1"}}, start: func(c *Client) {
			inc = uint64(c.env.Incarnation()) << 32
			want = append(want, &ClientHello{Client: c.name()})
			for _, o := range ops {
				switch o.kind {
				case 0:
					vers[o.reg]++
					live[o.reg] = o.val
					require.Equal(rt, vers[o.reg], c.Publish("svc", o.reg, o.val))
					want = append(want, &ClientPublish{Pub: Pub{DataID: "svc", RegID: o.reg, Data: o.val, Version: vers[o.reg], Conn: inc | 1}})
				case 1:
					if data, ok := live[o.reg]; ok {
						vers[o.reg]++
						delete(live, o.reg)
						want = append(want, &ClientPublish{Pub: Pub{DataID: "svc", RegID: o.reg, Data: data, Version: vers[o.reg], Conn: inc | 1}, Unpub: true})
					}
					c.Unpublish(o.reg)
				case 2:
					subs[o.reg] = o.val
					c.Subscribe(o.val, o.reg)
					want = append(want, &ClientSubscribe{DataID: o.val, RegID: o.reg, Conn: inc | 1})
				}
				require.Equal(rt, vers[o.reg], c.version(o.reg))
				if data, ok := live[o.reg]; ok {
					require.Equal(rt, &Pub{DataID: "svc", RegID: o.reg, Data: data, Version: vers[o.reg]}, c.pub(o.reg))
				} else {
					require.Nil(rt, c.pub(o.reg))
				}
			}
			c.HandleTimer(0, reconnectTick{c}) // re-registers on a new connection (dial 2)
			again = append(again, &ClientHello{Client: c.name()})
			for _, reg := range sortedKeys(live) {
				again = append(again, &ClientPublish{Pub: Pub{DataID: "svc", RegID: reg, Data: live[reg], Version: vers[reg], Conn: inc | 2}})
			}
			for _, reg := range sortedKeys(subs) {
				again = append(again, &ClientSubscribe{DataID: subs[reg], RegID: reg, Conn: inc | 2})
			}
		}}
		w.AddNode("client-1", func() sim.Node { return h })
		w.Run(sim.Limits{Until: 500 * time.Millisecond})
		conns := slices.Sorted(maps.Keys(sink.got))
		require.Len(rt, conns, 2)
		require.Equal(rt, want, sink.got[conns[0]])
		require.Equal(rt, again, sink.got[conns[1]])
	})
}
