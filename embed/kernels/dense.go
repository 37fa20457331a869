package kernels

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

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
				vec.Dense(x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols], bias, gelu)
			}
		})
		return out, nil
	}
}
