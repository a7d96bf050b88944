//go:build !amd64 && !arm64

package sim

import "unsafe"

func prefetch4(a, b, c, d unsafe.Pointer) {}
