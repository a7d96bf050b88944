// Command detlint reports determinism hazards in simulation kernel and node
// code; see package github.com/sofasim/sofasim/internal/detlint for what it
// flags and how to allow a line.
//
// Usage:
//
//	go run ./cmd/detlint ./sim/... ./nodes/...
//	go build -o /tmp/detlint ./cmd/detlint && go vet -vettool=/tmp/detlint ./sim/... ./nodes/...
//
// Test files are analysed too (-test=false turns that off). It exits with a
// non-zero status when it reports anything.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/sofasim/sofasim/internal/detlint"
)

func main() { singlechecker.Main(detlint.Analyzer) }
