// Package fastops replaces the simplego (GoMLX pure-Go backend) executors
// of the ops a BERT forward pass spends its non-matmul time in with
// vectorised AVX-512 ones written in Go with simd/archsimd: softmax, the
// bias-and-GELU step of dense layers, broadcasting element-wise
// arithmetic, trailing-axis sums, transposes, the attention mask's
// broadcast and the embedding lookup. simplego runs these as scalar loops
// on one core (math.Exp and math.Erf in float64, a generic index iterator
// per element): ~1.1 s of an 8 × 256-token pass, ~60 ms with this
// package (docs/perf.md).
//
// Every replacement handles the float32 layouts MiniLM-style models
// produce and hands anything else to the executor it replaced, so the
// results for other graphs are simplego's own. simplego.go says how the
// executors are reached and what guards that. Install is a no-op error on
// builds without GOEXPERIMENT=simd or machines without AVX-512. Split,
// the work splitter, is shared with embed's GEMM.
package fastops
