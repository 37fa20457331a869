package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ExpMax is Softmax without the division: exp(x − max) against float64,
// and its sum, on every implementation this CPU runs.
func TestExpMax(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 5))
		for _, n := range []int{1, 7, 8, 16, 24, 31, 256, 1000} {
			x := randSlice(r, n, 8)
			x[r.IntN(n)] = -10000
			y := make([]float32, n)
			s := ExpMax(x, y)
			e, want := expMaxRef(x)
			for i := range x {
				if d := math.Abs(float64(y[i]) - e[i]); d > 2e-7*(1+e[i]) {
					t.Fatalf("n=%d: [%d] = %v, want %v", n, i, y[i], e[i])
				}
			}
			if d := math.Abs(float64(s) - want); d > 1e-5*want {
				t.Fatalf("n=%d: sum %v, want %v", n, s, want)
			}
		}
	})
}

// expMaxRef is exp(x − max(x)) in float64, and its sum: ExpMax's result
// and Softmax's before the division.
func expMaxRef(x []float32) (e []float64, sum float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	e = make([]float64, len(x))
	for i, v := range x {
		e[i] = math.Exp(float64(v) - m)
		sum += e[i]
	}
	return e, sum
}
