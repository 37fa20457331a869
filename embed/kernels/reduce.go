package kernels

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

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
				y[r] = vec.Sum(x[r*run : (r+1)*run])
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
