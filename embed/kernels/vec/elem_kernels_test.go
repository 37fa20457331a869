package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Edge cases of the element kernels: special values in every lane
// position (whole vectors and masked tails), the exp clamp, GELU far out,
// and aliasing. Each level is compared with the generic implementation.

var (
	nan32  = float32(math.NaN())
	inf32  = float32(math.Inf(1))
	ninf32 = float32(math.Inf(-1))
	// negZero32 is −0 (the literal -0.0 is +0 in Go).
	negZero32 = float32(math.Copysign(0, -1))
)

func sameOrBothNaN(a, b float32) bool {
	return a == b || (a != a && b != b)
}

// TestMaxSumSpecial: a NaN anywhere makes max and sum NaN; ±Inf are
// handled like Go's max and +.
func TestMaxSumSpecial(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		k := cur()
		r := rand.New(rand.NewPCG(13, 14))
		for _, n := range []int{1, 3, 8, 15, 16, 17, 40, 64, 71, 256} {
			for pos := range n {
				for _, v := range []float32{nan32, inf32, ninf32, 1e30, -1e30} {
					x := randSlice(r, n, 5)
					x[pos] = v
					for _, f := range []struct {
						name string
						got  func(*float32, int) float32
						want func(*float32, int) float32
					}{{"max", k.maxf, genericImpl.maxf}, {"sum", k.sum, genericImpl.sum}} {
						full := n - n%k.vl
						if full == 0 {
							continue
						}
						got, want := f.got(&x[0], full), f.want(&x[0], full)
						ok := sameOrBothNaN(got, want)
						if !ok && f.name == "sum" && !math.IsNaN(float64(want)) && !math.IsInf(float64(want), 0) {
							ok = math.Abs(float64(got-want)) <= 1e-5*float64(n)+1e-5*math.Abs(float64(want))
						}
						if !ok {
							t.Fatalf("%s n=%d x[%d]=%v: got %v, want %v", f.name, full, pos, v, got, want)
						}
					}
				}
			}
		}
		// All -Inf: max is -Inf, not NaN or a masked-out lane's zero.
		for _, n := range []int{1, 5, 16, 21} {
			x := make([]float32, n)
			for i := range x {
				x[i] = ninf32
			}
			if got := k.maxf(&x[0], n-n%k.vl); got != ninf32 && n >= k.vl {
				t.Fatalf("max of %d × -Inf = %v", n, got)
			}
			for i := range x {
				x[i] = -3
			}
			if got := k.maxf(&x[0], n-n%k.vl); got != -3 && n >= k.vl {
				t.Fatalf("max of %d × -3 = %v", n, got)
			}
		}
	})
}

// TestExpSubRange: exp over the whole clamp range and beyond, against
// the scalar Exp: masked scores give ~1e-38 (never NaN or garbage), the
// top of the range stays finite, NaN stays NaN.
func TestExpSubRange(t *testing.T) {
	var xs []float32
	for x := float32(-90); x <= 0; x += 0.0371 {
		xs = append(xs, x)
	}
	xs = append(xs, -math.MaxFloat32, -1e30, ExpLo, ExpLo-1e-5, 0, negZero32, nan32, ninf32, -math.SmallestNonzeroFloat32)
	// expSub's contract is softmax's: x − m ≤ 0 (m is the row's max). The
	// NEON kernel builds 2ⁿ from exponent bits for n ≤ 0 only.
	xs = slices.DeleteFunc(xs, func(v float32) bool { return v > 0 })
	forEachLevel(t, func(t *testing.T) {
		k := cur()
		for _, n := range []int{len(xs), 1, 7, 8, 9, 16, 17, 33} {
			for start := 0; start+n <= len(xs); start += max(1, n/2) {
				x := xs[start : start+n]
				full := n - n%k.vl
				if full == 0 {
					continue
				}
				y := make([]float32, full)
				s := k.expSub(&x[0], &y[0], full, 0)
				var ws float64
				for i, v := range x[:full] {
					want := Exp(v)
					ws += float64(want)
					got := y[i]
					switch {
					case math.IsNaN(float64(want)):
						if !math.IsNaN(float64(got)) {
							t.Fatalf("exp(%v) = %v, want NaN", v, got)
						}
					case want < 1.2e-38:
						if !(got >= 0 && got < 1.2e-38) {
							t.Fatalf("exp(%v) = %v, want %v", v, got, want)
						}
					default:
						if rel := math.Abs(float64(got-want)) / float64(want); rel > 5e-7 || math.IsInf(float64(got), 0) {
							t.Fatalf("exp(%v) = %v, want %v (rel %g)", v, got, want, rel)
						}
					}
				}
				if ws > math.MaxFloat32 { // overflows float32 in any order
					ws = math.Inf(1)
				}
				if !math.IsNaN(ws) && !math.IsInf(ws, 0) && math.Abs(float64(s)-ws) > 1e-6*math.Abs(ws) {
					t.Fatalf("n=%d: Σ = %v, want %v", full, s, ws)
				}
				if math.IsNaN(ws) != math.IsNaN(float64(s)) {
					t.Fatalf("n=%d: Σ = %v, want %v", full, s, ws)
				}
			}
		}
	})
}

