package reports

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBuildString(t *testing.T) {
	b := Build{Version: "v1.2.0", Revision: "174002a5f1eab815e3c99b708ee1b3559acae416", Time: "2026-12-01T15:00:00Z", Go: "go1.26.8", Binary: "0a1b2c3d4e5f"}
	assert.Equal(t, "v1.2.0 commit 174002a5f1ea (2026-12-01T15:00:00Z), go1.26.8, binary 0a1b2c3d4e5f", b.String())
	b.Modified = true
	assert.Contains(t, b.String(), "(2026-12-01T15:00:00Z, modified)")
	assert.Equal(t, "(devel) (no commit recorded), go1.26.8", Build{Version: "(devel)", Go: "go1.26.8"}.String())

	now := ThisBuild()
	assert.NotEmpty(t, now.Go)
	assert.Regexp(t, `^[0-9a-f]{12}$`, now.Binary, "the test binary's digest")
	assert.Contains(t, b.Describe(now), "it was recorded by v1.2.0 commit 174002a5f1ea")
	assert.Contains(t, now.Describe(now), "recorded by this very build")
	assert.Contains(t, Build{}.Describe(now), "records no build")
}
