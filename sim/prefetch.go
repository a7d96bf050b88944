//go:build amd64 || arm64

package sim

import "unsafe"

// prefetch4 asks the processor to bring the lines at a, b, c and d into
// the cache, without waiting for them: a hint with no other effect, nil
// included (a prefetch never faults). Where no assembly is written it does
// nothing.
//
//go:noescape
func prefetch4(a, b, c, d unsafe.Pointer)
