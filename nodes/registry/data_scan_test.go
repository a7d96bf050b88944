package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// TestVersionScanCatchesLostNotice: a change the sessions never heard of
// (made behind the data server's notifier) reaches the subscriber with the
// next version scan, and not before; the same seed runs the same.
func TestVersionScanCatchesLostNotice(t *testing.T) {
	run := func() (*sim.World, *testHost, []string) {
		w, cfg, _, sub := syncWorld(t, 3, nil)
		leader, _ := replicas(w, cfg)
		require.NotNil(t, leader)
		x := leader.datums["svc"]
		r := x.pubs["p1"]
		p := r.pub("svc", "p1")
		p.Data, p.Version = "z", p.Version+1
		x.put(&p)
		x.version, x.memo = x.version+1, nil // no notice
		w.Run(sim.Limits{Until: 3*time.Second + 100*time.Millisecond})
		before := sub.last()
		w.Run(sim.Limits{Until: 3*time.Second + cfg.SyncInterval + 3*time.Second})
		return w, sub, before
	}
	w, sub, before := run()
	require.Equal(t, []string{"p1=a"}, before, "nothing announced the change")
	require.Equal(t, []string{"p1=z"}, sub.last(), "the version scan found it")
	require.Empty(t, w.Findings())
	w2, _, _ := run()
	require.Equal(t, w.Fingerprint(), w2.Fingerprint())
}

// TestVersionForAnswersOnlyDifferences: what a scan answers for each
// interest: nothing for the version held or a datum never written, the
// datum's version for an older one held, and a version moved past what the
// session holds when it holds a higher one or the same with other content.
func TestVersionForAnswersOnlyDifferences(t *testing.T) {
	w, cfg, _, _ := syncWorld(t, 3, nil)
	again, _, _, _ := syncWorld(t, 3, nil)
	require.Equal(t, w.Fingerprint(), again.Fingerprint(), "the same seed runs the same")
	leader, _ := replicas(w, cfg)
	require.NotNil(t, leader)
	cur := leader.datums["svc"].version
	digest := leader.viewDigest("svc")
	require.Equal(t, digest, scanDigest(leader.datums["svc"]), "the scan's digest is the view's")

	v, ok := leader.versionFor("svc", cur, digest)
	require.True(t, ok)
	require.Equal(t, cur, v, "held: the same version, left out of the answer")

	leader.datums["svc"].memo = nil
	v, _ = leader.versionFor("svc", cur, digest)
	require.Equal(t, cur, v)
	require.Nil(t, leader.datums["svc"].memo, "held as it is: no view built")

	v, _ = leader.versionFor("svc", cur-1, 0)
	require.Equal(t, cur, v, "an older version held: the datum's")

	v, _ = leader.versionFor("svc", cur, digest^1)
	require.Greater(t, v, cur, "the same version with other content: moved past it")

	cur = v
	v, _ = leader.versionFor("svc", cur+1000, 0)
	require.Greater(t, v, cur+1000, "a higher version held: moved past it")

	v, ok = leader.versionFor("nobody", 0, 0)
	require.True(t, ok)
	require.Zero(t, v, "a datum never written is version 0, as held")
	require.Nil(t, leader.datums["nobody"], "and is not created")
}

// TestScanDigestCacheFollowsEveryChange: the remembered scan digest equals
// one computed afresh after any mix of puts, unpublishes, removals,
// replication and installs, on the leader and on the follower that shares
// its maps.
func TestScanDigestCacheFollowsEveryChange(t *testing.T) {
	fresh := func(x *datum) uint64 {
		y := &datum{pubs: x.pubs}
		return scanDigest(y)
	}
	rapid.Check(t, func(rt *rapid.T) {
		leader := &datum{id: "svc", pubs: map[string]pubRec{}}
		follower := &datum{id: "svc", pubs: map[string]pubRec{}}
		regs := []string{"a", "b", "c", "d"}
		for i := range rapid.IntRange(1, 40).Draw(rt, "steps") {
			reg := rapid.SampledFrom(regs).Draw(rt, "reg")
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0:
				leader.put(&Pub{DataID: "svc", RegID: reg, Data: rapid.SampledFrom([]string{"x", "y"}).Draw(rt, "data"), Version: uint64(i)})
			case 1:
				leader.del(reg)
			case 2:
				leader.remove(reg)
			case 3:
				follower.install(copyReplica(leader))
			case 4: // a view built, so later changes patch it
				(&DataServer{datums: map[string]*datum{"svc": leader}}).view("svc")
			}
			require.Equal(rt, fresh(leader), scanDigest(leader), "leader after step %d", i)
			require.Equal(rt, fresh(follower), scanDigest(follower), "follower after step %d", i)
		}
	})
}
