//go:build amd64 && goexperiment.simd

package fastops

import (
	"runtime"
	"simd/archsimd"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// minParallel is the fewest elements an op splits across cores for: below
// it a goroutine hand-off costs more than it saves (a 12-token query's
// activations are 4.6K elements per op, an 8 × 256 batch's 786K).
const minParallel = 1 << 15

// hits counts, per op, the calls the fast executors took (tests check
// that a case meant for them did not fall back).
var hits [backends.OpTypeLast]atomic.Int64

func hit(op backends.OpType) { hits[op].Add(1) }

// parallel runs fn over [0, n) split across the cores (Split) when the
// op touches at least minParallel elements. simplego runs a BERT pass's
// ops one after another (each depends on the last), so an op has the
// cores to itself.
func parallel(n, elements int, fn func(from, to int)) {
	if elements < minParallel {
		fn(0, n)
		return
	}
	Split(n, max(1, n/(4*runtime.GOMAXPROCS(0))), fn)
}

// Split runs fn over [0, n) in pieces of grain items on up to GOMAXPROCS
// goroutines, the caller's included, each taking the next piece when it
// is done with the last. Fixed halves waited for the slower core: with a
// third process busy on the machine, one half of every op ran late.
func Split(n, grain int, fn func(from, to int)) {
	grain = max(grain, 1)
	pieces := (n + grain - 1) / grain
	workers := min(runtime.GOMAXPROCS(0), pieces)
	if workers < 2 {
		fn(0, n)
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= pieces {
				return
			}
			fn(i*grain, min((i+1)*grain, n))
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// softmaxExec: softmax over the last axis (the attention scores').
func softmaxExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		axis, ok := intField(nodeData(n), "axis")
		x, s, okx := f32(b, in[0])
		if !ok || !okx || s.Rank() == 0 || axis != s.Rank()-1 || s.Size() == 0 || !s.Equal(nodeShape(n)) {
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, nodeShape(n), in, owned, 0)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeFusedSoftmax)
		l := s.Dimensions[axis]
		parallel(len(x)/l, len(x), func(from, to int) {
			for r := from; r < to; r++ {
				softmaxRow(x[r*l:(r+1)*l], y[r*l:(r+1)*l])
			}
		})
		return out, nil
	}
}

// softmaxRow writes softmax(x) to y; y may be x. A row's last
// len(x)%16 elements (all of a row shorter than 16: a short query's
// attention) take the same vector path through masked loads and stores.
func softmaxRow(x, y []float32) {
	full := len(x) &^ 15
	tail := len(x) - full
	valid := archsimd.Mask32x16FromBits(uint16(1<<tail - 1))
	vm := vNegInf
	for i := 0; i < full; i += 16 {
		vm = vm.Max(archsimd.LoadFloat32x16(vec(x[i:])))
	}
	if tail > 0 {
		vm = vm.Max(archsimd.LoadFloat32x16SlicePart(x[full:]).Merge(vNegInf, valid))
	}
	vm = archsimd.BroadcastFloat32x16(hmax(vm))
	vs := vZero
	for i := 0; i < full; i += 16 {
		e := exp16(archsimd.LoadFloat32x16(vec(x[i:])).Sub(vm))
		e.Store(vec(y[i:]))
		vs = vs.Add(e)
	}
	var et archsimd.Float32x16
	if tail > 0 {
		et = exp16(archsimd.LoadFloat32x16SlicePart(x[full:]).Sub(vm)).Masked(valid)
		vs = vs.Add(et)
	}
	vinv := archsimd.BroadcastFloat32x16(1 / hsum(vs))
	for i := 0; i < full; i += 16 {
		archsimd.LoadFloat32x16(vec(y[i:])).Mul(vinv).Store(vec(y[i:]))
	}
	if tail > 0 {
		et.Mul(vinv).StoreSlicePart(y[full:])
	}
}

// denseExec: the step after a dense layer's matmul, y = act(x·W + bias),
// for no activation or exact GELU. Inputs are [x·W, x, W, bias?].
func denseExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		act, ok := intField(nodeData(n), "activation")
		gelu := act == int(backends.ActivationGelu)
		if !ok || (!gelu && act != int(backends.ActivationNone)) || len(in) < 3 {
			return prev(b, n, in, owned)
		}
		x, s, okx := f32(b, in[0])
		if !okx || s.Rank() == 0 || !s.Equal(nodeShape(n)) {
			return prev(b, n, in, owned)
		}
		cols := s.Dimensions[s.Rank()-1]
		var bias []float32
		if len(in) > 3 && in[3] != nil {
			var bs shapes.Shape
			if bias, bs, ok = f32(b, in[3]); !ok || bs.Size() != cols || cols == 0 {
				return prev(b, n, in, owned)
			}
		}
		if bias == nil && !gelu {
			return prev(b, n, in, owned) // a copy at most: simplego's is fine
		}
		out, y, err := output(b, s, in, owned, 0)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeFusedDense)
		rows := len(x) / max(cols, 1)
		parallel(rows, len(x), func(from, to int) {
			for r := from; r < to; r++ {
				denseRow(x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols], bias, gelu)
			}
		})
		return out, nil
	}
}

func denseRow(x, y, bias []float32, gelu bool) {
	i := 0
	for ; i+16 <= len(x); i += 16 {
		v := archsimd.LoadFloat32x16(vec(x[i:]))
		if bias != nil {
			v = v.Add(archsimd.LoadFloat32x16(vec(bias[i:])))
		}
		if gelu {
			v = gelu16(v)
		}
		v.Store(vec(y[i:]))
	}
	for ; i < len(x); i++ {
		v := x[i]
		if bias != nil {
			v += bias[i]
		}
		if gelu {
			v = gelu32(v)
		}
		y[i] = v
	}
}

