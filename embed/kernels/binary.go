package kernels

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

// binaryExec: Add, Sub, Mul and Div on float32 operands of the output's
// rank, each either the output's shape or broadcast along some axes.
// The result is bit-identical to simplego's (the same float32 IEEE op per
// element); only the loop differs: rows of the output's last axis, each
// operand a vector or (last axis 1) a scalar for the row, vec.Binary
// a row at a time.
func binaryExec(op backends.OpType, prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		if len(in) != 2 {
			return prev(b, n, in, owned)
		}
		os := nodeShape(n)
		lx, ls, okl := f32(b, in[0])
		rx, rs, okr := f32(b, in[1])
		if !okl || !okr || os.Size() == 0 || !broadcastsTo(ls, os) || !broadcastsTo(rs, os) {
			return prev(b, n, in, owned)
		}
		// A one-element operand of any rank (a constant divisor, say)
		// broadcasts to every element: give it the output's rank.
		if ls.Size() == 1 && !ls.Equal(os) {
			ls = ones(os)
		}
		if rs.Size() == 1 && !rs.Equal(os) {
			rs = ones(os)
		}
		rank := os.Rank()
		cols := 1
		if rank > 0 {
			cols = os.Dimensions[rank-1]
		}
		lFull, rFull := ls.Equal(os), rs.Equal(os)
		// x + (−0) is x for every x, so an Add of an all −0 operand to an
		// input this op owns is that input. The attention mask of an
		// unpadded batch is all −0 (0 × −10000 as BERT computes it), and
		// adding it was 3% of an 8 × 256 pass.
		if op == backends.OpTypeAdd {
			for i, x := range [][]float32{lx, rx} {
				other := 1 - i
				if in[other] != nil && owned[other] && [2]bool{lFull, rFull}[other] && len(x)*16 <= os.Size() && allNegZero(x) {
					// Handed over as output does it: the slot set to nil
					// so the input is not freed.
					out := in[other]
					in[other] = nil
					hit(op)
					identityAdds.Add(1)
					return out, nil
				}
			}
		}
		// A full operand and a one-element one (the attention scale, a
		// LayerNorm epsilon): one flat row, split below, rather than a
		// call per row of the last axis (6,144 rows of 32 for the
		// queries of an 8 × 256 batch, where the calls cost 8× the
		// arithmetic).
		lOne, rOne := len(lx) == 1 && !lFull, len(rx) == 1 && !rFull
		flat := lFull && rFull || lFull && rOne || lOne && rFull
		if flat {
			cols = os.Size()
		} else if cols < 16 {
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, os, in, owned, 1, 0)
		if err != nil {
			return nil, err
		}
		hit(op)
		vop := vecOp[op] // once, not a map lookup per row
		if flat {
			const chunk = 4096
			parallel((len(y)+chunk-1)/chunk, len(y), func(from, to int) {
				lo, hi := from*chunk, min(to*chunk, len(y))
				a, c := lx, rx
				if !lOne {
					a = lx[lo:hi]
				}
				if !rOne {
					c = rx[lo:hi]
				}
				vec.Binary(vop, y[lo:hi], a, c, lOne, rOne)
			})
			return out, nil
		}
		lOff, rOff := rowOffsets(ls, os), rowOffsets(rs, os)
		lScalar := rank == 0 || ls.Dimensions[rank-1] == 1
		rScalar := rank == 0 || rs.Dimensions[rank-1] == 1
		rows := len(y) / cols
		parallel(rows, len(y), func(from, to int) {
			for r := from; r < to; r++ {
				lo, ro := lOff(r), rOff(r)
				var a, c []float32
				if lScalar {
					a = lx[lo : lo+1]
				} else {
					a = lx[lo : lo+cols]
				}
				if rScalar {
					c = rx[ro : ro+1]
				} else {
					c = rx[ro : ro+cols]
				}
				vec.Binary(vop, y[r*cols:(r+1)*cols], a, c, lScalar, rScalar)
			}
		})
		return out, nil
	}
}

// identityAdds counts the Adds of an all −0 operand answered with the
// other operand (tests check the path is taken).
var identityAdds atomic.Int64

// allNegZero reports whether every value of x is −0.
func allNegZero(x []float32) bool {
	for _, v := range x {
		if math.Float32bits(v) != 1<<31 {
			return false
		}
	}
	return true
}

// broadcastsTo reports whether s has o's rank and each of its dimensions
// is o's or 1.
func broadcastsTo(s, o shapes.Shape) bool {
	if s.Size() == 1 {
		return true
	}
	if s.Rank() != o.Rank() {
		return false
	}
	for i, d := range s.Dimensions {
		if d != o.Dimensions[i] && d != 1 {
			return false
		}
	}
	return true
}

// ones is o's rank with every dimension 1.
func ones(o shapes.Shape) shapes.Shape {
	dims := make([]int, o.Rank())
	for i := range dims {
		dims[i] = 1
	}
	return shapes.Make(o.DType, dims...)
}

// rowOffsets returns, for row r of output shape o (all axes but the
// last), where that row's data starts in an operand of shape s that
// broadcasts to o.
func rowOffsets(s, o shapes.Shape) func(r int) int {
	rank := o.Rank()
	if rank <= 1 {
		return func(int) int { return 0 }
	}
	lead := rank - 1
	dims := o.Dimensions[:lead]
	strides := make([]int, lead) // operand strides, 0 on broadcast axes
	stride := s.Dimensions[lead]
	for i := lead - 1; i >= 0; i-- {
		if s.Dimensions[i] != 1 {
			strides[i] = stride
		}
		stride *= s.Dimensions[i]
	}
	if slices.Equal(s.Dimensions[:lead], dims) {
		step := s.Dimensions[lead]
		return func(r int) int { return r * step }
	}
	return func(r int) int {
		off := 0
		for i := lead - 1; i >= 0; i-- {
			off += (r % dims[i]) * strides[i]
			r /= dims[i]
		}
		return off
	}
}

var vecOp = map[backends.OpType]vec.Op{
	backends.OpTypeAdd: vec.Add, backends.OpTypeSub: vec.Sub,
	backends.OpTypeMul: vec.Mul, backends.OpTypeDiv: vec.Div,
}
