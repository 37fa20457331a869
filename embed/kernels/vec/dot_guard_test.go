//go:build linux || darwin

package vec

import (
	"math/rand/v2"
	"testing"
)

// TestDotsI8GuardPages: the codes, the query and out each end exactly at
// an inaccessible page, so a kernel that reads a code or a query float
// past its end, or writes past out, faults.
func TestDotsI8GuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(29, 30))
		for _, d := range dotDims {
			for _, rows := range dotRows {
				c, freeC := pageGuardedOf[int8](t, d*rows)
				q, freeQ := pageGuardedOf[float32](t, d)
				out, freeO := pageGuardedOf[float32](t, rows)
				fillCodes(r, c, d)
				fillQuery(r, q, "mixed")
				DotsI8(q, c, out)
				checkDots(t, "guarded", q, c, out)
				freeC()
				freeQ()
				freeO()
			}
		}
	})
}
