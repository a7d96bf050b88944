// Package imports exercises imports that are hazards in themselves.
package imports

import (
	crand "crypto/rand" // want `^import of crypto/rand: OS entropy is never reproducible; draw from the seeded random stream, or add //detlint:allow <why>$`
	"hash/fnv"
	"hash/maphash" // want `^import of hash/maphash: its seed is random per process`
)

func hashes(b []byte) uint64 {
	_, _ = crand.Read(b)
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64() ^ maphash.Bytes(maphash.MakeSeed(), b)
}
