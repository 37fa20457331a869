package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The NEON element kernels called directly, against math.go's scalar
// formulas, over every loop shape (n = 4…36: the 4-, 8- and 16-float
// loops and their remainders) and with a guard after the output that
// must stay untouched.

var neonLengths = []int{4, 8, 12, 16, 20, 24, 28, 32, 36, 64, 68, 1536}

const guard = 8

func guarded(n int) ([]float32, []float32) {
	buf := make([]float32, n+guard)
	for i := range buf {
		buf[i] = 12345
	}
	return buf[:n], buf
}

func checkGuard(t *testing.T, buf []float32, n int) {
	t.Helper()
	for i := n; i < len(buf); i++ {
		if buf[i] != 12345 {
			t.Fatalf("n=%d: wrote past the end (index %d)", n, i)
		}
	}
}

func ulps(a, b float32) int64 {
	ia, ib := int64(int32(math.Float32bits(a))), int64(int32(math.Float32bits(b)))
	if ia < 0 {
		ia = math.MinInt32 - ia
	}
	if ib < 0 {
		ib = math.MinInt32 - ib
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// TestNEONExp: every float of exp(x - m) within 2 ulps of Exp (the
// kernel fuses multiply-adds the scalar code may round twice), masked
// scores give a tiny non-negative number, never NaN, and the sum is right.
func TestNEONExp(t *testing.T) {
	var xs []float32
	for x := float32(-100); x <= 0; x += 0.00731 {
		xs = append(xs, x)
	}
	xs = append(xs, -math.MaxFloat32, -1e30, ExpLo, ExpLo+1e-5, ExpLo-1e-5, -87, -86.9, 0, -0.5*Ln2Hi, -1.5*Ln2Hi,
		float32(math.Inf(-1)), float32(math.Copysign(0, -1)))
	for len(xs)%4 != 0 {
		xs = append(xs, -1)
	}
	worst := int64(0)
	defer func() { t.Logf("worst exp difference from the scalar Exp: %d ulps", worst) }()
	for _, m := range []float32{0, 3.5, -2} {
		x := make([]float32, len(xs))
		for i, v := range xs {
			x[i] = v + m // so that x - m ≈ v ≤ 0
			if x[i] > m {
				x[i] = m
			}
		}
		y, buf := guarded(len(x))
		s := expSubNEON(&x[0], &y[0], len(x), m)
		checkGuard(t, buf, len(x))
		var want float64
		for i, v := range x {
			e := Exp(v - m)
			want += float64(e)
			if math.IsNaN(float64(y[i])) || y[i] < 0 {
				t.Fatalf("exp(%v - %v) = %v", v, m, y[i])
			}
			worst = max(worst, ulps(y[i], e))
			if d := ulps(y[i], e); d > 2 {
				t.Fatalf("exp(%v - %v) = %v, scalar %v (%d ulps)", v, m, y[i], e, d)
			}
		}
		if math.Abs(float64(s)-want) > 1e-6*want {
			t.Fatalf("m=%v: Σ = %v, want %v", m, s, want)
		}
	}
	// Every loop shape, in place.
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range neonLengths {
		x := randSlice(r, n, 10)
		m := maxfNEON(&x[0], n)
		want := make([]float32, n)
		var ws float64
		for i, v := range x {
			want[i] = Exp(v - m)
			ws += float64(want[i])
		}
		s := expSubNEON(&x[0], &x[0], n, m)
		for i := range x {
			if ulps(x[i], want[i]) > 2 {
				t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
		if math.Abs(float64(s)-ws) > 1e-6*ws {
			t.Fatalf("n=%d: Σ = %v, want %v", n, s, ws)
		}
	}
}

// TestNEONGelu: GELU within 2e-7 absolute or 4 ulps of the scalar Gelu on
// a fine grid over [-12, 12] (saturated beyond ±4√2), with and without
// bias, out of place and in place.
func TestNEONGelu(t *testing.T) {
	var xs []float32
	for x := float32(-12); x < 12; x += 0.000917 {
		xs = append(xs, x)
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e30, -1e30)
	for len(xs)%4 != 0 {
		xs = append(xs, 1)
	}
	n := len(xs)
	r := rand.New(rand.NewPCG(2, 2))
	bias := randSlice(r, n, 1)
	close := func(got, want float32) bool {
		return math.Abs(float64(got-want)) <= 2e-7 || ulps(got, want) <= 4
	}
	y, buf := guarded(n)
	geluNEON(&xs[0], &y[0], n)
	checkGuard(t, buf, n)
	var worstAbs float64
	for i, v := range xs {
		worstAbs = max(worstAbs, math.Abs(float64(y[i]-Gelu(v)))/max(1, math.Abs(float64(Gelu(v)))))
		if w := Gelu(v); !close(y[i], w) {
			t.Fatalf("gelu(%v) = %v, scalar %v", v, y[i], w)
		}
	}
	t.Logf("worst gelu difference from the scalar Gelu: %.3g (relative above 1, absolute below)", worstAbs)
	y, buf = guarded(n)
	biasGeluNEON(&xs[0], &bias[0], &y[0], n)
	checkGuard(t, buf, n)
	for i, v := range xs {
		if w := Gelu(v + bias[i]); !close(y[i], w) {
			t.Fatalf("gelu(%v + %v) = %v, scalar %v", v, bias[i], y[i], w)
		}
	}
	for _, n := range neonLengths {
		x, b := randSlice(r, n, 6), randSlice(r, n, 1)
		want := make([]float32, n)
		for i := range x {
			want[i] = Gelu(x[i] + b[i])
		}
		biasGeluNEON(&x[0], &b[0], &x[0], n)
		for i := range x {
			if !close(x[i], want[i]) {
				t.Fatalf("n=%d in place: y[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
	}
}

// TestNEONBinarySpecial: bit-identical to Go on subnormals, signed
// zeros, infinities and huge/tiny quotients, for every form and shape.
func TestNEONBinarySpecial(t *testing.T) {
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, 1e-40, -3e-39, 1.1754942e-38,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1, 3, 1e20, 1e-20}
	r := rand.New(rand.NewPCG(3, 3))
	pick := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			if r.IntN(2) == 0 {
				s[i] = special[r.IntN(len(special))]
			} else {
				s[i] = (r.Float32()*2 - 1) * float32(math.Pow(10, float64(r.IntN(60)-30)))
			}
		}
		return s
	}
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
	}
	for _, n := range neonLengths {
		for rep := 0; rep < 20; rep++ {
			a, c := pick(n), pick(n)
			s := special[r.IntN(len(special))]
			for op := range numOps {
				vvf := neon.binVV[op]
				vsf := neon.binVS[op]
				svf := neon.binSV[op]
				y, buf := guarded(n)
				vvf(&a[0], &c[0], &y[0], n)
				checkGuard(t, buf, n)
				for i := range y {
					if w := apply(op, a[i], c[i]); !same(y[i], w) {
						t.Fatalf("%v VV n=%d: %v op %v = %v, want %v", op, n, a[i], c[i], y[i], w)
					}
				}
				y, buf = guarded(n)
				vsf(&a[0], s, &y[0], n)
				checkGuard(t, buf, n)
				for i := range y {
					if w := apply(op, a[i], s); !same(y[i], w) {
						t.Fatalf("%v VS n=%d: %v op %v = %v, want %v", op, n, a[i], s, y[i], w)
					}
				}
				y, buf = guarded(n)
				svf(s, &c[0], &y[0], n)
				checkGuard(t, buf, n)
				for i := range y {
					if w := apply(op, s, c[i]); !same(y[i], w) {
						t.Fatalf("%v SV n=%d: %v op %v = %v, want %v", op, n, s, c[i], y[i], w)
					}
				}
			}
		}
	}
}

// TestNEONReduce: max is exact (including ±0 and -Inf-only inputs);
// sum, and scale (bit-identical to a float32 multiply), on every shape.
func TestNEONReduce(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range neonLengths {
		x := randSlice(r, n, 50)
		for pos := 0; pos < n; pos += max(1, n/5) {
			x2 := append([]float32(nil), x...)
			x2[pos] = 1000
			if got := maxfNEON(&x2[0], n); got != 1000 {
				t.Fatalf("n=%d max at %d: got %v", n, pos, got)
			}
		}
		var want float64
		for _, v := range x {
			want += float64(v)
		}
		if got := sumNEON(&x[0], n); math.Abs(float64(got)-want) > 1e-6*50*float64(n) {
			t.Fatalf("n=%d: Σ = %v, want %v", n, got, want)
		}
		y, buf := guarded(n)
		copy(y, x)
		scaleNEON(&y[0], n, 0.37)
		checkGuard(t, buf, n)
		for i := range y {
			if y[i] != x[i]*0.37 {
				t.Fatalf("n=%d: scale y[%d] = %v, want %v", n, i, y[i], x[i]*0.37)
			}
		}
		ninf := make([]float32, n)
		for i := range ninf {
			ninf[i] = float32(math.Inf(-1))
		}
		if got := maxfNEON(&ninf[0], n); !math.IsInf(float64(got), -1) {
			t.Fatalf("n=%d: max of -Inf = %v", n, got)
		}
		z := make([]float32, n)
		for i := range z {
			z[i] = float32(math.Copysign(0, -1))
		}
		z[n-1] = 0
		if got := maxfNEON(&z[0], n); math.Signbit(float64(got)) {
			t.Fatalf("n=%d: max(-0, …, +0) = -0", n)
		}
	}
}
