//go:build amd64 && goexperiment.simd

package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"simd/archsimd"

	"github.com/gomlx/gomlx/backends/simplego/packgemm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

func TestSmallGEMM(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	regs := packgemm.DTypeToGEMM[packgemm.DTypePair{Input: dtypes.Float32, Output: dtypes.Float32}]
	if len(regs) == 0 || regs[0].Name != "mnemo AVX512" {
		t.Fatalf("small-M GEMM not registered first: %+v", regs)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range [][4]int{{1, 1, 32, 1}, {1, 12, 384, 384}, {1, 13, 1536, 384}, {2, 7, 64, 33}, {1, 32, 1152, 384}, {3, 4, 96, 128}, {2, 300, 64, 96}, {1, 1280, 384, 77}} {
		batch, m, n, k := c[0], c[1], c[2], c[3]
		lhs := make([]float32, batch*m*k)
		rhs := make([]float32, batch*k*n)
		for i := range lhs {
			lhs[i] = rng.Float32()*2 - 1
		}
		for i := range rhs {
			rhs[i] = rng.Float32()*2 - 1
		}
		out := make([]float32, batch*m*n)
		for i := range out {
			out[i] = float32(math.NaN()) // every element must be written
		}
		smallGEMM(lhs, rhs, out, batch, m, n, k)
		for b := range batch {
			for i := range m {
				for j := range n {
					var want float64
					for kk := range k {
						want += float64(lhs[b*m*k+i*k+kk]) * float64(rhs[b*k*n+kk*n+j])
					}
					got := out[b*m*n+i*n+j]
					if d := math.Abs(float64(got) - want); !(d <= 1e-4*(1+math.Abs(want))) {
						t.Fatalf("%v: out[%d][%d][%d] = %v, want %v", c, b, i, j, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkSmallGEMM measures the kernel alone on MiniLM's shapes
// (m rows × k → n): report GFLOPS.
func BenchmarkSmallGEMM(b *testing.B) {
	for _, c := range [][3]int{{12, 384, 384}, {12, 384, 1536}, {12, 1536, 384}, {2048, 384, 384}, {2048, 384, 1536}, {2048, 1536, 384}} {
		m, k, n := c[0], c[1], c[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			lhs := make([]float32, m*k)
			rhs := make([]float32, k*n)
			out := make([]float32, m*n)
			for i := range lhs {
				lhs[i] = float32(i%7) * 0.1
			}
			for i := range rhs {
				rhs[i] = float32(i%5) * 0.1
			}
			for b.Loop() {
				smallGEMM(lhs, rhs, out, 1, m, n, k)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
