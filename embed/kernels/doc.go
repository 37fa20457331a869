// Package kernels is the one place in mnemo that touches GoMLX's
// internals. It plugs mnemo's compute kernels (package vec: AVX-512,
// AVX2+FMA and arm64 NEON assembly, plain Go elsewhere) into simplego, the
// GoMLX pure-Go backend hugot runs on:
//
//   - a GEMM registered with simplego's packgemm ahead of its own kernels
//     (gemm.go), which also reads weights packed at load (PackWeight);
//   - executors in place of simplego's for the ops a BERT forward pass
//     spends its non-matmul time in: softmax, the bias-and-GELU step of
//     dense layers, broadcasting element-wise arithmetic, trailing-axis
//     sums, transposes, the attention mask's broadcast and the embedding
//     lookup. simplego runs these as scalar loops on one core (math.Exp
//     and math.Erf in float64, a generic index iterator per element).
//
// Nothing happens until the engine calls Install, which first checks that
// this binary's GoMLX is the version the internals were verified against
// (VerifiedGoMLX) and reports exactly what it put in place. Every
// replacement handles the float32 layouts MiniLM-style models produce and
// hands anything else to the executor it replaced, so the results for
// other graphs are simplego's own. simplego.go says how the executors are
// reached. Split, the work splitter, is shared by the GEMM and the
// executors.
package kernels
