package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestAttentionMatchesSimplego runs the fused attention against
// simplego's own FusedScaledDotProductAttention: one query block and
// several, keys longer and shorter than the queries, BERT's padding mask
// (−10000 for padded keys, −0 elsewhere), an all −0 mask, a [seq, kv]
// mask and none.
func TestAttentionMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, c := range []struct {
			batch, heads, seq, kv, dim int
			mask                       string // "", "pad", "zero", "2d"
		}{
			{1, 12, 12, 12, 32, ""},
			{1, 12, 12, 12, 32, "zero"},
			{2, 12, 256, 256, 32, "pad"},
			{2, 3, 50, 50, 16, "pad"},
			{1, 2, 100, 100, 8, "2d"},
			{3, 2, 7, 30, 16, "pad"},
			{1, 4, 90, 20, 5, ""},
		} {
			t.Run(fmt.Sprint(c), func(t *testing.T) {
				q := randTensor(rng, 2, c.batch, c.heads, c.seq, c.dim)
				k := randTensor(rng, 2, c.batch, c.heads, c.kv, c.dim)
				v := randTensor(rng, 2, c.batch, c.heads, c.kv, c.dim)
				scale := 1 / math.Sqrt(float64(c.dim))
				var mask *tensors.Tensor
				switch c.mask {
				case "pad", "zero":
					// [batch, 1, seq, kv], as the rewrite expands BERT's mask.
					m := make([]float32, c.batch*c.seq*c.kv)
					for bi := range c.batch {
						valid := c.kv - bi*c.kv/(2*c.batch)
						if c.mask == "zero" {
							valid = c.kv
						}
						for i := range c.seq {
							for j := range c.kv {
								x := float32(math.Copysign(0, -1))
								if j >= valid {
									x = -10000
								}
								m[(bi*c.seq+i)*c.kv+j] = x
							}
						}
					}
					mask = tensors.FromFlatDataAndDimensions(m, c.batch, 1, c.seq, c.kv)
				case "2d":
					mask = randTensor(rng, 3, c.seq, c.kv)
				}
				args := []*tensors.Tensor{q, k, v}
				var want, got []float32
				if mask == nil {
					want, got = execBoth(t, b, backends.OpTypeFusedScaledDotProductAttention, func(q, k, v *graph.Node) *graph.Node {
						return graph.BackendFusedScaledDotProductAttention(q, k, v, nil, c.heads, c.heads, backends.AxesLayoutBHSD, scale, false, nil)
					}, args...)
				} else {
					want, got = execBoth(t, b, backends.OpTypeFusedScaledDotProductAttention, func(q, k, v, m *graph.Node) *graph.Node {
						return graph.BackendFusedScaledDotProductAttention(q, k, v, m, c.heads, c.heads, backends.AxesLayoutBHSD, scale, false, nil)
					}, append(args, mask)...)
				}
				if len(got) != len(want) {
					t.Fatalf("%d values, simplego %d", len(got), len(want))
				}
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); !(d <= 2e-5*(1+math.Abs(float64(want[i])))) {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

// BenchmarkAttention is one attention layer of an 8 × 256 pass (two
// texts of 256 tokens, 12 heads of 32, the second padded) and of a
// 24-token query, on one core.
func BenchmarkAttention(b *testing.B) {
	for _, c := range []struct{ batch, seq int }{{2, 256}, {1, 24}} {
		b.Run(fmt.Sprintf("%dx%d", c.batch, c.seq), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			const heads, dim = 12, 32
			batch, seq := c.batch, c.seq
			p := sdpa{batch: batch, heads: heads, seq: seq, kv: seq, dim: dim, scale: 0.17677669}
			p.q = randTensorData(rng, batch*heads*seq*dim)
			p.k = randTensorData(rng, batch*heads*seq*dim)
			p.v = randTensorData(rng, batch*heads*seq*dim)
			p.out = make([]float32, batch*heads*seq*dim)
			p.mask = make([]float32, batch*seq)
			for j := seq - seq/8; j < seq; j++ {
				p.mask[(batch-1)*seq+j] = -10000
			}
			p.maskB = seq
			p.rows = sdpaRows(seq, seq)
			sc := new([]float32)
			for b.Loop() {
				for u := range batch * heads {
					p.unit(u, sc)
				}
			}
		})
	}
}

func randTensorData(rng *rand.Rand, n int) []float32 {
	d := make([]float32, n)
	for i := range d {
		d[i] = rng.Float32()*4 - 2
	}
	return d
}
