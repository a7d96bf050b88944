package detlint_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/sofasim/sofasim/internal/detlint"
)

// TestAnalyzer checks the // want comments of every testdata package:
// each hazard and each allowed form has a line there. The packages are
// loaded in one go so that the standard library is type-checked once.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), detlint.Analyzer,
		"maprange",   // range over maps, collect-and-sort idiom, type parameters, a _test.go file
		"mapsiter",   // maps.Keys/Values/All, sync.Map.Range, reflect map walks
		"timing",     // real clock, real timers, context deadlines
		"goroutines", // go, WaitGroup.Go, context.AfterFunc, channels, select
		"randuse",    // math/rand and math/rand/v2 global source
		"imports",    // crypto/rand, hash/maphash
		"pool",       // sync.Pool
		"ptrkey",     // pointer addresses as map keys or integers
		"testifyuse", // testify Eventually/Never (stub testify under testdata/src/github.com)
		"directives", // //detlint:allow
		"generated",  // generated files are skipped
	)
}
