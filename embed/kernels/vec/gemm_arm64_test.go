//go:build linux || darwin

package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmNEONBounds calls the kernel directly on every width 1–16, row
// counts around its 6- and 4-row tiles, k around its unroll of 4 and
// strides wider than the operands: l, r and o each end at an inaccessible
// page, the gaps between rows hold NaN (a gap read into a stored result
// shows as NaN) and o's gaps must stay NaN.
func TestGemmNEONBounds(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	nan := float32(math.NaN())
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13} {
		for w := 1; w <= 16; w++ {
			for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 17} {
				for _, pad := range [][3]int{{0, 0, 0}, {3, 5, 2}, {1, 16 - w, 0}} {
					ldl, ldr, ldo := k+pad[0], w+pad[1], w+pad[2]
					l, freeL := pageGuarded(t, (m-1)*ldl+k)
					r, freeR := pageGuarded(t, (k-1)*ldr+w)
					o, freeO := pageGuarded(t, (m-1)*ldo+w)
					for i := range l {
						l[i] = nan
						if i%ldl < k {
							l[i] = rnd.Float32()*2 - 1
						}
					}
					for i := range r {
						r[i] = nan
						if i%ldr < w {
							r[i] = rnd.Float32()*2 - 1
						}
					}
					for i := range o {
						o[i] = nan
					}
					gemmNEON(&l[0], &r[0], &o[0], m, k, w, ldl, ldr, ldo, 0, 0, 0)
					for i := range o {
						if i%ldo >= w {
							if !math.IsNaN(float64(o[i])) {
								t.Fatalf("m=%d k=%d w=%d ld %d,%d,%d: wrote gap o[%d]", m, k, w, ldl, ldr, ldo, i)
							}
							continue
						}
						row, col := i/ldo, i%ldo
						var want float64
						for p := range k {
							want += float64(l[row*ldl+p]) * float64(r[p*ldr+col])
						}
						if d := math.Abs(float64(o[i]) - want); !(d <= 1e-5) {
							t.Fatalf("m=%d k=%d w=%d ld %d,%d,%d: o[%d,%d] = %v, want %v", m, k, w, ldl, ldr, ldo, row, col, o[i], want)
						}
					}
					freeL()
					freeR()
					freeO()
				}
			}
		}
	}
}
