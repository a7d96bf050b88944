package raftkv

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIdleClusterKeepsItsLeaderCheaply: with the default timings an idle
// cluster on the default network (including its 1% tail of slow messages)
// keeps the leader it elects, and costs what the package doc says: ticks
// plus a heartbeat round every third tick, under 800 events per virtual
// second at 5 members (a heartbeat every tick cost 1,300).
func TestIdleClusterKeepsItsLeaderCheaply(t *testing.T) {
	const idle = 30 * time.Second
	for seed := uint64(1); seed <= 6; seed++ {
		for _, members := range []int{3, 5} {
			t.Run(fmt.Sprintf("seed=%d/members=%d", seed, members), func(t *testing.T) {
				var first Status
				c := twice(t, seed, func(seed uint64) *cluster {
					c := newCluster(seed, clusterOpts{members: members})
					c.run(time.Second)
					first = c.server(c.leader()).Status()
					c.run(time.Second + idle)
					return c
				})
				c.noFindings(t)
				require.NotEmpty(t, first.ID, "no leader after 1s")
				for _, id := range c.servers {
					st := c.server(id).Status()
					require.Equalf(t, first.Term, st.Term, "%s: an election while idle", id)
					require.Equalf(t, first.ID, st.Lead, "%s follows another leader", id)
				}
				perSecond := float64(c.w.Events()) / (time.Second + idle).Seconds()
				// ticks, and a round of 2 messages per follower every third tick
				budget := float64(members)*100 + float64(members-1)*2*100/3 + 20
				require.LessOrEqualf(t, perSecond, budget, "idle events per virtual second")
			})
		}
	}
}
