// NEON (ASIMD) element kernels: max, sum, scale, softmax's exp, GELU and
// the broadcasting arithmetic, four float32 lanes per vector. Every
// function takes n > 0, a multiple of 4 (the wrappers in vec.go do the
// tails in scalar Go with math.go's formulas). Each loop takes 2–4
// vectors per iteration, then single vectors for the rest.
//
// Registers: R0–R5 and V0–V31 only (never R18, reserved on Apple
// platforms, nor R26–R30). All leaf functions without a frame.
//
// Go's arm64 assembler (1.26) has VFMLA, VFMLS, VLD1/VST1, VLD4R, VDUP,
// VMOV, VEOR, VSHL and integer VADD, but none of the floating-point
// vector arithmetic; those are WORD-encoded by the macros below, register
// numbers as arguments (d destination, n and m sources, as in the ARM
// manual). Encodings (ARM DDI 0487, "Advanced SIMD three same" and
// "two-register misc", Q=1 sz=0), checked against binutils'
// aarch64-linux-gnu-as/objdump; every use carries its mnemonic in a
// comment:
//
//	fadd   vd.4s, vn.4s, vm.4s   0x4E20D400 | m<<16 | n<<5 | d
//	fsub   vd.4s, vn.4s, vm.4s   0x4EA0D400 | m<<16 | n<<5 | d
//	fmul   vd.4s, vn.4s, vm.4s   0x6E20DC00 | m<<16 | n<<5 | d
//	fdiv   vd.4s, vn.4s, vm.4s   0x6E20FC00 | m<<16 | n<<5 | d
//	fmax   vd.4s, vn.4s, vm.4s   0x4E20F400 | m<<16 | n<<5 | d
//	fmin   vd.4s, vn.4s, vm.4s   0x4EA0F400 | m<<16 | n<<5 | d
//	faddp  vd.4s, vn.4s, vm.4s   0x6E20D400 | m<<16 | n<<5 | d
//	fmaxv  sd, vn.4s             0x6E30F800 | n<<5 | d
//	faddp  sd, vn.2s             0x7E30D800 | n<<5 | d
//	frintn vd.4s, vn.4s          0x4E218800 | n<<5 | d   (round to nearest, ties to even)
//	fcvtzs vd.4s, vn.4s          0x4EA1B800 | n<<5 | d
//
// Native forms used, in Go's operand order (destination last):
// VFMLA Vm, Vn, Vd is fmla vd, vn, vm (vd += vn·vm); VFMLS likewise
// (vd -= vn·vm); VMOV Vn.B16, Vd.B16 copies vn to vd; VADD Vm, Vn, Vd is
// add vd, vn, vm on integer lanes.

#include "textflag.h"

#define FADD_4S(d, n, m) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FSUB_4S(d, n, m) WORD $(0x4EA0D400 | (m)<<16 | (n)<<5 | (d))
#define FMUL_4S(d, n, m) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
#define FDIV_4S(d, n, m) WORD $(0x6E20FC00 | (m)<<16 | (n)<<5 | (d))
#define FMAX_4S(d, n, m) WORD $(0x4E20F400 | (m)<<16 | (n)<<5 | (d))
#define FMIN_4S(d, n, m) WORD $(0x4EA0F400 | (m)<<16 | (n)<<5 | (d))
#define FADDP_4S(d, n, m) WORD $(0x6E20D400 | (m)<<16 | (n)<<5 | (d))
#define FMAXV_4S(d, n) WORD $(0x6E30F800 | (n)<<5 | (d))
#define FADDP_2S(d, n) WORD $(0x7E30D800 | (n)<<5 | (d))
#define FRINTN_4S(d, n) WORD $(0x4E218800 | (n)<<5 | (d))
#define FCVTZS_4S(d, n) WORD $(0x4EA1B800 | (n)<<5 | (d))

// ---------------------------------------------------------------------
// Reductions: four accumulators V0–V3 over 16 floats per iteration.

// func maxfNEON(x *float32, n int) float32
TEXT ·maxfNEON(SB), NOSPLIT|NOFRAME, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	MOVD $0xff800000, R2 // -Inf
	VDUP R2, V0.S4
	VMOV V0.B16, V1.B16
	VMOV V0.B16, V2.B16
	VMOV V0.B16, V3.B16
	LSR  $4, R1, R3      // blocks of 16
	AND  $15, R1, R1     // rest, a multiple of 4
	CBZ  R3, max4

