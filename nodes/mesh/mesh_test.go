package mesh

import (
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stats counts the answers of a run.
type answerStats struct {
	issued, answered, ok int
	flags                map[string]int
}

func (tm *testMesh) answers() answerStats {
	s := answerStats{flags: map[string]int{}}
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case Issued:
			s.issued++
		case Answered:
			s.answered++
			if e.Resp.OK() {
				s.ok++
			} else {
				s.flags[e.Resp.Flag+"/"+itoa(e.Resp.Status)]++
			}
		}
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestBasicAllAnsweredAndConverged(t *testing.T) {
	tm := runTwice(t, meshOpts{seed: 1})
	s := tm.answers()
	t.Logf("%d issued, %d ok, failures %v, %d events, speed-up %v", s.issued, s.ok, s.flags, tm.w.Events(), tm.w.Now())
	require.Greater(t, s.issued, 2000)
	require.Equal(t, s.issued, s.answered)
	require.GreaterOrEqual(t, s.ok*1000, s.issued*995, "answers %+v", s)
	require.Empty(t, tm.checkAll())
}

// chaosSeeds: more seeds for a sweep (go test ./nodes/mesh -run Chaos -args -mesh.seeds=500).
var chaosSeeds = flag.Int("mesh.seeds", 6, "seeds of TestChaosSeedsHoldInvariants")

func TestChaosSeedsHoldInvariants(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*chaosSeeds); seed++ {
		tm := runTwice(t, meshOpts{seed: seed, chaos: chaos})
		assert.Empty(t, tm.checkAll(), "seed %d", seed)
		s := tm.answers()
		assert.Equal(t, s.issued, s.answered)
		t.Logf("seed %d: %d issued, %d ok, failures %v, %d events, %v virtual", seed, s.issued, s.ok, s.flags, tm.w.Events(), tm.w.Now())
	}
}

// TestRealRegistry runs the mesh on the real registry (meta, data and
// session servers) instead of the Catalog, with the chaos nemesis.
func TestRealRegistry(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		tm := runTwice(t, meshOpts{seed: seed, registry: true, chaos: chaos})
		s := tm.answers()
		require.Greater(t, s.ok, 2000)
		require.Empty(t, tm.checkAll(), "seed %d", seed)
	}
}

// The recorder answers what a report shows: a request's story and the
// versions each sidecar held.
func TestRecorderExplainsARequest(t *testing.T) {
	tm := runTwice(t, meshOpts{seed: 2, chaos: chaos})
	var retried string
	for _, r := range tm.rec.Records {
		if e, ok := r.Ev.(Retry); ok && e.Admitted {
			retried = e.ReqID
			break
		}
	}
	require.NotEmpty(t, retried)
	story := tm.rec.Request(retried)
	var kinds []string
	for _, r := range story {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		var back struct{ Kind string }
		require.NoError(t, json.Unmarshal(b, &back))
		kinds = append(kinds, back.Kind)
	}
	require.Equal(t, "Issued", kinds[0])
	require.Equal(t, "Answered", kinds[len(kinds)-1])
	require.Contains(t, kinds, "Retry")
	require.GreaterOrEqual(t, strings.Count(strings.Join(kinds, ","), "Attempt,"), 2)
	held := tm.rec.Versions(tm.w.Now())
	for _, id := range tm.m.Clients {
		for typ, a := range tm.m.Pod(id).Sidecar().Applied() { //detlint:allow each type is checked on its own
			require.Equal(t, a.Version, held[id][typ], "%s %s", id, typ)
		}
	}
	require.NotEmpty(t, tm.rec.Kinds())
}
