//go:build !amd64 || !goexperiment.simd

package embed

import (
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"golang.org/x/sys/cpu"
)

// The portable build says so, and calls itself degraded exactly when the
// CPU could have run the AVX-512 build.
func TestKernelsPortable(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny)})
	info := e.Info()
	if !strings.HasPrefix(info.Kernels, "portable") || info.KernelsDegraded != cpu.X86.HasAVX512F {
		t.Fatalf("Info().Kernels = %q (degraded %v), CPU AVX-512 %v", info.Kernels, info.KernelsDegraded, cpu.X86.HasAVX512F)
	}
}
