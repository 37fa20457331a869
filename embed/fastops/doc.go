// Package fastops replaces the simplego (GoMLX pure-Go backend) executors
// of the ops a BERT forward pass spends its non-matmul time in with
// vectorised AVX-512 ones written in Go with simd/archsimd: softmax, the
// bias-and-GELU step of dense layers, broadcasting element-wise
// arithmetic and last-axis reductions. simplego runs these as scalar
// float64 loops on one core (math.Exp and math.Erf per element, a
// generic broadcast iterator per element), which was ~55% of an
// 8 × 256-token pass (docs/perf.md).
//
// Every replacement handles the float32 layouts MiniLM-style models
// produce and hands anything else to the executor it replaced, so the
// results for other graphs are simplego's own. Install is a no-op error
// on builds without GOEXPERIMENT=simd or machines without AVX-512.
package fastops
