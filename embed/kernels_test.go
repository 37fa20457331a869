package embed

import (
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/embed/kernels"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// The model's 36 linear-layer weights are packed at load, and released
// with the engine; Info says which kernels run, and is degraded only when
// this CPU could run better ones.
func TestModelWeightsPacked(t *testing.T) {
	before := kernels.PackedWeights()
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.MiniLM)})
	rt, err := e.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.mu.RUnlock()
	// The generic kernels leave large products to packgemm's, which reads
	// weights row-major: nothing is packed for them.
	wantPacked := 36 // 6 layers × Q, K, V, output, FFN in, FFN out
	if vec.Active() == "generic" {
		wantPacked = 0
	}
	if rt.packedWeights != wantPacked {
		t.Fatalf("%d weights packed, want %d", rt.packedWeights, wantPacked)
	}
	info := e.Info()
	want := vec.Active() + " kernels, mnemo GEMM, vectorised executors"
	if !strings.HasPrefix(info.Kernels, want) || (wantPacked > 0) != strings.Contains(info.Kernels, "36 weights packed") {
		t.Fatalf("Info().Kernels = %q, want %q…, %d weights packed", info.Kernels, want, wantPacked)
	}
	if info.KernelsDegraded != (vec.Active() != vec.Best()) {
		t.Fatalf("KernelsDegraded = %v with %s active, %s best", info.KernelsDegraded, vec.Active(), vec.Best())
	}
	if got := kernels.PackedWeights(); got != before+wantPacked {
		t.Fatalf("%d registered, want %d", got, before+wantPacked)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := kernels.PackedWeights(); got != before {
		t.Fatalf("%d registered after Close, want %d", got, before)
	}
}