max16:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FMAX_4S(0, 0, 4)     // fmax v0.4s, v0.4s, v4.4s
	FMAX_4S(1, 1, 5)     // fmax v1.4s, v1.4s, v5.4s
	FMAX_4S(2, 2, 6)     // fmax v2.4s, v2.4s, v6.4s
	FMAX_4S(3, 3, 7)     // fmax v3.4s, v3.4s, v7.4s
	SUBS $1, R3, R3
	BNE  max16

max4:
	CBZ R1, maxdone

max4loop:
	VLD1.P 16(R0), [V4.S4]
	FMAX_4S(0, 0, 4)     // fmax v0.4s, v0.4s, v4.4s
	SUBS $4, R1, R1
	BNE  max4loop

maxdone:
	FMAX_4S(0, 0, 1)     // fmax v0.4s, v0.4s, v1.4s
	FMAX_4S(2, 2, 3)     // fmax v2.4s, v2.4s, v3.4s
	FMAX_4S(0, 0, 2)     // fmax v0.4s, v0.4s, v2.4s
	FMAXV_4S(0, 0)       // fmaxv s0, v0.4s
	FMOVS F0, ret+16(FP)
	RET

// func sumNEON(x *float32, n int) float32
TEXT ·sumNEON(SB), NOSPLIT|NOFRAME, $0-20
	MOVD x+0(FP), R0
	MOVD n+8(FP), R1
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	LSR  $4, R1, R3
	AND  $15, R1, R1
	CBZ  R3, sum4

sum16:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	FADD_4S(0, 0, 4)     // fadd v0.4s, v0.4s, v4.4s
	FADD_4S(1, 1, 5)     // fadd v1.4s, v1.4s, v5.4s
	FADD_4S(2, 2, 6)     // fadd v2.4s, v2.4s, v6.4s
	FADD_4S(3, 3, 7)     // fadd v3.4s, v3.4s, v7.4s
	SUBS $1, R3, R3
	BNE  sum16

sum4:
	CBZ R1, sumdone

sum4loop:
	VLD1.P 16(R0), [V4.S4]
	FADD_4S(0, 0, 4)     // fadd v0.4s, v0.4s, v4.4s
	SUBS $4, R1, R1
	BNE  sum4loop

sumdone:
	FADD_4S(0, 0, 1)     // fadd v0.4s, v0.4s, v1.4s
	FADD_4S(2, 2, 3)     // fadd v2.4s, v2.4s, v3.4s
	FADD_4S(0, 0, 2)     // fadd v0.4s, v0.4s, v2.4s
	FADDP_4S(0, 0, 0)    // faddp v0.4s, v0.4s, v0.4s
	FADDP_2S(0, 0)       // faddp s0, v0.2s
	FMOVS F0, ret+16(FP)
	RET

// func scaleNEON(y *float32, n int, s float32)
TEXT ·scaleNEON(SB), NOSPLIT|NOFRAME, $0-20
	MOVD  y+0(FP), R0
	MOVD  n+8(FP), R1
	MOVWU s+16(FP), R2
	VDUP  R2, V31.S4
	LSR   $4, R1, R3
	AND   $15, R1, R1
	CBZ   R3, scale4

scale16:
	VLD1   (R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	FMUL_4S(0, 0, 31)    // fmul v0.4s, v0.4s, v31.4s
	FMUL_4S(1, 1, 31)    // fmul v1.4s, v1.4s, v31.4s
	FMUL_4S(2, 2, 31)    // fmul v2.4s, v2.4s, v31.4s
	FMUL_4S(3, 3, 31)    // fmul v3.4s, v3.4s, v31.4s
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R0)
	SUBS   $1, R3, R3
	BNE    scale16

scale4:
	CBZ R1, scaledone

scale4loop:
	VLD1   (R0), [V0.S4]
	FMUL_4S(0, 0, 31)    // fmul v0.4s, v0.4s, v31.4s
	VST1.P [V0.S4], 16(R0)
	SUBS   $4, R1, R1
	BNE    scale4loop

scaledone:
	RET

