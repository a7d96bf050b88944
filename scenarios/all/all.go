// Package all registers every system's scenarios: the CLI and tests that
// want the whole catalogue import it. A new system adds one line here.
package all

import (
	_ "github.com/sofasim/sofasim/scenarios/coordinator" // txn-*
	_ "github.com/sofasim/sofasim/scenarios/mesh"        // mesh-*
	_ "github.com/sofasim/sofasim/scenarios/raftkv"      // raftkv-*
	_ "github.com/sofasim/sofasim/scenarios/registry"    // registry-*
)
