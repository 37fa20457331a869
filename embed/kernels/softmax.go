package kernels

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
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
				vec.Softmax(x[r*l:(r+1)*l], y[r*l:(r+1)*l])
			}
		})
		return out, nil
	}
}
