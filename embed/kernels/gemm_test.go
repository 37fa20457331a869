package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego/packgemm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

func TestGEMM(t *testing.T) {
	installed(t)
	regs := packgemm.DTypeToGEMM[packgemm.DTypePair{Input: dtypes.Float32, Output: dtypes.Float32}]
	if len(regs) == 0 || regs[0].Name != gemmName {
		t.Fatalf("mnemo's GEMM not registered first: %+v", regs)
	}
	forEachLevel(t, testGEMM)
}

func testGEMM(t *testing.T) {
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
		gemm(lhs, rhs, out, batch, m, n, k)
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

// BenchmarkGEMM measures the kernel alone on MiniLM's shapes
// (m rows × k → n): report GFLOPS.
func BenchmarkGEMM(b *testing.B) {
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
				gemm(lhs, rhs, out, batch, m, n, k)
			}
			b.ReportMetric(float64(2*batch*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

func TestPackedWeightGEMM(t *testing.T) {
	installed(t)
	forEachLevel(t, testPackedWeightGEMM)
}

func testPackedWeightGEMM(t *testing.T) {
	registered := packgemm.DTypeToGEMM[packgemm.DTypePair{Input: dtypes.Float32, Output: dtypes.Float32}][0].GEMMFn
	call := func(alpha, beta float32, lhs, rhs, out []float32, m, n, k int) error {
		fn := reflect.ValueOf(registered)
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
	for _, c := range [][3]int{{12, 384, 384}, {1, 64, 96}, {7, 33, 64}, {300, 128, 1536}, {2, 5, 32}} {
		m, k, n := c[0], c[1], c[2]
		lhs, w := make([]float32, m*k), make([]float32, k*n)
		for i := range lhs {
			lhs[i] = rng.Float32()*2 - 1
		}
		for i := range w {
			w[i] = rng.Float32()*2 - 1
		}
		want := make([]float32, m*n)
		gemm(lhs, w, want, 1, m, n, k)
		release, ok := PackWeight(w, k, n)
		if vec.Active() == "generic" {
			if ok {
				t.Fatalf("%v: packed for the generic kernels (they leave large products to packgemm's, which reads row-major)", c)
			}
			continue
		}
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

// TestGoModPinsVerifiedGoMLX: a test binary's build info lists no
// modules, so the version guard is checked against go.mod here; a GoMLX
// upgrade fails this test until the kernels are verified again.
func TestGoModPinsVerifiedGoMLX(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if slices.Contains(f, "replace") || slices.Contains(f, "=>") {
			if slices.Contains(f, gomlxModule) {
				t.Fatalf("go.mod replaces %s: %s", gomlxModule, line)
			}
		}
		if len(f) >= 2 && f[0] == gomlxModule || len(f) >= 3 && f[0] == "require" && f[1] == gomlxModule {
			if f[0] == "require" {
				f = f[1:]
			}
			if f[1] != VerifiedGoMLX {
				t.Fatalf("go.mod requires %s %s; the kernels are verified against %s", gomlxModule, f[1], VerifiedGoMLX)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("go.mod does not require %s", gomlxModule)
	}
}

func TestCheckGoMLX(t *testing.T) {
	mod := func(v string, repl *debug.Module) *debug.BuildInfo {
		return &debug.BuildInfo{Deps: []*debug.Module{{Path: "golang.org/x/sys", Version: "v0.49.0"}, {Path: gomlxModule, Version: v, Replace: repl}}}
	}
	if err := checkGoMLX(mod(VerifiedGoMLX, nil)); err != nil {
		t.Fatalf("verified version refused: %v", err)
	}
	for name, bi := range map[string]*debug.BuildInfo{
		"other version": mod("v0.28.0", nil),
		"replaced":      mod(VerifiedGoMLX, &debug.Module{Path: "../gomlx"}),
		"missing":       {Deps: []*debug.Module{{Path: "golang.org/x/sys", Version: "v0.49.0"}}},
		"no build info": nil,
	} {
		if err := checkGoMLX(bi); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkGemmShared: a short query's products as the engine runs them
// (gemmOne), 36 packed weights (21–85 MB) in turn so that they stream from
// memory, on one core and shared with the crew (a pass running).
func BenchmarkGemmShared(b *testing.B) {
	for _, pass := range []bool{false, true} {
		for _, m := range []int{12, 16, 24} {
			for _, kn := range [][2]int{{384, 384}, {384, 1536}} {
				k, n := kn[0], kn[1]
				b.Run(fmt.Sprintf("pass=%v/m=%d/%dx%d", pass, m, k, n), func(b *testing.B) {
					ws := make([][]float32, 36)
					strip := 0
					src := make([]float32, k*n)
					for j := range src {
						src[j] = float32(j%7) * 0.1
					}
					for i := range ws {
						ws[i] = make([]float32, k*n)
						strip = vec.Pack(ws[i], src, k, n)
					}
					lhs, out := make([]float32, m*k), make([]float32, m*n)
					if pass {
						defer BeginPass()()
					}
					i := 0
					for b.Loop() {
						gemmOne(lhs, ws[i%len(ws)], out, m, n, k, strip)
						i++
					}
				})
			}
		}
	}
}
