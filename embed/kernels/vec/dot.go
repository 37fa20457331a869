package vec

import (
	"fmt"
	"unsafe"
)

// DotsI8 writes out[i] = Σ_j q[j]·float32(c[i·d+j]) for i < len(out), with
// d = len(q): the dot products of a float32 query with len(out) rows of
// int8 codes, the scan of a quantised vector index (pkg/vecindex), which
// multiplies each by its row's scale. Summation order differs between
// implementations, so results agree to float32 rounding, not bit for bit;
// within one implementation a row's value depends only on q and the row,
// not on the other rows of the call (how many, or the row's place among
// them): a row scored alone is bit for bit the row scored in a scan.
func DotsI8(q []float32, c []int8, out []float32) {
	d, rows := len(q), len(out)
	if d == 0 || rows == 0 {
		clear(out)
		return
	}
	if len(c) < d*rows {
		panic(fmt.Sprintf("vec.DotsI8: %d codes for %d rows of %d", len(c), rows, d))
	}
	f := cur().dotsI8
	if d%DotsI8Step != 0 {
		f = dotsI8Generic
	}
	f(unsafe.SliceData(q), unsafe.SliceData(c), d, rows, unsafe.SliceData(out))
}

// DotsI8Step: the assembly scans take a row length that is a multiple of
// it (every embedding model's width is); other widths run in plain Go.
const DotsI8Step = 16

// dotsI8Generic keeps four partial sums per row so the loop is not one
// long chain of dependent additions.
func dotsI8Generic(q *float32, c *int8, d, rows int, out *float32) {
	qs := unsafe.Slice(q, d)
	cs := unsafe.Slice(c, d*rows)
	os := unsafe.Slice(out, rows)
	for i := range os {
		row := cs[i*d : (i+1)*d : (i+1)*d]
		var s0, s1, s2, s3 float32
		j := 0
		for ; j+4 <= d; j += 4 {
			r, qq := row[j:j+4:j+4], qs[j:j+4:j+4]
			s0 += qq[0] * float32(r[0])
			s1 += qq[1] * float32(r[1])
			s2 += qq[2] * float32(r[2])
			s3 += qq[3] * float32(r[3])
		}
		for ; j < d; j++ {
			s0 += qs[j] * float32(row[j])
		}
		os[i] = (s0 + s1) + (s2 + s3)
	}
}
