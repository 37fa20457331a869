package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// forEachLevel runs f with each implementation this CPU supports active.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	prev := Active()
	defer Use(prev)
	for _, name := range Levels() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, f)
	}
}

// TestExpectedLevels: every implementation this CPU should run is built in
// and supported. A missing one is a build or detection bug, never a skip.
func TestExpectedLevels(t *testing.T) {
	var want []string
	switch runtime.GOARCH {
	case "amd64":
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL {
			want = append(want, "avx512")
		}
		if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
			want = append(want, "avx2")
		}
	case "arm64":
		want = append(want, "neon")
	}
	want = append(want, "generic")
	if got := Levels(); !slices.Equal(got, want) {
		t.Fatalf("Levels() = %v, want %v (GODEBUG=%q)", got, want, os.Getenv("GODEBUG"))
	}
	for _, i := range impls {
		if i.usable() && i != genericImpl {
			if m := i.missing(); len(m) > 0 {
				t.Errorf("%s leaves these kernels to generic: %v", i.name, m)
			}
		}
	}
	if Active() != want[0] {
		t.Fatalf("Active() = %q, want the best, %q", Active(), want[0])
	}
}

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (r.Float32()*2 - 1) * scale
	}
	return s
}

// refGemm: float64 accumulation.
func refGemm(l, r []float32, m, n, k int) []float64 {
	o := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(l[i*k+p]) * float64(r[p*n+j])
			}
			o[i*n+j] = s
		}
	}
	return o
}

var gemmShapes = [][3]int{ // m, n, k
	{1, 1, 1}, {1, 7, 3}, {1, 384, 384}, {2, 33, 5}, {3, 17, 64}, {4, 32, 1}, {5, 48, 7},
	{7, 100, 13}, {12, 384, 384}, {12, 12, 64}, {12, 64, 12}, {13, 1536, 384}, {16, 16, 16},
	{31, 65, 31}, {40, 40, 64}, {300, 33, 1024}, {530, 96, 1536}, {40, 64, 40}, {64, 384, 1536}, {256, 256, 64}, {2048, 384, 384},
	// Two row tiles, k in chunks (gemmChunked): chunk edges, a last
	// partial chunk, partial strips, the next strip's prefetch.
	{7, 48, 300}, {12, 40, 129}, {15, 33, 1536}, {16, 384, 384}, {20, 100, 65}, {24, 1536, 384}, {28, 99, 257},
}

func TestGemm(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, sh := range gemmShapes {
			m, n, k := sh[0], sh[1], sh[2]
			if testing.Short() && m*n*k > 1<<24 {
				continue
			}
			l, w := randSlice(r, m*k, 1), randSlice(r, k*n, 1)
			want := refGemm(l, w, m, n, k)
			check := func(what string, got []float32) {
				t.Helper()
				for i, v := range got {
					if d := math.Abs(float64(v) - want[i]); d > 1e-5*float64(k)+1e-6 {
						t.Fatalf("%s %dx%dx%d: out[%d,%d] = %v, want %v", what, m, n, k, i/n, i%n, v, want[i])
					}
				}
			}
			// Output padded on both sides with NaN: nothing outside
			// [m, n] may be written.
			buf := make([]float32, m*n+32)
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
			got := buf[16 : 16+m*n]
			Gemm(l, w, got, m, n, k)
			check("row-major", got)
			for i := range 16 {
				if !math.IsNaN(float64(buf[i])) || !math.IsNaN(float64(buf[16+m*n+i])) {
					t.Fatalf("%dx%dx%d: wrote outside the output", m, n, k)
				}
			}
			if n%StripWidth() == 0 {
				p := make([]float32, len(w))
				sw := Pack(p, w, k, n)
				if sw == 0 {
					t.Fatalf("Pack refused %dx%d", k, n)
				}
				got2 := make([]float32, m*n)
				GemmStrips(l, p, got2, m, n, k, 0, Strips(n), sw)
				check("packed", got2)
			}
		}
	})
}

// TestGemmStrided: a strip range computes only its columns.
func TestGemmStrided(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		m, n, k := 9, 5*StripWidth()+3, 20
		l, w := randSlice(r, m*k, 1), randSlice(r, k*n, 1)
		want := refGemm(l, w, m, n, k)
		o := make([]float32, m*n)
		GemmStrips(l, w, o, m, n, k, 1, 3, 0)
		sw := StripWidth()
		for i := range m {
			for j := range n {
				v := o[i*n+j]
				if j >= sw && j < 3*sw {
					if math.Abs(float64(v)-want[i*n+j]) > 1e-4 {
						t.Fatalf("out[%d,%d] = %v, want %v", i, j, v, want[i*n+j])
					}
				} else if v != 0 {
					t.Fatalf("out[%d,%d] = %v written outside strips 1–3", i, j, v)
				}
			}
		}
	})
}

var lengths = []int{1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 128, 255, 256, 384, 1536}

func TestSoftmax(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range lengths {
			x := randSlice(r, n, 8)
			if n > 3 {
				x[1] = -math.MaxFloat32 // a masked score
				x[2] = -1e30
			}
			want, s := expMaxRef(x)
			y := make([]float32, n)
			Softmax(x, y)
			in := slices.Clone(x)
			Softmax(in, in) // in place
			for i := range y {
				if d := math.Abs(float64(y[i]) - want[i]/s); d > 2e-6 {
					t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want[i]/s)
				}
				if in[i] != y[i] {
					t.Fatalf("n=%d: in place y[%d] = %v, out of place %v", n, i, in[i], y[i])
				}
			}
		}
	})
}

