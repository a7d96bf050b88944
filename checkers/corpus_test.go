package checkers

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusDir is shared/corpus beside the repository: ../../shared/corpus
// from this package in a session's tree and in CI's clone alike.
func corpusDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SKIP: third-party corpus %s is absent, so the published verdicts are not checked", dir)
	}
	return dir
}

type verdictRow struct {
	file, linearizable, model string
}

func readVerdicts(t *testing.T, dir string) []verdictRow {
	f, err := os.Open(filepath.Join(dir, "VERDICTS.tsv"))
	require.NoError(t, err)
	defer f.Close()
	var rows []verdictRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if n == 1 || sc.Text() == "" {
			continue
		}
		require.Len(t, cols, 3, "VERDICTS.tsv line %d", n)
		rows = append(rows, verdictRow{cols[0], cols[1], cols[2]})
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows)
	return rows
}

func parseFile(t *testing.T, path, format string) History {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h, err := Parse(f, format)
	require.NoError(t, err, path)
	return h
}

// TestCorpusVerdicts checks that every history listed in the corpus's
// VERDICTS.tsv (porcupine's test data: Jepsen etcd logs and kv EDN logs)
// gets its published verdict, both through the named format and through
// format detection.
func TestCorpusVerdicts(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "porcupine")
	for _, row := range readVerdicts(t, dir) {
		t.Run(row.file+"/"+row.model, func(t *testing.T) {
			path := filepath.Join(dir, row.file)
			var format string
			switch {
			case row.model == "etcd-cas-register" || row.model == "-" && strings.HasPrefix(row.file, "jepsen/"):
				format = "jepsen"
			case strings.HasPrefix(row.model, "kv(get/put/append)"):
				format = "edn"
			default:
				t.Fatalf("VERDICTS.tsv has a model this test does not know: %q", row.model)
			}
			h := parseFile(t, path, format)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			sniffed, err := Parse(strings.NewReader(string(data)), "")
			require.NoError(t, err)
			require.Equal(t, h.Ops, sniffed.Ops, "detected format differs from %s", format)

			if strings.HasPrefix(row.linearizable, "n/a") {
				// etcd_095.log is empty (etcd never started): nothing to
				// check, which is trivially linearizable.
				require.Empty(t, h.Ops)
				res := Linearizable{Model: "cas-register"}.Check(h, Options{})
				assert.Equal(t, Pass, res.Verdict)
				assert.Contains(t, res.Explanation, "nothing to check")
				return
			}
			want := map[string]Verdict{"true": Pass, "false": Fail}[row.linearizable]
			require.NotEmpty(t, want, "linearizable column %q", row.linearizable)

			if strings.HasSuffix(row.model, "partitioned-by-key=false") {
				// Porcupine's cross-check without partitioning: one state
				// for all keys. Same files, so it checks our partitioning.
				if strings.Contains(row.file, "c10") && testing.Short() {
					t.Skip("SKIP in -short: unpartitioned c10 search")
				}
				ok := porcupine.CheckOperations(unpartitionedModel(h.Init), flatOps(h))
				assert.Equal(t, want == Pass, ok)
				return
			}
			res := Linearizable{}.Check(h, Options{})
			require.Equal(t, want, res.Verdict, res.Explanation)
			if want == Fail {
				require.NotEmpty(t, res.Ops)
				named := 0
				for _, id := range res.Ops {
					if strings.Contains(res.Explanation, fmt.Sprintf("op %d ", id)) {
						named++
					}
				}
				assert.Positive(t, named, "the explanation names none of the ops involved: %s", res.Explanation)
			}
		})
	}
}

func flatOps(h History) []porcupine.Operation {
	keys, byKey, _ := porcupineOps(h)
	return collect(byKey, keys)
}

// unpartitionedModel keeps every key in one state (a map), as porcupine's
// kvNoPartitionModel does, using the same step function.
func unpartitionedModel(init *string) porcupine.Model {
	start := register{}
	if init != nil {
		start = register{*init, true}
	}
	return porcupine.Model{
		Init: func() any { return map[string]register{} },
		Step: func(state, input, _ any) (bool, any) {
			st := state.(map[string]register)
			op := *input.(*Op)
			cur, ok := st[op.Key]
			if !ok {
				cur = start
			}
			legal, next := step(cur, op)
			if !legal {
				return false, st
			}
			if next == cur {
				return true, st
			}
			st2 := maps.Clone(st)
			st2[op.Key] = next
			return true, st2
		},
		Equal: func(a, b any) bool {
			return maps.Equal(a.(map[string]register), b.(map[string]register))
		},
		Hash: func(state any) uint64 {
			// XOR of per-entry hashes: independent of map order.
			var sum uint64
			for k, r := range state.(map[string]register) {
				h := fnv.New64a()
				h.Write([]byte(k))
				h.Write([]byte{0, boolByte(r.present)})
				h.Write([]byte(r.value))
				sum ^= h.Sum64()
			}
			return sum
		},
	}
}

// TestCorpusTimeLimit: a time limit too short to decide gives unknown,
// never pass, and the same history passes without a limit.
func TestCorpusTimeLimit(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "porcupine")
	h := parseFile(t, filepath.Join(dir, "kv", "c50-ok.txt"), "edn")
	res := Linearizable{}.Check(h, Options{TimeLimit: time.Nanosecond})
	assert.Equal(t, Unknown, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, "time limit")
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
