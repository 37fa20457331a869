//go:build amd64 && goexperiment.simd

package embed

import "simd/archsimd"

// defaultBackendConfig enables packgemm, simplego's packed GEMM, for every
// DotGeneral in matmul order (after the graph rewrite: every linear layer
// and both attention products) when its AVX-512 kernel is there: 5–6×
// the blocked path on MiniLM's shapes (docs/perf.md). Without AVX-512 it
// would run its portable kernel, no faster than simplego's default paths.
func defaultBackendConfig() string {
	if archsimd.X86.AVX512() {
		return "packgemm"
	}
	return ""
}
