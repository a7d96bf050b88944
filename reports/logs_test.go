package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

func traceLines(t *testing.T, recs ...sim.TraceRecord) []byte {
	var b []byte
	for _, r := range recs {
		line, err := json.Marshal(r)
		require.NoError(t, err)
		b = append(append(b, line...), '\n')
	}
	return b
}

func TestLogsSplitByNodeWithSeverities(t *testing.T) {
	data := traceLines(t,
		sim.TraceRecord{T: 0, Kind: "start", Node: "kv-1", Event: "start"},
		sim.TraceRecord{T: 1000, Kind: "fault", Event: "crash @1µs [kv-1]", Fields: []string{""}},
		sim.TraceRecord{T: 1000, Kind: "crash", Node: "kv-1", Event: "fault"},
		sim.TraceRecord{T: 2000, Kind: "trace", Node: "kv-2", Event: "raftkv/leader", Fields: []string{"3"}},
		sim.TraceRecord{T: 5000, Kind: "deliver", Node: "client-0", Peer: "kv-2", Conn: 4, Msg: "*raftkv.Response &{Seq:1}"},
		sim.TraceRecord{T: 5000, Kind: "deliver", Node: "client-0", Peer: "kv-3", Conn: 5, Msg: "*raftkv.Response &{Seq:2}"},
		sim.TraceRecord{T: 6000, Kind: "panic", Node: "kv-2", Event: "boom"},
	)
	l := NewLogs()
	// A line may arrive in pieces.
	for len(data) > 0 {
		n := min(7, len(data))
		_, err := l.Write(data[:n])
		require.NoError(t, err)
		data = data[n:]
	}
	require.NoError(t, l.Err())
	assert.Equal(t, "kv-2", l.AnsweredBy("client-0", 5000), "the first message at that moment")
	assert.Empty(t, l.AnsweredBy("client-0", 4999))

	dir := t.TempDir()
	files, err := l.WriteFiles(dir)
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Node)
	}
	assert.Equal(t, []string{"client-0", "kv-1", "kv-2", WorldLog}, names, "nodes in order, the world last")
	read := func(node string) string {
		data, err := os.ReadFile(filepath.Join(dir, LogDir, node+".log"))
		require.NoError(t, err)
		return string(data)
	}
	kv1 := strings.Split(strings.TrimRight(read("kv-1"), "\n"), "\n")
	require.Len(t, kv1, 2)
	assert.Equal(t, "     0.000s INFO  start", kv1[0])
	assert.Equal(t, "  0.000001s WARN  crash fault", kv1[1])
	assert.Contains(t, read("kv-2"), "0.000006s ERROR panic boom")
	assert.Contains(t, read("kv-2"), "INFO  trace raftkv/leader [3]")
	assert.Contains(t, read("client-0"), "DEBUG deliver peer=kv-2 conn=4 *raftkv.Response &{Seq:1}")
	assert.Contains(t, read(WorldLog), "WARN  fault crash @1µs [kv-1]")
	assert.Equal(t, map[string]int{SevInfo: 1, SevWarn: 1}, files[1].Counts)

	long := NewLogs()
	_, err = long.Write(traceLines(t, sim.TraceRecord{T: 1, Kind: "deliver", Node: "n1", Peer: "n2", Msg: strings.Repeat("x", 5000)}))
	require.NoError(t, err)
	assert.Less(t, long.nodes["n1"].Len(), maxMsg+100, "a huge message is clipped")
	assert.Contains(t, long.nodes["n1"].String(), "… (5000 bytes)")

	bad := NewLogs()
	_, _ = bad.Write([]byte("not json\n"))
	assert.Error(t, bad.Err())
}