func TestDense(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, n := range lengths {
			x, b := randSlice(r, n, 6), randSlice(r, n, 1)
			x[0] = 0
			if n > 2 {
				x[1], x[2] = -20, 20
			}
			for _, c := range []struct {
				bias []float32
				gelu bool
			}{{b, true}, {nil, true}, {b, false}} {
				y := make([]float32, n)
				Dense(x, y, c.bias, c.gelu)
				for i, v := range x {
					a := float64(v)
					if c.bias != nil {
						a += float64(c.bias[i])
					}
					want := a
					if c.gelu {
						want = a * 0.5 * (1 + math.Erf(a/math.Sqrt2))
					}
					if d := math.Abs(float64(y[i]) - want); d > 2e-6*math.Max(1, math.Abs(want)) {
						t.Fatalf("n=%d bias=%v gelu=%v: y[%d] = %v, want %v (x %v)", n, c.bias != nil, c.gelu, i, y[i], want, a)
					}
				}
			}
		}
	})
}

// TestBinary: every implementation is bit-identical to Go's float32
// arithmetic, for vector and scalar operands and in place.
func TestBinary(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range lengths {
			a, c := randSlice(r, n, 100), randSlice(r, n, 100)
			c[0] = 0 // x/0
			if n > 1 {
				a[1] = float32(math.Inf(1))
			}
			for op := range numOps {
				for _, form := range []struct{ as, cs bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
					y := make([]float32, n)
					Binary(op, y, a, c, form.as, form.cs)
					for i := range y {
						x, z := a[i], c[i]
						if form.as {
							x = a[0]
						}
						if form.cs {
							z = c[0]
						}
						want := apply(op, x, z)
						if math.Float32bits(y[i]) != math.Float32bits(want) && !(math.IsNaN(float64(want)) && math.IsNaN(float64(y[i]))) {
							t.Fatalf("%v n=%d form %+v: y[%d] = %v, want %v", op, n, form, i, y[i], want)
						}
					}
					// In place, output over the vector operand.
					if !form.as {
						in := slices.Clone(a)
						Binary(op, in, in, c, false, form.cs)
						for i := range in {
							if math.Float32bits(in[i]) != math.Float32bits(y[i]) && !math.IsNaN(float64(y[i])) {
								t.Fatalf("%v n=%d form %+v in place: y[%d] = %v, want %v", op, n, form, i, in[i], y[i])
							}
						}
					}
				}
			}
		}
	})
}

func TestSum(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range lengths {
			x := randSlice(r, n, 3)
			var want float64
			for _, v := range x {
				want += float64(v)
			}
			if got := Sum(x); math.Abs(float64(got)-want) > 1e-6*float64(n)+1e-6 {
				t.Fatalf("n=%d: Sum = %v, want %v", n, got, want)
			}
		}
	})
}

func TestExpAccuracy(t *testing.T) {
	for x := float32(-87); x < 88; x += 0.0137 {
		want := math.Exp(float64(x))
		got := float64(Exp(x))
		if rel := math.Abs(got-want) / want; rel > 2.4e-7 {
			t.Fatalf("Exp(%v) = %v, want %v (rel %g)", x, got, want, rel)
		}
	}
	if got := Exp(-math.MaxFloat32); got < 0 || got > 1e-37 || math.IsNaN(float64(got)) {
		t.Fatalf("Exp(-max) = %v", got)
	}
}

func TestErfAccuracy(t *testing.T) {
	for x := float32(-6); x < 6; x += 0.001 {
		if d := math.Abs(float64(Erf(x)) - math.Erf(float64(x))); d > 5e-7 {
			t.Fatalf("Erf(%v) off by %g", x, d)
		}
	}
}

// TestUse: an unknown or unsupported implementation is refused and the
// active one is left alone.
func TestUse(t *testing.T) {
	before := Active()
	if err := Use("nosuch"); err == nil {
		t.Fatal("Use(nosuch) succeeded")
	}
	if Active() != before {
		t.Fatalf("active changed to %q", Active())
	}
	fmt.Fprintln(os.Stderr, "kernels built:", Built(), "supported:", Levels())
}

func BenchmarkGemm(b *testing.B) {
	for _, name := range Levels() {
		Use(name)
		for _, sh := range [][3]int{{12, 384, 384}, {2048, 384, 384}, {256, 1536, 384}} {
			m, n, k := sh[0], sh[1], sh[2]
			r := rand.New(rand.NewPCG(1, 2))
			l, w, o := randSlice(r, m*k, 1), randSlice(r, k*n, 1), make([]float32, m*n)
			p := make([]float32, len(w))
			sw := Pack(p, w, k, n)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, n, k), func(b *testing.B) {
				b.SetBytes(int64(2 * m * n * k)) // "MB/s" reads as MFLOPS
				for b.Loop() {
					GemmStrips(l, p, o, m, n, k, 0, Strips(n), sw)
				}
			})
		}
	}
	Use(Best())
}

func BenchmarkSoftmax(b *testing.B) {
	for _, name := range Levels() {
		Use(name)
		x := randSlice(rand.New(rand.NewPCG(1, 2)), 256, 4)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Softmax(x, x)
			}
		})
	}
	Use(Best())
}

func BenchmarkGelu(b *testing.B) {
	for _, name := range Levels() {
		Use(name)
		x, bias := randSlice(rand.New(rand.NewPCG(1, 2)), 1536, 4), randSlice(rand.New(rand.NewPCG(1, 3)), 1536, 1)
		y := make([]float32, 1536)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Dense(x, y, bias, true)
			}
		})
	}
	Use(Best())
}