// TestSoftmaxSpecial: rows with NaN or +Inf are NaN where the generic
// implementation's are; a row of -Inf is NaN; a row of equal masked
// scores is uniform.
func TestSoftmaxSpecial(t *testing.T) {
	rows := map[string]func(n int) []float32{
		"nan": func(n int) []float32 { x := make([]float32, n); x[n/2] = nan32; return x },
		"inf": func(n int) []float32 { x := make([]float32, n); x[n-1] = inf32; return x },
		"-inf": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = ninf32
			}
			return x
		},
		"masked": func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = -math.MaxFloat32
			}
			return x
		},
	}
	for _, name := range []string{"nan", "inf", "-inf", "masked"} {
		for _, n := range []int{1, 5, 12, 16, 40, 256} {
			want := make([]float32, n)
			Use("generic")
			Softmax(rows[name](n), want)
			Use(Best())
			forEachLevel(t, func(t *testing.T) {
				got := rows[name](n)
				Softmax(got, got)
				for i := range got {
					if !sameOrBothNaN(got[i], want[i]) && math.Abs(float64(got[i]-want[i])) > 1e-6 {
						t.Fatalf("%s n=%d: y[%d] = %v, want %v", name, n, i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestGeluFar: GELU of large negative inputs is ~0 (erf's clamp makes
// 1 + erf exactly 0), of large positive ones x; NaN stays NaN; in place
// equals out of place.
func TestGeluFar(t *testing.T) {
	xs := []float32{-math.MaxFloat32, -1e30, -1e6, -1000, -20, -6, -5.7, -4, 0, 4, 6, 20, 1000, 1e6, 1e30, nan32, negZero32}
	forEachLevel(t, func(t *testing.T) {
		for _, n := range []int{len(xs), 16, 8, 3} {
			x := xs[:n]
			y := make([]float32, n)
			Dense(x, y, nil, true)
			in := slices.Clone(x)
			Dense(in, in, nil, true)
			for i, v := range x {
				got := y[i]
				switch {
				case math.IsNaN(float64(v)):
					if !math.IsNaN(float64(got)) {
						t.Fatalf("gelu(NaN) = %v", got)
					}
				case v <= -6:
					if math.Abs(float64(got)) > 1e-6 {
						t.Fatalf("gelu(%v) = %v, want ~0", v, got)
					}
				case v >= 6:
					if got != v {
						t.Fatalf("gelu(%v) = %v, want x", v, got)
					}
				}
				if !sameOrBothNaN(in[i], got) {
					t.Fatalf("gelu(%v) in place %v, out of place %v", v, in[i], got)
				}
			}
		}
	})
}

// TestAliasing: every kernel with y over an input, at offsets that put
// the masked tail in every position.
func TestAliasing(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, n := range []int{1, 7, 9, 16, 23, 48, 67} {
			a, c := randSlice(r, n, 3), randSlice(r, n, 3)
			for op := range numOps {
				want := make([]float32, n)
				Binary(op, want, a, c, false, false)
				y := slices.Clone(c) // y over the second operand
				Binary(op, y, a, y, false, false)
				if !slices.Equal(y, want) {
					t.Fatalf("%v n=%d: y over c differs", op, n)
				}
				want2 := make([]float32, n)
				Binary(op, want2, c[:1], a, true, false)
				y = slices.Clone(a)
				Binary(op, y, c[:1], y, true, false)
				if !slices.Equal(y, want2) {
					t.Fatalf("%v n=%d: scalar op vector in place differs", op, n)
				}
			}
			want := make([]float32, n)
			Dense(a, want, c, true)
			y := slices.Clone(c) // y over the bias
			Dense(a, y, y, true)
			if !slices.Equal(y, want) {
				t.Fatalf("n=%d: bias+GELU with y over bias differs", n)
			}
		}
	})
}

// TestNoOverrun: no kernel writes outside y[0:n] (masked tails included).
func TestNoOverrun(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(17, 18))
		for n := 1; n <= 70; n++ {
			x, b := randSlice(r, n, 3), randSlice(r, n, 1)
			buf := make([]float32, n+64)
			const guard = 12345
			for i := range buf {
				buf[i] = guard
			}
			y := buf[32 : 32+n]
			check := func(what string) {
				t.Helper()
				for i := range 32 {
					if buf[i] != guard || buf[32+n+i] != guard {
						t.Fatalf("%s n=%d wrote outside y", what, n)
					}
				}
			}
			Softmax(x, y)
			check("softmax")
			Dense(x, y, b, true)
			check("bias+gelu")
			Dense(x, y, nil, true)
			check("gelu")
			for op := range numOps {
				Binary(op, y, x, b, false, false)
				Binary(op, y, x, b, true, false)
				Binary(op, y, x, b, false, true)
				check(op.String())
			}
		}
	})
}

// BenchmarkElem: each element kernel alone at attention-row and FFN widths.
func BenchmarkElem(b *testing.B) {
	for _, name := range Levels() {
		Use(name)
		k := cur()
		for _, n := range []int{40, 256, 1536} {
			r := rand.New(rand.NewPCG(1, 2))
			x, c, y := randSlice(r, n, 4), randSlice(r, n, 1), make([]float32, n)
			full := n - n%k.vl
			for _, kn := range []struct {
				name string
				f    func()
			}{
				{"max", func() { k.maxf(&x[0], full) }},
				{"expSub", func() { k.expSub(&x[0], &y[0], full, 4) }},
				{"sum", func() { k.sum(&x[0], full) }},
				{"gelu", func() { k.gelu(&x[0], &y[0], full) }},
				{"biasGelu", func() { k.biasGelu(&x[0], &c[0], &y[0], full) }},
				{"addVV", func() { k.binVV[Add](&x[0], &c[0], &y[0], full) }},
				{"divVS", func() { k.binVS[Div](&x[0], 3, &y[0], full) }},
			} {
				b.Run(fmt.Sprintf("%s/%s/%d", name, kn.name, n), func(b *testing.B) {
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						kn.f()
					}
				})
			}
		}
	}
	Use(Best())
}
