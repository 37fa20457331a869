//go:build amd64 && goexperiment.simd

package embed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"simd/archsimd"

	"github.com/gomlx/gomlx/backends/simplego/packgemm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
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
	for _, c := range [][4]int{{1, 1, 32, 1}, {1, 12, 384, 384}, {1, 13, 1536, 384}, {2, 7, 64, 33}, {1, 32, 1152, 384}, {3, 4, 96, 128}, {2, 300, 64, 96}, {1, 1280, 384, 77},
		// widths not a multiple of 32: attention over a few tokens
		{12, 12, 12, 32}, {12, 5, 5, 32}, {1, 37, 40, 9}, {2, 3, 17, 5}, {1, 600, 100, 64}, {1, 9, 1, 3}} {
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
	for _, c := range [][4]int{{1, 12, 384, 384}, {1, 12, 384, 1536}, {1, 12, 1536, 384}, {1, 2048, 384, 384}, {1, 2048, 384, 1536}, {1, 2048, 1536, 384}, {1, 1280, 384, 384}, {1, 1280, 1536, 384},
		{96, 256, 32, 256}, {96, 256, 256, 32}} { // attention scores and context, 8 × 256 tokens
		batch, m, k, n := c[0], c[1], c[2], c[3]
		b.Run(fmt.Sprintf("%dx%dx%dx%d", batch, m, k, n), func(b *testing.B) {
			lhs := make([]float32, batch*m*k)
			rhs := make([]float32, batch*k*n)
			out := make([]float32, batch*m*n)
			for i := range lhs {
				lhs[i] = float32(i%7) * 0.1
			}
			for i := range rhs {
				rhs[i] = float32(i%5) * 0.1
			}
			for b.Loop() {
				smallGEMM(lhs, rhs, out, batch, m, n, k)
			}
			b.ReportMetric(float64(2*batch*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

func TestPackedWeightGEMM(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	gemm := packgemm.DTypeToGEMM[packgemm.DTypePair{Input: dtypes.Float32, Output: dtypes.Float32}][0].GEMMFn
	call := func(alpha, beta float32, lhs, rhs, out []float32, m, n, k int) error {
		fn := reflect.ValueOf(gemm)
		args := []reflect.Value{reflect.ValueOf(alpha), reflect.ValueOf(beta), reflect.ValueOf(lhs), reflect.ValueOf(rhs),
			reflect.ValueOf(1), reflect.ValueOf(m), reflect.ValueOf(n), reflect.ValueOf(k), reflect.ValueOf(out)}
		for i := 9; i < fn.Type().NumIn(); i++ {
			args = append(args, reflect.Zero(fn.Type().In(i)))
		}
		if err, _ := fn.Call(args)[0].Interface().(error); err != nil {
			return err
		}
		return nil
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range [][3]int{{12, 384, 384}, {1, 64, 96}, {7, 33, 64}, {300, 128, 1536}} {
		m, k, n := c[0], c[1], c[2]
		lhs, w := make([]float32, m*k), make([]float32, k*n)
		for i := range lhs {
			lhs[i] = rng.Float32()*2 - 1
		}
		for i := range w {
			w[i] = rng.Float32()*2 - 1
		}
		want := make([]float32, m*n)
		smallGEMM(lhs, w, want, 1, m, n, k)
		release, ok := packWeight(w, k, n)
		if !ok {
			t.Fatalf("%v: not packed", c)
		}
		if _, ok := packedWeightOf(w); !ok {
			t.Fatalf("%v: not registered", c)
		}
		for _, ab := range [][2]float32{{1, 0}, {0.5, 0}, {2, 1}} {
			out := make([]float32, m*n)
			for i := range out {
				out[i] = 3
			}
			if err := call(ab[0], ab[1], lhs, w, out, m, n, k); err != nil {
				t.Fatal(err)
			}
			for i := range out {
				exp := ab[0]*want[i] + ab[1]*3
				if d := math.Abs(float64(out[i] - exp)); d > 1e-5*(1+math.Abs(float64(exp))) {
					t.Fatalf("%v alpha,beta=%v: out[%d] = %v, want %v", c, ab, i, out[i], exp)
				}
			}
		}
		if err := call(1, 0, lhs[:k], w, make([]float32, 2*n), 1, n/2, k*2); err == nil {
			t.Fatalf("%v: a packed weight used with other dimensions must be an error", c)
		}
		release()
		if _, ok := packedWeightOf(w); ok {
			t.Fatalf("%v: still registered after release", c)
		}
	}
}

// The model's 36 linear-layer weights are packed at load, and released
// with the engine.
func TestModelWeightsPacked(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	before := len(packedMap())
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.MiniLM)})
	rt, err := e.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.RUnlock()
	if rt.packedWeights != 36 {
		t.Fatalf("%d weights packed, want 36 (6 layers × Q, K, V, output, FFN in, FFN out)", rt.packedWeights)
	}
	if info := e.Info(); info.KernelsDegraded || !strings.Contains(info.Kernels, "36 weights packed") || !strings.Contains(info.Kernels, "vectorised executors") {
		t.Fatalf("Info().Kernels = %q (degraded %v)", info.Kernels, info.KernelsDegraded)
	}
	if got := len(packedMap()); got != before+36 {
		t.Fatalf("%d registered, want %d", got, before+36)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(packedMap()); got != before {
		t.Fatalf("%d registered after Close, want %d", got, before)
	}
}

func packedMap() map[*float32]packedInfo {
	if m := packedWeights.Load(); m != nil {
		return *m
	}
	return nil
}
