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
	if rt.packedWeights != 36 {
		t.Fatalf("%d weights packed, want 36 (6 layers × Q, K, V, output, FFN in, FFN out)", rt.packedWeights)
	}
	info := e.Info()
	want := vec.Active() + " kernels, mnemo GEMM, vectorised executors"
	if !strings.HasPrefix(info.Kernels, want) || !strings.Contains(info.Kernels, "36 weights packed") {
		t.Fatalf("Info().Kernels = %q, want %q…, 36 weights packed", info.Kernels, want)
	}
	if info.KernelsDegraded != (vec.Active() != vec.Best()) {
		t.Fatalf("KernelsDegraded = %v with %s active, %s best", info.KernelsDegraded, vec.Active(), vec.Best())
	}
	if got := kernels.PackedWeights(); got != before+36 {
		t.Fatalf("%d registered, want %d", got, before+36)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if got := kernels.PackedWeights(); got != before {
		t.Fatalf("%d registered after Close, want %d", got, before)
	}
}
