package postgres

import (
	"math"
	"math/rand/v2"
)

// testRand makes reproducible random unit vectors for tests and benchmarks.
type testRand struct{ r *rand.Rand }

func newRand(seed uint64) *testRand {
	return &testRand{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// unitVector is a uniformly random direction: normal components, normalised.
func (t *testRand) unitVector(dims int) []float32 {
	v := make([]float32, dims)
	var n float64
	for i := range v {
		x := t.r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}