// ---------------------------------------------------------------------
// expSub: y = exp(x - m), Σ y. Cephes expf as math.go's Exp: clamp to
// [ExpLo, ExpHi], n = roundeven(x·log2e), r = x - n·ln2hi - n·ln2lo,
// e^r = ((P0·r + P1)·r + … + P5)·r·r + r + 1, times 2^n built as the
// bits (n + 127) << 23. That needs n ≥ -126 (ExpLo·log2e rounds to -126)
// and n ≤ 127: the kernel is only called with x - m ≤ 0, so n ≤ 0.
//
// Constants (expTab): V16 ExpLo, V17 ExpHi, V18 log2e, V19 ln2hi,
// V20 ln2lo, V21–V26 P0–P5, V27 1.0 (whose bits are 127<<23); V31 m.
// Vector A: x V0, result V2, n V4, t V5; vector B: x V1, result V3,
// n V6, t V7. Sums in V8 (A) and V9 (B).

#define EXP_A \
	FSUB_4S(0, 0, 31)          /* fsub v0.4s, v0.4s, v31.4s: x - m */ \
	FMAX_4S(0, 0, 16)          /* fmax v0.4s, v0.4s, v16.4s: ≥ ExpLo */ \
	FMIN_4S(0, 0, 17)          /* fmin v0.4s, v0.4s, v17.4s: ≤ ExpHi */ \
	FMUL_4S(4, 0, 18)          /* fmul v4.4s, v0.4s, v18.4s: x·log2e */ \
	FRINTN_4S(4, 4)            /* frintn v4.4s, v4.4s: n */ \
	VFMLS V19.S4, V4.S4, V0.S4 /* r = x - n·ln2hi */ \
	VFMLS V20.S4, V4.S4, V0.S4 /* r -= n·ln2lo */ \
	VMOV  V22.B16, V2.B16      /* y = P1 */ \
	VFMLA V21.S4, V0.S4, V2.S4 /* y += P0·r */ \
	VMOV  V23.B16, V5.B16      /* t = P2 */ \
	VFMLA V2.S4, V0.S4, V5.S4  /* t += y·r */ \
	VMOV  V24.B16, V2.B16      /* y = P3 */ \
	VFMLA V5.S4, V0.S4, V2.S4  /* y += t·r */ \
	VMOV  V25.B16, V5.B16      /* t = P4 */ \
	VFMLA V2.S4, V0.S4, V5.S4  /* t += y·r */ \
	VMOV  V26.B16, V2.B16      /* y = P5 */ \
	VFMLA V5.S4, V0.S4, V2.S4  /* y += t·r */ \
	FMUL_4S(5, 2, 0)           /* fmul v5.4s, v2.4s, v0.4s: t = y·r */ \
	VFMLA V5.S4, V0.S4, V0.S4  /* r += t·r */ \
	FADD_4S(2, 0, 27)          /* fadd v2.4s, v0.4s, v27.4s: y = r + 1 */ \
	FCVTZS_4S(4, 4)            /* fcvtzs v4.4s, v4.4s: n as int32 (exact) */ \
	VSHL  $23, V4.S4, V4.S4    /* n << 23 */ \
	VADD  V27.S4, V4.S4, V4.S4 /* + 127<<23: the bits of 2^n */ \
	FMUL_4S(2, 2, 4)           /* fmul v2.4s, v2.4s, v4.4s: y·2^n */

#define EXP_B \
	FSUB_4S(1, 1, 31)          /* fsub v1.4s, v1.4s, v31.4s */ \
	FMAX_4S(1, 1, 16)          /* fmax v1.4s, v1.4s, v16.4s */ \
	FMIN_4S(1, 1, 17)          /* fmin v1.4s, v1.4s, v17.4s */ \
	FMUL_4S(6, 1, 18)          /* fmul v6.4s, v1.4s, v18.4s */ \
	FRINTN_4S(6, 6)            /* frintn v6.4s, v6.4s */ \
	VFMLS V19.S4, V6.S4, V1.S4 \
	VFMLS V20.S4, V6.S4, V1.S4 \
	VMOV  V22.B16, V3.B16      \
	VFMLA V21.S4, V1.S4, V3.S4 \
	VMOV  V23.B16, V7.B16      \
	VFMLA V3.S4, V1.S4, V7.S4  \
	VMOV  V24.B16, V3.B16      \
	VFMLA V7.S4, V1.S4, V3.S4  \
	VMOV  V25.B16, V7.B16      \
	VFMLA V3.S4, V1.S4, V7.S4  \
	VMOV  V26.B16, V3.B16      \
	VFMLA V7.S4, V1.S4, V3.S4  \
	FMUL_4S(7, 3, 1)           /* fmul v7.4s, v3.4s, v1.4s */ \
	VFMLA V7.S4, V1.S4, V1.S4  \
	FADD_4S(3, 1, 27)          /* fadd v3.4s, v1.4s, v27.4s */ \
	FCVTZS_4S(6, 6)            /* fcvtzs v6.4s, v6.4s */ \
	VSHL  $23, V6.S4, V6.S4    \
	VADD  V27.S4, V6.S4, V6.S4 \
	FMUL_4S(3, 3, 6)           /* fmul v3.4s, v3.4s, v6.4s */

