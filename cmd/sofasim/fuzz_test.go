package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sofasim/sofasim/scenarios"
)

// FuzzParsePlan feeds scenarios.ParsePlan (what run --plan, replay and
// shrink read) arbitrary bytes: it must not panic, its errors are one
// line, and a plan it accepts writes back to itself.
func FuzzParsePlan(f *testing.F) {
	for _, seed := range []uint64{1, 3, 10} {
		p, err := scenarios.PlanForSeed(testScenario, seed, map[string]string{"faults": "8", "ops": "6"}, []string{bugStaleRead})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Marshal())
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"version":1}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"duration":"1s","liveness":"1s","ops":[],"faults":[]}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"duration":"1s","liveness":"1s","ops":[{"client":9,"at":"0s","kind":"get","key":"k"}],"faults":[]}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"duration":"1s","liveness":"1s","ops":[],"faults":[{"at":"1ms","kind":"partition","cuts":[{"from":["server"],"to":["c0"]}]}]}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"duration":"1s","liveness":"1s","ops":[],"faults":[{"at":"1ms","kind":"pause","target":"leader"}]}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"params":{"clients":"0"},"duration":"-1s","liveness":"1s","ops":[],"faults":[]}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"bugs":["bug/testonly/nope"],"duration":"1s","liveness":"1s","ops":[],"faults":[]}`,
		`{"version":1,"scenario":"testonly-kv","seed":1,"duration":"1s","liveness":"1s","ops":[],"faults":[{"at":"1ms","kind":"clock-skew","nodes":["server"],"ppm":1000000}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := scenarios.ParsePlan(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a plan error spans lines: %q", err)
			}
			return
		}
		out := p.Marshal()
		back, err := scenarios.ParsePlan(out)
		if err != nil {
			t.Fatalf("a plan it accepted does not read back: %v\n%s", err, out)
		}
		if !bytes.Equal(out, back.Marshal()) {
			t.Fatalf("a plan does not write back to itself:\n%s\n%s", out, back.Marshal())
		}
	})
}
