package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	dotDims = []int{16, 32, 48, 128, 384, 768, 1024}
	dotRows = []int{1, 2, 3, 4, 5, 7, 8, 63, 257}
)

// dotCodes returns rows·d random codes over the whole int8 range, with
// −128 and 127 in every row: at its first and last position and at
// positions that move from row to row, so that over the rows each lands
// in every lane of a vector.
func dotCodes(r *rand.Rand, d, rows int) []int8 {
	c := make([]int8, d*rows)
	fillCodes(r, c, d)
	return c
}

func fillCodes(r *rand.Rand, c []int8, d int) {
	for i := range c {
		c[i] = int8(r.IntN(256) - 128)
	}
	for i := 0; i < len(c)/d; i++ {
		row := c[i*d : (i+1)*d]
		lo, hi := int8(-128), int8(127)
		if i%2 == 1 {
			lo, hi = hi, lo
		}
		row[0], row[d-1] = lo, hi
		row[(5*i+1)%d] = -128
		row[(11*i+7)%d] = 127
	}
}

// dotQuery returns d query floats of the given kind: values in [-1, 1),
// mixed magnitudes from 1e-30 to 1e30 in one query, all large, all tiny.
func dotQuery(r *rand.Rand, d int, kind string) []float32 {
	q := make([]float32, d)
	fillQuery(r, q, kind)
	return q
}

func fillQuery(r *rand.Rand, q []float32, kind string) {
	mags := []float32{1e-30, 1e-6, 1, 1e6, 1e30}
	for i := range q {
		v := r.Float32()*2 - 1
		switch kind {
		case "mixed":
			v *= mags[r.IntN(len(mags))]
		case "large":
			v *= 1e30
		case "tiny":
			v *= 1e-30
		}
		q[i] = v
	}
}

var dotQueryKinds = []string{"unit", "mixed", "large", "tiny"}

// checkDots compares got with the float64 dot products, within 1e-5 of
// Σ|q_j·c_j| (float32 accumulation in any order) plus 1e-6.
func checkDots(t *testing.T, what string, q []float32, c []int8, got []float32) {
	t.Helper()
	d := len(q)
	for i, v := range got {
		var want, mag float64
		for j, x := range q {
			p := float64(x) * float64(c[i*d+j])
			want += p
			mag += math.Abs(p)
		}
		if diff := math.Abs(float64(v) - want); !(diff <= 1e-5*mag+1e-6) {
			t.Fatalf("%s: d=%d rows=%d: out[%d] = %v, want %v (Σ|q·c| %v)", what, d, len(got), i, v, want, mag)
		}
	}
}

// TestDotsI8: every level against float64, every row count around the
// 4-, 2- and 1-row blocks and every width around the loops' unrolling;
// out gets exactly rows values (the float after it keeps its guard).
func TestDotsI8(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for _, d := range dotDims {
			for _, rows := range dotRows {
				c := dotCodes(r, d, rows)
				for _, kind := range dotQueryKinds {
					q := dotQuery(r, d, kind)
					buf := make([]float32, rows+1)
					for i := range buf {
						buf[i] = nan32
					}
					buf[rows] = 12345
					DotsI8(q, c, buf[:rows])
					if buf[rows] != 12345 {
						t.Fatalf("d=%d rows=%d: wrote past out (%v)", d, rows, buf[rows])
					}
					checkDots(t, kind, q, c, buf[:rows])
				}
			}
		}
	})
}

// TestDotsI8Exact: with small integer queries every product and partial
// sum is an integer below 2^24, so every order of summation gives the
// exact result: a code read into the wrong lane, row or sign shows.
func TestDotsI8Exact(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		for _, d := range dotDims {
			for _, rows := range dotRows {
				c := dotCodes(r, d, rows)
				q := make([]float32, d)
				for j := range q {
					q[j] = float32(r.IntN(17) - 8)
				}
				// The extremes: a row of −128s and one of 127s against
				// a query of ones and of −8s.
				if rows >= 3 {
					for j := range d {
						c[d+j], c[2*d+j] = -128, 127
					}
				}
				out := make([]float32, rows)
				DotsI8(q, c, out)
				for i, v := range out {
					var want int64
					for j := range d {
						want += int64(q[j]) * int64(c[i*d+j])
					}
					if v != float32(want) {
						t.Fatalf("d=%d rows=%d: out[%d] = %v, want %d", d, rows, i, v, want)
					}
				}
				for _, s := range []float32{1, -8} {
					for j := range q {
						q[j] = s
					}
					DotsI8(q, c, out)
					if rows >= 3 && (out[1] != s*float32(-128*d) || out[2] != s*float32(127*d)) {
						t.Fatalf("d=%d rows=%d q=%v: extremes %v, %v", d, rows, s, out[1], out[2])
					}
				}
			}
		}
	})
}

