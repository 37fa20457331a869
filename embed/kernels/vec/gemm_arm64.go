package vec

// gemmNEON is the neon GEMM kernel (gemm_arm64.s): 6×16, 4×16 and 1×16
// register tiles for full strips, 4-column groups and a partial vector
// for narrower ones. Same contract as impl.gemm with w ≤ 16; it does not
// accumulate (neon.kchunk is 0) and takes no prefetch hints.
//
//go:noescape
func gemmNEON(l, r, o *float32, m, k, w, ldl, ldr, ldo, acc, pfn, pfs int)

func init() {
	neon.stripW = 16
	neon.gemm = gemmNEON
}