// binaryExec: Add, Sub, Mul and Div on float32 operands of the output's
// rank, each either the output's shape or broadcast along some axes.
// The result is bit-identical to simplego's (the same float32 IEEE op per
// element); only the loop differs: rows of the output's last axis, each
// operand a vector or (last axis 1) a scalar for the row, 16 lanes a step.
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
		if lFull && rFull {
			cols = os.Size() // one flat row, split below
		} else if cols < 16 {
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, os, in, owned, 1, 0)
		if err != nil {
			return nil, err
		}
		hit(op)
		if lFull && rFull {
			const chunk = 4096
			parallel((len(y)+chunk-1)/chunk, len(y), func(from, to int) {
				lo, hi := from*chunk, min(to*chunk, len(y))
				binaryRow(op, y[lo:hi], lx[lo:hi], rx[lo:hi], false, false)
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
				binaryRow(op, y[r*cols:(r+1)*cols], a, c, lScalar, rScalar)
			}
		})
		return out, nil
	}
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

// binaryRow computes y = a op c over one row; a scalar operand is its
// slice's first element.
func binaryRow(op backends.OpType, y, a, c []float32, aScalar, cScalar bool) {
	var va, vc archsimd.Float32x16
	if aScalar {
		va = archsimd.BroadcastFloat32x16(a[0])
	}
	if cScalar {
		vc = archsimd.BroadcastFloat32x16(c[0])
	}
	i := 0
	for ; i+16 <= len(y); i += 16 {
		if !aScalar {
			va = archsimd.LoadFloat32x16(vec(a[i:]))
		}
		if !cScalar {
			vc = archsimd.LoadFloat32x16(vec(c[i:]))
		}
		var v archsimd.Float32x16
		switch op {
		case backends.OpTypeAdd:
			v = va.Add(vc)
		case backends.OpTypeSub:
			v = va.Sub(vc)
		case backends.OpTypeMul:
			v = va.Mul(vc)
		default:
			v = va.Div(vc)
		}
		v.Store(vec(y[i:]))
	}
	for ; i < len(y); i++ {
		x, z := a[0], c[0]
		if !aScalar {
			x = a[i]
		}
		if !cScalar {
			z = c[i]
		}
		switch op {
		case backends.OpTypeAdd:
			y[i] = x + z
		case backends.OpTypeSub:
			y[i] = x - z
		case backends.OpTypeMul:
			y[i] = x * z
		default:
			y[i] = x / z
		}
	}
}

// reduceSumExec: ReduceSum over trailing axes (LayerNorm's mean and
// variance), each output element one contiguous run.
func reduceSumExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		axes, ok := nodeData(n).([]int)
		x, s, okx := f32(b, in[0])
		if !ok || !okx || len(axes) == 0 || !trailing(axes, s.Rank()) || s.Size() == 0 {
			return prev(b, n, in, owned)
		}
		os := nodeShape(n)
		run := 1
		for _, a := range axes {
			run *= s.Dimensions[a]
		}
		if run < 16 || os.Size()*run != len(x) {
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, os, in, owned)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeReduceSum)
		parallel(len(y), len(x), func(from, to int) {
			for r := from; r < to; r++ {
				y[r] = sum(x[r*run : (r+1)*run])
			}
		})
		return out, nil
	}
}

// trailing reports whether axes are exactly the last len(axes) of rank,
// in any order.
func trailing(axes []int, rank int) bool {
	seen := make([]bool, rank)
	for _, a := range axes {
		if a < rank-len(axes) || a >= rank || seen[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

func sum(x []float32) float32 {
	i := 0
	vs := vZero
	for ; i+16 <= len(x); i += 16 {
		vs = vs.Add(archsimd.LoadFloat32x16(vec(x[i:])))
	}
	s := hsum(vs)
	for ; i < len(x); i++ {
		s += x[i]
	}
	return s
}

// broadcastExec: float32 BroadcastInDim (the attention mask expanded to
// the scores' shape once per pass), a row of the output's last axis at a
// time: a copy of an operand row, or one operand value repeated.
func broadcastExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		axes, ok := nodeData(n).([]int)
		x, s, okx := f32(b, in[0])
		os := nodeShape(n)
		rank := os.Rank()
		if !ok || !okx || rank == 0 || len(axes) != s.Rank() || os.Size() == 0 || len(x) == 0 {
			return prev(b, n, in, owned)
		}
		// The operand with the output's rank: its dimensions on the axes
		// it maps to, 1 elsewhere. The axes must ascend for its data to
		// keep its order.
		dims := make([]int, rank)
		for i := range dims {
			dims[i] = 1
		}
		for i, a := range axes {
			if a < 0 || a >= rank || (i > 0 && a <= axes[i-1]) || (s.Dimensions[i] != os.Dimensions[a] && s.Dimensions[i] != 1) {
				return prev(b, n, in, owned)
			}
			dims[a] = s.Dimensions[i]
		}
		rs := shapes.Make(s.DType, dims...)
		cols := os.Dimensions[rank-1]
		if cols < 16 {
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, os, in, owned)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeBroadcastInDim)
		off := rowOffsets(rs, os)
		scalar := dims[rank-1] == 1
		parallel(len(y)/cols, len(y), func(from, to int) {
			for r := from; r < to; r++ {
				row, o := y[r*cols:(r+1)*cols], off(r)
				if scalar {
					v := x[o]
					for i := range row {
						row[i] = v
					}
				} else {
					copy(row, x[o:o+cols])
				}
			}
		})
		return out, nil
	}
}