// TestDotsI8RowAlone: a row's value is bit for bit the same however the
// rows are split into calls (alone, in blocks of 2–7 at any offset, among
// 257): pkg/vecindex scores a row alone and expects what a scan gave it.
func TestDotsI8RowAlone(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		const rows = 257
		for _, d := range dotDims {
			c := dotCodes(r, d, rows)
			for _, kind := range []string{"unit", "mixed"} {
				q := dotQuery(r, d, kind)
				all := make([]float32, rows)
				DotsI8(q, c, all)
				for _, n := range []int{1, 2, 3, 4, 5, 6, 7} {
					for _, first := range []int{0, 1, 2, 3} {
						got := make([]float32, n)
						for i := first; i < rows; i += n {
							m := min(n, rows-i)
							DotsI8(q, c[i*d:(i+m)*d], got[:m])
							for j, v := range got[:m] {
								if math.Float32bits(v) != math.Float32bits(all[i+j]) {
									t.Fatalf("%s d=%d: row %d in a call of %d rows from %d = %v, in one of %d rows %v",
										kind, d, i+j, m, i, v, rows, all[i+j])
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestDotsI8Fallback: widths that are not a multiple of DotsI8Step run
// in plain Go on every level; no rows or no width is no work.
func TestDotsI8Fallback(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 26))
		for _, d := range []int{1, 2, 3, 8, 15, 17, 31, 100, 383, 385} {
			for _, rows := range []int{1, 2, 5, 9} {
				c := dotCodes(r, d, rows)
				q := dotQuery(r, d, "unit")
				out := make([]float32, rows)
				DotsI8(q, c, out)
				checkDots(t, "fallback", q, c, out)
			}
		}
		q := dotQuery(r, 384, "unit")
		DotsI8(q, nil, nil)                     // rows = 0
		DotsI8(q, make([]int8, 0), []float32{}) // rows = 0
		out := []float32{7, 7}
		DotsI8(nil, nil, out) // d = 0: every dot product is 0
		if out[0] != 0 || out[1] != 0 {
			t.Fatalf("d=0: out = %v", out)
		}
		defer func() {
			if recover() == nil {
				t.Fatal("DotsI8 with too few codes did not panic")
			}
		}()
		DotsI8(q, make([]int8, 2*384-1), make([]float32, 2))
	})
}

// BenchmarkDotsI8: the scan of a quantised index, d = 384, 4096 rows a
// call. hot: the same 1.5 MiB block every call (in L2/L3); stream: the
// calls walk through 100,000 rows (37 MiB, beyond the caches), as one
// search does; one: a single row a call (a candidate's refinement), the
// rows in turn.
func BenchmarkDotsI8(b *testing.B) {
	const d, rows, total = 384, 4096, 100_000
	r := rand.New(rand.NewPCG(27, 28))
	c := make([]int8, d*total)
	fillCodes(r, c, d)
	q := dotQuery(r, d, "unit")
	out := make([]float32, rows)
	prev := Active()
	defer Use(prev)
	for _, name := range Levels() {
		if err := Use(name); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"hot", "stream", "one"} {
			b.Run(fmt.Sprintf("%s/%s", name, mode), func(b *testing.B) {
				n := rows
				if mode == "one" {
					n = 1
				}
				b.SetBytes(int64(d * n))
				off := 0
				for b.Loop() {
					DotsI8(q, c[off*d:(off+n)*d], out[:n])
					if mode != "hot" {
						if off += n; off+n > total {
							off = 0
						}
					}
				}
			})
		}
	}
}
