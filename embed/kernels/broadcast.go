package kernels

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

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
