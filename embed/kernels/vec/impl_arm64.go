package vec

// The arm64 implementation: hand-written Plan 9 NEON (ASIMD, present on
// every arm64 CPU) in *_arm64.s; the files named gemm_arm64*.go and
// elem_arm64*.go fill its kernels in here.
var neon = &impl{
	name:      "neon",
	supported: func() bool { return true },
}

func init() { register(neon) }
