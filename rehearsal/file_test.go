package rehearsal

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultIsValidAndRoundTrips(t *testing.T) {
	f := Default()
	require.Equal(t, "double-eleven-2020-1000th", f.Name)
	require.Equal(t, 583, f.Traffic.Points[3].Rate, "the 2020 peak at 1/1000")
	g, err := Parse(f.Marshal())
	require.NoError(t, err)
	require.Equal(t, f, g)
	// JSON is accepted too.
	js, err := json.Marshal(f)
	require.NoError(t, err)
	h, err := Parse(js)
	require.NoError(t, err)
	require.Equal(t, f, h)
	b, err := os.ReadFile("testdata/small.yaml")
	require.NoError(t, err)
	s, err := Parse(b)
	require.NoError(t, err)
	require.Equal(t, "small", s.Name)
}

// Each bad input is refused with one line naming what is wrong.
func TestValidationNamesTheField(t *testing.T) {
	cases := []struct{ from, to, want string }{
		{"version: 1", "version: 3", "version 3 is not supported"},
		{"workers: 32", "workers: 0", "services[0] (cart): workers must be at least 1"},
		{"calls: [order]", "calls: [orders]", `calls "orders", which is not a service`},
		{"calls: [account]", "calls: [cart]", "the call graph has a cycle"},
		{"{dist: exp, mean: 4ms}", "{dist: gamma, mean: 4ms}", `dist "gamma"`},
		{"resource: tcc", "resource: xa", `resource "xa"`},
		{"zone-a: 1, zone-b: 1, zone-c: 1}", "zone-a: 1, zone-b: 1, zone-x: 1}", `zone "zone-x"`},
		{"{at: 30s, rate: 420}", "{at: 20s, rate: 420}", "traffic: points[2]"},
		{"kind: zone-down, zone: zone-c", "kind: zone-down, zone: zone-q", `zone "zone-q" is not one of`},
		{"kind: slow-db, service: account", "kind: slow-db, service: cart", `service "cart" has no database`},
		{"kind: tc-leader-failover", "kind: tc-on-fire", "unknown kind"},
		{"{at: 88s,", "{at: 188s,", "outside the traffic"},
		{"{service: cart, success_ppm", "{service: order, success_ppm", `"order" is not an entry service`},
		{"pilots: 2", "pilots: 2\n  pilot: 3", `unknown field "pilot"`},
		{"tx_timeout: 3s}", "tx_timeout: 3s, accounts: 1}", "coordinator: accounts must be"},
		{"lb: least_request", "lb: fastest", `mesh: lb "fastest": want least_request, round_robin or random`},
		{"retries: 2", "retries: two", `mesh.retries: string is not accepted here (want a whole number)`},
		{"workers: 32", "workers: [32]", `services.workers: array is not accepted here (want a whole number)`},
	}
	for _, c := range cases {
		text := string(DefaultYAML())
		require.Contains(t, text, c.from)
		_, err := Parse([]byte(strings.Replace(text, c.from, c.to, 1)))
		require.Error(t, err, c.to)
		require.Contains(t, err.Error(), c.want)
		require.NotContains(t, err.Error(), "\n", "one line")
	}
}

// testdata/double-eleven-2020-100th.yaml is Scale100th for the CLI
// (`sofasim rehearse rehearsal/testdata/double-eleven-2020-100th.yaml`);
// SOFASIM_REWRITE=1 go test ./rehearsal -run Scale100th rewrites it.
func TestScale100thIsValid(t *testing.T) {
	f := Scale100th()
	require.NoError(t, f.Validate())
	const path = "testdata/double-eleven-2020-100th.yaml"
	if os.Getenv("SOFASIM_REWRITE") != "" {
		text := append([]byte("# The built-in rehearsal at 1/100 of the 2020 peak (rehearsal.Scale100th).\n"), f.Marshal()...)
		require.NoError(t, os.WriteFile(path, text, 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	g, err := Parse(b)
	require.NoError(t, err)
	require.Equal(t, f, g, "%s is stale: SOFASIM_REWRITE=1 go test ./rehearsal -run Scale100th", path)
	n := 0
	for _, s := range f.Services {
		n += s.Total()
	}
	require.Equal(t, 210, n, "hundreds of instances")
	require.Equal(t, 5830, f.Traffic.Points[3].Rate)
	require.Equal(t, 10_000, f.Traffic.Clients)
}
