//go:build !amd64 || !goexperiment.simd

package embed

// defaultBackendConfig keeps simplego's default DotGeneral paths: without
// GOEXPERIMENT=simd every path runs portable Go at about 2 GFLOPS, and
// packgemm's portable kernel measured no faster (docs/perf.md).
func defaultBackendConfig() string { return "" }
