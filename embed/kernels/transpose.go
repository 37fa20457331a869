package kernels

import (
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// transposeExec: float32 Transpose. Attention splits and merges heads
// with transposes ([B,S,H,D] ↔ [B,H,S,D], and [B,H,D,S] for the keys),
// which simplego runs with a generic per-element index iterator. Here a
// permutation that keeps the last axis copies whole rows; one that moves
// it is done in 16 × 16 tiles, so both sides stay in cache.
func transposeExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		perm, ok := nodeData(n).([]int)
		x, s, okx := f32(b, in[0])
		os := nodeShape(n)
		rank := s.Rank()
		if !ok || !okx || rank < 2 || len(perm) != rank || os.Size() != len(x) || len(x) == 0 {
			return prev(b, n, in, owned)
		}
		for j, p := range perm {
			if p < 0 || p >= rank || os.Dimensions[j] != s.Dimensions[p] {
				return prev(b, n, in, owned)
			}
		}
		last := rank - 1
		inStride := make([]int, rank)
		stride := 1
		for i := last; i >= 0; i-- {
			inStride[i] = stride
			stride *= s.Dimensions[i]
		}
		// The stride, in the input, of each output axis.
		src := make([]int, rank)
		for j, p := range perm {
			src[j] = inStride[p]
		}
		outDims := os.Dimensions
		if perm[last] == last {
			run := outDims[last]
			if run < 4 {
				return prev(b, n, in, owned)
			}
			out, y, err := output(b, os, in, owned)
			if err != nil {
				return nil, err
			}
			hit(backends.OpTypeTranspose)
			rows := len(y) / run
			parallel(rows, len(y), func(from, to int) {
				// The input offset of row from, then stepped like an
				// odometer: a division per axis and row cost more than
				// the copy of a 32-float row.
				idx := make([]int, last)
				off, rr := 0, from
				for j := last - 1; j >= 0; j-- {
					idx[j] = rr % outDims[j]
					rr /= outDims[j]
					off += idx[j] * src[j]
				}
				for r := from; r < to; r++ {
					copy(y[r*run:(r+1)*run], x[off:off+run])
					for j := last - 1; j >= 0; j-- {
						idx[j]++
						off += src[j]
						if idx[j] < outDims[j] {
							break
						}
						off -= idx[j] * src[j]
						idx[j] = 0
					}
				}
			})
			return out, nil
		}
		// The input's last axis lands on output axis q; the output's last
		// axis reads input stride src[last]. Every other output axis is
		// an outer loop.
		q := 0
		for j, p := range perm {
			if p == last {
				q = j
			}
		}
		outStride := make([]int, rank)
		stride = 1
		for j := last; j >= 0; j-- {
			outStride[j] = stride
			stride *= outDims[j]
		}
		var outer []int // output axes other than q and last
		for j := range last {
			if j != q {
				outer = append(outer, j)
			}
		}
		dq, dl := outDims[q], outDims[last]
		blocks := len(x) / (dq * dl)
		out, y, err := output(b, os, in, owned)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeTranspose)
		parallel(blocks, len(y), func(from, to int) {
			for blk := from; blk < to; blk++ {
				inOff, outOff, bb := 0, 0, blk
				for k := len(outer) - 1; k >= 0; k-- {
					j := outer[k]
					i := bb % outDims[j]
					bb /= outDims[j]
					inOff += i * src[j]
					outOff += i * outStride[j]
				}
				tile(y[outOff:], x[inOff:], dq, dl, outStride[q], src[last])
			}
		})
		return out, nil
	}
}

// tile copies an a × c block: y[i·ys + k] = x[i + k·xs] (i < a, k < c),
// 16 × 16 at a time. The strided reads go through a pointer: with a
// bounds check each, the keys' transpose of an 8 × 256 batch ran at
// under 1 G values/s.
func tile(y, x []float32, a, c, ys, xs int) {
	const t = 16
	if a <= 0 || c <= 0 {
		return
	}
	_ = x[(a-1)+(c-1)*xs] // the block's last element: every read below is in x
	base := unsafe.Pointer(unsafe.SliceData(x))
	stride := uintptr(xs) * 4
	for i0 := 0; i0 < a; i0 += t {
		i1 := min(i0+t, a)
		for k0 := 0; k0 < c; k0 += t {
			k1 := min(k0+t, c)
			for i := i0; i < i1; i++ {
				row := y[i*ys+k0 : i*ys+k1]
				off := uintptr(i+k0*xs) * 4
				for k := range row {
					// Never a pointer past x's last element (stepping
					// p itself would make one at the row's end).
					row[k] = *(*float32)(unsafe.Add(base, off))
					off += stride
				}
			}
		}
	}
}
