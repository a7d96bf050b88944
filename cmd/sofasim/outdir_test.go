package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsGoRunBinary(t *testing.T) {
	assert.True(t, isGoRunBinary("/tmp/go-build1234/b001/exe/sofasim"))
	assert.False(t, isGoRunBinary("/usr/local/bin/sofasim"))
	assert.False(t, isGoRunBinary("./sofasim"))
}

// TestOursRecognisesOnlySofasimOutput: --out replaces a folder only when
// everything in it is what sofasim writes.
func TestOursRecognisesOnlySofasimOutput(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string) {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
	}
	for _, f := range []string{"sweep.json", "index.html", "sweep-shard-2-of-3.json", "sweep-shard-2-of-3.html",
		"12/failure.json", "12/index.html", "12/history.json", "12/logs/kv-1.log", "12/shrunk/failure.json", "12/shrunk-2/result.json"} {
		write(f)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, ours(filepath.Join(dir, e.Name()), e), e.Name())
	}
	write("12/notes.txt")
	write("src/main.go")
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		switch e.Name() {
		case "12", "src":
			assert.False(t, ours(filepath.Join(dir, e.Name()), e), e.Name())
		}
	}
	require.Error(t, ownOutDir("run", dir, nil, os.Stderr))
	assert.FileExists(t, filepath.Join(dir, "12", "notes.txt"), "nothing is removed from a folder that is not all ours")
	assert.FileExists(t, filepath.Join(dir, "sweep.json"))
}
