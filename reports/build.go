package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Build says which sofasim build wrote a report, so that a replay that
// diverges can name the build that recorded it. It comes from the
// binary's own build information (runtime/debug.ReadBuildInfo): go build
// and go install in a git checkout stamp the commit and whether the tree
// had uncommitted changes; go run, go test and -buildvcs=false do not, and
// then the executable's digest still tells two builds apart (Go builds are
// reproducible: the same sources and toolchain give the same bytes).
type Build struct {
	Version  string `json:"version"`            // the module version; "(devel)" for a local build
	Revision string `json:"revision,omitempty"` // the VCS commit
	Time     string `json:"time,omitempty"`     // the commit's time
	Modified bool   `json:"modified,omitempty"` // the tree had uncommitted changes
	Go       string `json:"go"`                 // the Go toolchain
	Binary   string `json:"binary,omitempty"`   // the first 12 hex digits of the executable's SHA-256
}

// String renders the build for a person, such as
// "(devel) commit 174002a5f1ea (2026-12-01T15:00:00Z, modified), go1.26.8, binary 0a1b2c3d4e5f".
func (b Build) String() string {
	if b == (Build{}) {
		return "an unrecorded build"
	}
	parts := []string{b.Version}
	switch {
	case b.Revision != "":
		rev := "commit " + short(b.Revision, 12)
		var notes []string
		if b.Time != "" {
			notes = append(notes, b.Time)
		}
		if b.Modified {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			rev += " (" + strings.Join(notes, ", ") + ")"
		}
		parts[0] += " " + rev
	default:
		parts[0] += " (no commit recorded)"
	}
	parts = append(parts, b.Go)
	if b.Binary != "" {
		parts = append(parts, "binary "+b.Binary)
	}
	return strings.Join(parts, ", ")
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var (
	buildOnce sync.Once
	thisBuild Build
)

// ThisBuild is the running binary's build.
func ThisBuild() Build {
	buildOnce.Do(func() { thisBuild = readBuild() })
	return thisBuild
}

func readBuild() Build {
	b := Build{Version: "(devel)", Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if f, err := os.Open(exe); err == nil {
			h := sha256.New()
			if _, err := io.Copy(h, f); err == nil {
				b.Binary = hex.EncodeToString(h.Sum(nil))[:12]
			}
			f.Close()
		}
	}
	return b
}

// Describe says how a recorded build relates to this one, for a replay
// that diverged.
func (b Build) Describe(now Build) string {
	switch {
	case b == (Build{}):
		return "it records no build (written by an older sofasim)"
	case b == now:
		return fmt.Sprintf("it was recorded by this very build (%s)", b)
	}
	return fmt.Sprintf("it was recorded by %s; this is %s", b, now)
}