// func expSubNEON(x, y *float32, n int, m float32) float32
TEXT ·expSubNEON(SB), NOSPLIT|NOFRAME, $0-36
	MOVD  x+0(FP), R0
	MOVD  y+8(FP), R1
	MOVD  n+16(FP), R2
	MOVWU m+24(FP), R3
	VDUP  R3, V31.S4
	MOVD  $·expTab(SB), R5
	VLD4R.P 16(R5), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD4R.P 16(R5), [V20.S4, V21.S4, V22.S4, V23.S4]
	VLD4R   (R5), [V24.S4, V25.S4, V26.S4, V27.S4]
	VEOR  V8.B16, V8.B16, V8.B16
	VEOR  V9.B16, V9.B16, V9.B16
	LSR   $3, R2, R4     // pairs of vectors
	AND   $4, R2, R2     // 4 when one vector is left over
	CBZ   R4, exp1

exp2:
	VLD1.P 32(R0), [V0.S4, V1.S4]
	EXP_A
	EXP_B
	VST1.P [V2.S4, V3.S4], 32(R1)
	FADD_4S(8, 8, 2)     // fadd v8.4s, v8.4s, v2.4s
	FADD_4S(9, 9, 3)     // fadd v9.4s, v9.4s, v3.4s
	SUBS   $1, R4, R4
	BNE    exp2

exp1:
	CBZ R2, expdone
	VLD1.P 16(R0), [V0.S4]
	EXP_A
	VST1.P [V2.S4], 16(R1)
	FADD_4S(8, 8, 2)     // fadd v8.4s, v8.4s, v2.4s

expdone:
	FADD_4S(8, 8, 9)     // fadd v8.4s, v8.4s, v9.4s
	FADDP_4S(8, 8, 8)    // faddp v8.4s, v8.4s, v8.4s
	FADDP_2S(8, 8)       // faddp s8, v8.2s
	FMOVS F8, ret+32(FP)
	RET

// ---------------------------------------------------------------------
// GELU: x·½·(1 + erf(x/√2)) computed as h + h·erf with h = x·½; erf as
// math.go's Erf: z clamped to [-4, 4], z·P(z²)/Q(z²) by Horner.
//
// Constants (geluTab): V16 1/√2, V17 -4, V18 4, V19–V25 α0–α6,
// V26–V30 β0–β4, V31 ½. Vector A: x V0, z V2, z² V3, p V4/V5 (alternating),
// q V6/V7; vector B: x V1, z V8, z² V9, p V10/V11, q V12/V13. The result
// replaces x. V14, V15: bias.

