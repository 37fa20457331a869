//go:build !amd64 || !goexperiment.simd

package embed

// defaultBackendConfig keeps simplego's default DotGeneral paths: without
// GOEXPERIMENT=simd every path runs portable Go at about 2 GFLOPS, and
// packgemm's portable kernel measured no faster (docs/perf.md).
func defaultBackendConfig() string { return "" }

// packWeight is not available: the portable build keeps row-major weights.
func packWeight(w []float32, k, n int) (release func(), ok bool) { return func() {}, false }

func releasePackScratch() {}
