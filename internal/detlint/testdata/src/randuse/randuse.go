// Package randuse exercises math/rand and math/rand/v2.
package randuse

import (
	"math/rand"
	randv2 "math/rand/v2"
)

func global() {
	_ = rand.Intn(10)                  // want `^math/rand.Intn uses the process-wide random source; draw from a seeded \*rand.Rand \(the node's or world's stream\) instead, or add //detlint:allow <why>$`
	_ = rand.Int()                     // want `math/rand.Int uses`
	_ = rand.Float64()                 // want `math/rand.Float64 uses`
	_ = rand.Perm(3)                   // want `math/rand.Perm uses`
	_ = rand.Uint64()                  // want `math/rand.Uint64 uses`
	rand.Shuffle(3, func(i, j int) {}) // want `math/rand.Shuffle uses`
	rand.Seed(1)                       // want `math/rand.Seed uses`
	f := rand.Int63                    // want `math/rand.Int63 uses`
	_ = f
	_ = randv2.IntN(3)                   // want `math/rand/v2.IntN uses`
	_ = randv2.N(int64(5))               // want `math/rand/v2.N uses`
	_ = randv2.N[int32](5)               // want `math/rand/v2.N uses`
	_ = randv2.Uint64()                  // want `math/rand/v2.Uint64 uses`
	randv2.Shuffle(3, func(i, j int) {}) // want `math/rand/v2.Shuffle uses`
}

// Allowed: seeded generators and their methods.
func seeded() {
	r := rand.New(rand.NewSource(1))
	_ = r.Intn(10)
	r.Shuffle(3, func(i, j int) {})
	_ = rand.NewZipf(r, 1.5, 1, 10).Uint64()
	var src rand.Source = rand.NewSource(2)
	_ = src.Int63()

	r2 := randv2.New(randv2.NewPCG(1, 2))
	_ = r2.IntN(3)
	_ = randv2.New(randv2.NewChaCha8([32]byte{})).Uint64()
	_ = randv2.NewZipf(r2, 1.5, 1, 10)
	var pcg randv2.PCG
	pcg.Seed(1, 2)
	_ = pcg.Uint64()
}