#define GELU_A \
	FMUL_4S(2, 0, 16)          /* fmul v2.4s, v0.4s, v16.4s: z = x/√2 */ \
	FMAX_4S(2, 2, 17)          /* fmax v2.4s, v2.4s, v17.4s: ≥ -4 */ \
	FMIN_4S(2, 2, 18)          /* fmin v2.4s, v2.4s, v18.4s: ≤ 4 */ \
	FMUL_4S(3, 2, 2)           /* fmul v3.4s, v2.4s, v2.4s: z² */ \
	VMOV  V20.B16, V4.B16      /* p = α1 */ \
	VFMLA V19.S4, V3.S4, V4.S4 /* p += α0·z² */ \
	VMOV  V27.B16, V6.B16      /* q = β1 */ \
	VFMLA V26.S4, V3.S4, V6.S4 /* q += β0·z² */ \
	VMOV  V21.B16, V5.B16      /* p' = α2 */ \
	VFMLA V4.S4, V3.S4, V5.S4  /* p' += p·z² */ \
	VMOV  V28.B16, V7.B16      /* q' = β2 */ \
	VFMLA V6.S4, V3.S4, V7.S4  /* q' += q·z² */ \
	VMOV  V22.B16, V4.B16      /* p = α3 */ \
	VFMLA V5.S4, V3.S4, V4.S4  /* p += p'·z² */ \
	VMOV  V29.B16, V6.B16      /* q = β3 */ \
	VFMLA V7.S4, V3.S4, V6.S4  /* q += q'·z² */ \
	VMOV  V23.B16, V5.B16      /* p' = α4 */ \
	VFMLA V4.S4, V3.S4, V5.S4  /* p' += p·z² */ \
	VMOV  V30.B16, V7.B16      /* q' = β4 */ \
	VFMLA V6.S4, V3.S4, V7.S4  /* q' += q·z²: Q(z²) */ \
	VMOV  V24.B16, V4.B16      /* p = α5 */ \
	VFMLA V5.S4, V3.S4, V4.S4  /* p += p'·z² */ \
	VMOV  V25.B16, V5.B16      /* p' = α6 */ \
	VFMLA V4.S4, V3.S4, V5.S4  /* p' += p·z²: P(z²) */ \
	FMUL_4S(5, 5, 2)           /* fmul v5.4s, v5.4s, v2.4s: z·P */ \
	FDIV_4S(5, 5, 7)           /* fdiv v5.4s, v5.4s, v7.4s: erf = z·P/Q */ \
	FMUL_4S(0, 0, 31)          /* fmul v0.4s, v0.4s, v31.4s: h = x·½ */ \
	VFMLA V5.S4, V0.S4, V0.S4  /* h += h·erf */

#define GELU_B \
	FMUL_4S(8, 1, 16)          /* fmul v8.4s, v1.4s, v16.4s */ \
	FMAX_4S(8, 8, 17)          /* fmax v8.4s, v8.4s, v17.4s */ \
	FMIN_4S(8, 8, 18)          /* fmin v8.4s, v8.4s, v18.4s */ \
	FMUL_4S(9, 8, 8)           /* fmul v9.4s, v8.4s, v8.4s */ \
	VMOV  V20.B16, V10.B16     \
	VFMLA V19.S4, V9.S4, V10.S4 \
	VMOV  V27.B16, V12.B16     \
	VFMLA V26.S4, V9.S4, V12.S4 \
	VMOV  V21.B16, V11.B16     \
	VFMLA V10.S4, V9.S4, V11.S4 \
	VMOV  V28.B16, V13.B16     \
	VFMLA V12.S4, V9.S4, V13.S4 \
	VMOV  V22.B16, V10.B16     \
	VFMLA V11.S4, V9.S4, V10.S4 \
	VMOV  V29.B16, V12.B16     \
	VFMLA V13.S4, V9.S4, V12.S4 \
	VMOV  V23.B16, V11.B16     \
	VFMLA V10.S4, V9.S4, V11.S4 \
	VMOV  V30.B16, V13.B16     \
	VFMLA V12.S4, V9.S4, V13.S4 \
	VMOV  V24.B16, V10.B16     \
	VFMLA V11.S4, V9.S4, V10.S4 \
	VMOV  V25.B16, V11.B16     \
	VFMLA V10.S4, V9.S4, V11.S4 \
	FMUL_4S(11, 11, 8)         /* fmul v11.4s, v11.4s, v8.4s */ \
	FDIV_4S(11, 11, 13)        /* fdiv v11.4s, v11.4s, v13.4s */ \
	FMUL_4S(1, 1, 31)          /* fmul v1.4s, v1.4s, v31.4s */ \
	VFMLA V11.S4, V1.S4, V1.S4

#define GELU_CONSTS(tab) \
	MOVD $tab(SB), R5 \
	VLD4R.P 16(R5), [V16.S4, V17.S4, V18.S4, V19.S4] \
	VLD4R.P 16(R5), [V20.S4, V21.S4, V22.S4, V23.S4] \
	VLD4R.P 16(R5), [V24.S4, V25.S4, V26.S4, V27.S4] \
	VLD4R   (R5), [V28.S4, V29.S4, V30.S4, V31.S4]

