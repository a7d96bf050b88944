package rehearsal

import _ "embed"

//go:embed default.yaml
var defaultYAML []byte

// Default is the built-in rehearsal: Double Eleven 2020 at 1/1000 scale
// (about 583 orders a second at the peak, 26 s after midnight).
func Default() *File {
	f, err := Parse(defaultYAML)
	if err != nil {
		panic("rehearsal: the built-in rehearsal is invalid: " + err.Error())
	}
	return f
}

// DefaultYAML is the built-in rehearsal's text, a starting point for
// users' own files.
func DefaultYAML() []byte { return defaultYAML }
