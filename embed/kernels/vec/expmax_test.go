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
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 8)
			}
			x[r.IntN(n)] = -10000
			y := make([]float32, n)
			s := ExpMax(x, y)
			m := math.Inf(-1)
			for _, v := range x {
				m = math.Max(m, float64(v))
			}
			var want float64
			for i, v := range x {
				e := math.Exp(float64(v) - m)
				want += e
				if d := math.Abs(float64(y[i]) - e); d > 2e-7*(1+e) {
					t.Fatalf("n=%d: [%d] = %v, want %v", n, i, y[i], e)
				}
			}
			if d := math.Abs(float64(s) - want); d > 1e-5*want {
				t.Fatalf("n=%d: sum %v, want %v", n, s, want)
			}
		}
	})
}