// func geluNEON(x, y *float32, n int)
TEXT ·geluNEON(SB), NOSPLIT|NOFRAME, $0-24
	MOVD x+0(FP), R0
	MOVD y+8(FP), R1
	MOVD n+16(FP), R2
	GELU_CONSTS(·geluTab)
	LSR  $3, R2, R4
	AND  $4, R2, R2
	CBZ  R4, gelu1

gelu2:
	VLD1.P 32(R0), [V0.S4, V1.S4]
	GELU_A
	GELU_B
	VST1.P [V0.S4, V1.S4], 32(R1)
	SUBS   $1, R4, R4
	BNE    gelu2

gelu1:
	CBZ R2, geludone
	VLD1.P 16(R0), [V0.S4]
	GELU_A
	VST1.P [V0.S4], 16(R1)

geludone:
	RET

// func biasGeluNEON(x, b, y *float32, n int)
TEXT ·biasGeluNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD x+0(FP), R0
	MOVD b+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	GELU_CONSTS(·geluTab)
	LSR  $3, R3, R4
	AND  $4, R3, R3
	CBZ  R4, bgelu1

bgelu2:
	VLD1.P 32(R0), [V0.S4, V1.S4]
	VLD1.P 32(R1), [V14.S4, V15.S4]
	FADD_4S(0, 0, 14)    // fadd v0.4s, v0.4s, v14.4s
	FADD_4S(1, 1, 15)    // fadd v1.4s, v1.4s, v15.4s
	GELU_A
	GELU_B
	VST1.P [V0.S4, V1.S4], 32(R2)
	SUBS   $1, R4, R4
	BNE    bgelu2

bgelu1:
	CBZ R3, bgeludone
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R1), [V14.S4]
	FADD_4S(0, 0, 14)    // fadd v0.4s, v0.4s, v14.4s
	GELU_A
	VST1.P [V0.S4], 16(R2)

bgeludone:
	RET

// ---------------------------------------------------------------------
// Broadcasting arithmetic, one IEEE operation per element (bit-identical
// to Go's float32 +, -, ·, /; NEON on arm64 honours FPCR like the scalar
// unit, so subnormals are not flushed). OP is one of FADD_4S, FSUB_4S,
// FMUL_4S, FDIV_4S, expanding to e.g. "fadd v0.4s, v0.4s, v4.4s".
// Operands: a (or the scalar) R0, c R1, y R2, n R3; vector operands in
// V0–V3 and V4–V7, the scalar in V31. 16 floats per iteration, then 4.

#define BIN_VV(OP) \
	LSR  $4, R3, R4 \
	AND  $15, R3, R3 \
	CBZ  R4, vv4 \
vv16: \
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4] \
	VLD1.P 64(R1), [V4.S4, V5.S4, V6.S4, V7.S4] \
	OP(0, 0, 4)                /* op v0.4s, v0.4s, v4.4s */ \
	OP(1, 1, 5)                /* op v1.4s, v1.4s, v5.4s */ \
	OP(2, 2, 6)                /* op v2.4s, v2.4s, v6.4s */ \
	OP(3, 3, 7)                /* op v3.4s, v3.4s, v7.4s */ \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R2) \
	SUBS $1, R4, R4 \
	BNE  vv16 \
vv4: \
	CBZ  R3, vvdone \
vv4loop: \
	VLD1.P 16(R0), [V0.S4] \
	VLD1.P 16(R1), [V4.S4] \
	OP(0, 0, 4)                /* op v0.4s, v0.4s, v4.4s */ \
	VST1.P [V0.S4], 16(R2) \
	SUBS $4, R3, R3 \
	BNE  vv4loop \
vvdone:

// a op s: the vector from R0, the scalar in V31.
#define BIN_VS(OP) \
	VDUP R1, V31.S4 \
	LSR  $4, R3, R4 \
	AND  $15, R3, R3 \
	CBZ  R4, vs4 \
vs16: \
	VLD1.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4] \
	OP(0, 0, 31)               /* op v0.4s, v0.4s, v31.4s */ \
	OP(1, 1, 31)               /* op v1.4s, v1.4s, v31.4s */ \
	OP(2, 2, 31)               /* op v2.4s, v2.4s, v31.4s */ \
	OP(3, 3, 31)               /* op v3.4s, v3.4s, v31.4s */ \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R2) \
	SUBS $1, R4, R4 \
	BNE  vs16 \
