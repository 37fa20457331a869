//go:build amd64 && goexperiment.simd

package embed

import "simd/archsimd"

// defaultBackendConfig enables packgemm, simplego's packed GEMM, for every
// DotGeneral in matmul order (after the graph rewrite: every linear layer
// and both attention products) when its AVX-512 kernel is there: 5–6×
// the blocked path on MiniLM's shapes (docs/perf.md). Without AVX-512 it
// would run its portable kernel, no faster than simplego's default paths.
//
// ops_sequential: simplego otherwise runs each op of the graph on a new
// goroutine, whose stack then grows on every product (~9% of a query's
// CPU in runtime.newstack) and which is woken through a futex. A BERT
// pass is a chain of ops, and the executors mnemo installs
// (embed/fastops) and its GEMM split their own work over the cores, so
// running ops one after another in the caller's goroutine costs nothing
// and a 12-token query takes 5.2 instead of 6.8 ms (docs/perf.md).
func defaultBackendConfig() string {
	if archsimd.X86.AVX512() {
		return "packgemm,ops_sequential"
	}
	return ""
}
