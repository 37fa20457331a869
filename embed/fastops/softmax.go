//go:build amd64 && goexperiment.simd

package fastops

import (
	"simd/archsimd"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

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