vs4: \
	CBZ  R3, vsdone \
vs4loop: \
	VLD1.P 16(R0), [V0.S4] \
	OP(0, 0, 31)               /* op v0.4s, v0.4s, v31.4s */ \
	VST1.P [V0.S4], 16(R2) \
	SUBS $4, R3, R3 \
	BNE  vs4loop \
vsdone:

// s op c: the scalar in V31, the vector from R1.
#define BIN_SV(OP) \
	VDUP R0, V31.S4 \
	LSR  $4, R3, R4 \
	AND  $15, R3, R3 \
	CBZ  R4, sv4 \
sv16: \
	VLD1.P 64(R1), [V0.S4, V1.S4, V2.S4, V3.S4] \
	OP(0, 31, 0)               /* op v0.4s, v31.4s, v0.4s */ \
	OP(1, 31, 1)               /* op v1.4s, v31.4s, v1.4s */ \
	OP(2, 31, 2)               /* op v2.4s, v31.4s, v2.4s */ \
	OP(3, 31, 3)               /* op v3.4s, v31.4s, v3.4s */ \
	VST1.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R2) \
	SUBS $1, R4, R4 \
	BNE  sv16 \
sv4: \
	CBZ  R3, svdone \
sv4loop: \
	VLD1.P 16(R1), [V0.S4] \
	OP(0, 31, 0)               /* op v0.4s, v31.4s, v0.4s */ \
	VST1.P [V0.S4], 16(R2) \
	SUBS $4, R3, R3 \
	BNE  sv4loop \
svdone:

// func addVVNEON(a, c, y *float32, n int)
TEXT ·addVVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD a+0(FP), R0
	MOVD c+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	BIN_VV(FADD_4S)
	RET

// func subVVNEON(a, c, y *float32, n int)
TEXT ·subVVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD a+0(FP), R0
	MOVD c+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	BIN_VV(FSUB_4S)
	RET

// func mulVVNEON(a, c, y *float32, n int)
TEXT ·mulVVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD a+0(FP), R0
	MOVD c+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	BIN_VV(FMUL_4S)
	RET

// func divVVNEON(a, c, y *float32, n int)
TEXT ·divVVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD a+0(FP), R0
	MOVD c+8(FP), R1
	MOVD y+16(FP), R2
	MOVD n+24(FP), R3
	BIN_VV(FDIV_4S)
	RET

// func addVSNEON(a *float32, s float32, y *float32, n int)
TEXT ·addVSNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD  a+0(FP), R0
	MOVWU s+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_VS(FADD_4S)
	RET

// func subVSNEON(a *float32, s float32, y *float32, n int)
TEXT ·subVSNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD  a+0(FP), R0
	MOVWU s+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_VS(FSUB_4S)
	RET

// func mulVSNEON(a *float32, s float32, y *float32, n int)
TEXT ·mulVSNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD  a+0(FP), R0
	MOVWU s+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_VS(FMUL_4S)
	RET

// func divVSNEON(a *float32, s float32, y *float32, n int)
TEXT ·divVSNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVD  a+0(FP), R0
	MOVWU s+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_VS(FDIV_4S)
	RET

// func addSVNEON(s float32, c, y *float32, n int)
TEXT ·addSVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVWU s+0(FP), R0
	MOVD  c+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_SV(FADD_4S)
	RET

// func subSVNEON(s float32, c, y *float32, n int)
TEXT ·subSVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVWU s+0(FP), R0
	MOVD  c+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_SV(FSUB_4S)
	RET

// func mulSVNEON(s float32, c, y *float32, n int)
TEXT ·mulSVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVWU s+0(FP), R0
	MOVD  c+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_SV(FMUL_4S)
	RET

// func divSVNEON(s float32, c, y *float32, n int)
TEXT ·divSVNEON(SB), NOSPLIT|NOFRAME, $0-32
	MOVWU s+0(FP), R0
	MOVD  c+8(FP), R1
	MOVD  y+16(FP), R2
	MOVD  n+24(FP), R3
	BIN_SV(FDIV_4S)
	RET
