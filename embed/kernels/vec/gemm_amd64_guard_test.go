//go:build amd64 && (linux || darwin)

package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmGuardPages: the amd64 kernels on operands that each end at an
// inaccessible page (the last row of l, r and o exactly as long as it
// must be), every strip width, row counts around the tile heights and
// splits, odd k; the gaps between rows hold NaN and o's must stay NaN.
// A masked load or store that touched a column ≥ w would fault here.
func TestGemmGuardPages(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 16))
	nan := float32(math.NaN())
	for _, im := range []*impl{avx512, avx2} {
		if !im.supported() {
			continue
		}
		t.Run(im.name, func(t *testing.T) {
			sw := im.stripW
			for _, m := range []int{1, 2, 3, 5, 6, 7, 8, 12, 13, 14, 15, 16, 27, 28, 29, 30} {
				for w := 1; w <= sw; w++ {
					for _, k := range []int{1, 2, 3, 17} {
						for _, pad := range [][3]int{{0, 0, 0}, {3, 5, 2}, {1, sw - w, 0}} {
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
							im.gemm(&l[0], &r[0], &o[0], m, k, w, ldl, ldr, ldo, 0, 0, 0)
							for i := range o {
								row, col := i/ldo, i%ldo
								if col >= w {
									if !math.IsNaN(float64(o[i])) {
										t.Fatalf("m=%d k=%d w=%d ld %d,%d,%d: wrote gap o[%d]", m, k, w, ldl, ldr, ldo, i)
									}
									continue
								}
								var want float64
								for p := range k {
									want += float64(l[row*ldl+p]) * float64(r[p*ldr+col])
								}
								if d := math.Abs(float64(o[i]) - want); !(d <= 1e-5*float64(k)) {
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
		})
	}
}
