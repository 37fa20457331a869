// The neon GEMM kernel: hand-written Plan 9 arm64 assembly (ASIMD).
//
// func gemmNEON(l, r, o *float32, m, k, w, ldl, ldr, ldo, acc, pfn, pfs int): acc, pfn and pfs are not read
//
// o[i·ldo+j] = Σ_p l[i·ldl+p] · r[p·ldr+j] for i < m, j < w (overwriting
// o); m ≥ 1, k ≥ 1, 1 ≤ w ≤ 16; strides in elements. Nothing outside
// those rows and columns of l, r and o is read or written.
//
// Full strips (w = 16) run a 6-row × 16-column tile (24 accumulators,
// V8–V31), then a 4-row tile (16 accumulators, V16–V31), then single
// rows. The k loop is unrolled by 4: each lhs row gives one 4-float
// vector of four consecutive k's, and FMLA by element multiplies a row
// of weights by one of its lanes, so the lhs needs no broadcasts. A k
// tail (k % 4) loads one lhs float per row (FMOVS zeroes the other lanes)
// and uses lane 0.
//
// Narrow strips (w < 16) run column groups of 4 (one vector per row),
// then the last w % 4 columns as a partial vector: its lanes are loaded
// and stored one float at a time at byte offsets 0, o1 and o2, where
// o2 = 4·(w%4 − 1) and o1 = min(4, o2). Unused lanes read and write a
// valid column again; lanes are stored highest first, so the right value
// lands last. Column groups run 4-row and 1-row tiles.
//
// Registers: R0 l, R1 r, R2 o, R3 m, R6 ldl, R7 ldr, R8 ldo (bytes),
// R19 k/4, R20 k%4, R21 lhs tile, R22 output tile, R23 rows left, R9–R12
// R24 R25 lhs rows, R13 R14 weights, R15 k counter. R16–R18 and R26–R30
// are not used (R18 is the platform register on darwin).
//
// Go's assembler has no by-element FMLA nor vector FADD: they are WORD
// encoded below.

#include "textflag.h"

// FMLAE(d, n, m, i): FMLA Vd.4S, Vn.4S, Vm.S[i] (by element, single
// precision, 128-bit): Vd += Vn · Vm[i]. 0 Q=1 U=0 01111 1 sz=0 L M:Rm
// 0001 H 0 Rn Rd, index i = H:L.
#define FMLAE(d, n, m, i) WORD $(0x4F801000 | (((i)&1)<<21) | ((m)<<16) | (((i)>>1)<<11) | ((n)<<5) | (d))

// FADDV(d, n, m): FADD Vd.4S, Vn.4S, Vm.4S.
#define FADDV(d, n, m) WORD $(0x4E20D400 | ((m)<<16) | ((n)<<5) | (d))

#define ZERO(v) VEOR v.B16, v.B16, v.B16

// One k step of the 6×16 tile, lhs lane i: weights of columns 0–7 into
// V6, V7 (through R13), 12 FMLA, then columns 8–15 (through R14), 12
// FMLA. Row q, column vector c accumulates in V(8+4q+c).
#define K6(i) \
	VLD1.P (R13)(R7), [V6.S4, V7.S4]; \
	FMLAE(8, 6, 0, i); FMLAE(9, 7, 0, i); \
	FMLAE(12, 6, 1, i); FMLAE(13, 7, 1, i); \
	FMLAE(16, 6, 2, i); FMLAE(17, 7, 2, i); \
	FMLAE(20, 6, 3, i); FMLAE(21, 7, 3, i); \
	FMLAE(24, 6, 4, i); FMLAE(25, 7, 4, i); \
	FMLAE(28, 6, 5, i); FMLAE(29, 7, 5, i); \
	VLD1.P (R14)(R7), [V6.S4, V7.S4]; \
	FMLAE(10, 6, 0, i); FMLAE(11, 7, 0, i); \
	FMLAE(14, 6, 1, i); FMLAE(15, 7, 1, i); \
	FMLAE(18, 6, 2, i); FMLAE(19, 7, 2, i); \
	FMLAE(22, 6, 3, i); FMLAE(23, 7, 3, i); \
	FMLAE(26, 6, 4, i); FMLAE(27, 7, 4, i); \
	FMLAE(30, 6, 5, i); FMLAE(31, 7, 5, i)

// One k step of the 4×16 tile, lhs lane i: the 16 weights in V4–V7, row
// q, column vector c in V(16+4q+c).
#define K4(i) \
	VLD1.P (R13)(R7), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	FMLAE(16, 4, 0, i); FMLAE(17, 5, 0, i); FMLAE(18, 6, 0, i); FMLAE(19, 7, 0, i); \
	FMLAE(20, 4, 1, i); FMLAE(21, 5, 1, i); FMLAE(22, 6, 1, i); FMLAE(23, 7, 1, i); \
	FMLAE(24, 4, 2, i); FMLAE(25, 5, 2, i); FMLAE(26, 6, 2, i); FMLAE(27, 7, 2, i); \
	FMLAE(28, 4, 3, i); FMLAE(29, 5, 3, i); FMLAE(30, 6, 3, i); FMLAE(31, 7, 3, i)

// One k step of the 1×16 tile, lhs lane i of V0, accumulating in
// V(a)–V(a+3) (two sets alternate, for more independent chains).
#define K1(i, a) \
	VLD1.P (R13)(R7), [V4.S4, V5.S4, V6.S4, V7.S4]; \
	FMLAE(a, 4, 0, i); FMLAE(a+1, 5, 0, i); FMLAE(a+2, 6, 0, i); FMLAE(a+3, 7, 0, i)

// One k step of a 4-row × 4-column group, lhs lane i of V0–V3, weights
// in Vw (number w), row q in V(a+q).
#define KG4(i, Vw, w, a) \
	VLD1.P (R13)(R7), [Vw.S4]; \
	FMLAE(a, w, 0, i); FMLAE(a+1, w, 1, i); FMLAE(a+2, w, 2, i); FMLAE(a+3, w, 3, i)

// Partial weight vector (w%4 columns) into Fw/Vw through R13 at lane
// offsets 0, R4 (o1), R14 (o2); R5 scratch. FMOVS zeroes lanes 1–3.
#define LOADP(Fw, Vw) \
	FMOVS (R13), Fw; \
	MOVWU (R13)(R4), R5; \
	VMOV R5, Vw.S[1]; \
	MOVWU (R13)(R14), R5; \
	VMOV R5, Vw.S[2]; \
	ADD R7, R13

// Store the valid lanes of Vacc/Facc at R9 (lanes 2, 1, 0 in that order),
// then step R9 to the next output row.
#define STOREP(Facc, Vacc) \
	VMOV Vacc.S[2], R5; \
	MOVW R5, (R9)(R14); \
	VMOV Vacc.S[1], R5; \
	MOVW R5, (R9)(R4); \
	FMOVS Facc, (R9); \
	ADD R8, R9

// One k step of a 4-row partial group, lhs lane i of V0–V3.
#define KP4(i, Fw, Vw, w, a) \
	LOADP(Fw, Vw); \
	FMLAE(a, w, 0, i); FMLAE(a+1, w, 1, i); FMLAE(a+2, w, 2, i); FMLAE(a+3, w, 3, i)

// Four lhs rows' next 4 k's into V0–V3; their next single k into F0–F3.
#define LHS4 \
	VLD1.P 16(R9), [V0.S4]; \
	VLD1.P 16(R10), [V1.S4]; \
	VLD1.P 16(R11), [V2.S4]; \
	VLD1.P 16(R12), [V3.S4]

#define LHS4T \
	FMOVS.P 4(R9), F0; \
	FMOVS.P 4(R10), F1; \
	FMOVS.P 4(R11), F2; \
	FMOVS.P 4(R12), F3

// R9–R12: the four lhs rows from R21.
#define ROWS4 \
	MOVD R21, R9; \
	ADD R6, R9, R10; \
	ADD R6, R10, R11; \
	ADD R6, R11, R12

// func gemmNEON(l, r, o *float32, m, k, w, ldl, ldr, ldo, acc, pfn, pfs int): acc, pfn and pfs are not read
TEXT ·gemmNEON(SB), NOSPLIT, $0-96
	MOVD l+0(FP), R0
	MOVD r+8(FP), R1
	MOVD o+16(FP), R2
	MOVD m+24(FP), R3
	MOVD k+32(FP), R4
	MOVD w+40(FP), R5
	MOVD ldl+48(FP), R6
	MOVD ldr+56(FP), R7
	MOVD ldo+64(FP), R8
	LSL  $2, R6, R6
	LSL  $2, R7, R7
	LSL  $2, R8, R8
	LSR  $2, R4, R19
	AND  $3, R4, R20
	MOVD R0, R21
	MOVD R2, R22
	MOVD R3, R23
	CMP  $16, R5
	BNE  narrow

	// ---- Full strips: 6-row tiles.
rows6:
	CMP  $6, R23
	BLT  rows4
	ROWS4
	ADD  R6, R12, R24
	ADD  R6, R24, R25
	MOVD R1, R13
	ADD  $32, R1, R14
	ZERO(V8); ZERO(V9); ZERO(V10); ZERO(V11)
	ZERO(V12); ZERO(V13); ZERO(V14); ZERO(V15)
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	ZERO(V20); ZERO(V21); ZERO(V22); ZERO(V23)
	ZERO(V24); ZERO(V25); ZERO(V26); ZERO(V27)
	ZERO(V28); ZERO(V29); ZERO(V30); ZERO(V31)
	MOVD R19, R15
	CBZ  R15, tail6

loop6:
	LHS4
	VLD1.P 16(R24), [V4.S4]
	VLD1.P 16(R25), [V5.S4]
	K6(0)
	K6(1)
	K6(2)
	K6(3)
	SUB  $1, R15
	CBNZ R15, loop6

tail6:
	MOVD R20, R15
	CBZ  R15, store6

looptail6:
	LHS4T
	FMOVS.P 4(R24), F4
	FMOVS.P 4(R25), F5
	K6(0)
	SUB  $1, R15
	CBNZ R15, looptail6

store6:
	MOVD R22, R9
	VST1.P [V8.S4, V9.S4, V10.S4, V11.S4], (R9)(R8)
	VST1.P [V12.S4, V13.S4, V14.S4, V15.S4], (R9)(R8)
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], (R9)(R8)
	VST1.P [V20.S4, V21.S4, V22.S4, V23.S4], (R9)(R8)
	VST1.P [V24.S4, V25.S4, V26.S4, V27.S4], (R9)(R8)
	VST1.P [V28.S4, V29.S4, V30.S4, V31.S4], (R9)(R8)
	ADD  R6<<2, R21, R21
	ADD  R6<<1, R21, R21
	MOVD R9, R22
	SUB  $6, R23
	B    rows6

	// ---- Full strips: one 4-row tile (fewer than 6 rows left).
rows4:
	CMP  $4, R23
	BLT  rows1
	ROWS4
	MOVD R1, R13
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	ZERO(V20); ZERO(V21); ZERO(V22); ZERO(V23)
	ZERO(V24); ZERO(V25); ZERO(V26); ZERO(V27)
	ZERO(V28); ZERO(V29); ZERO(V30); ZERO(V31)
	MOVD R19, R15
	CBZ  R15, tail4

loop4:
	LHS4
	K4(0)
	K4(1)
	K4(2)
	K4(3)
	SUB  $1, R15
	CBNZ R15, loop4

tail4:
	MOVD R20, R15
	CBZ  R15, store4

looptail4:
	LHS4T
	K4(0)
	SUB  $1, R15
	CBNZ R15, looptail4

store4:
	MOVD R22, R9
	VST1.P [V16.S4, V17.S4, V18.S4, V19.S4], (R9)(R8)
	VST1.P [V20.S4, V21.S4, V22.S4, V23.S4], (R9)(R8)
	VST1.P [V24.S4, V25.S4, V26.S4, V27.S4], (R9)(R8)
	VST1.P [V28.S4, V29.S4, V30.S4, V31.S4], (R9)(R8)
	ADD  R6<<2, R21, R21
	MOVD R9, R22
	SUB  $4, R23

	// ---- Full strips: single rows.
rows1:
	CBZ  R23, done
	MOVD R21, R9
	MOVD R1, R13
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	ZERO(V20); ZERO(V21); ZERO(V22); ZERO(V23)
	MOVD R19, R15
	CBZ  R15, tail1

loop1:
	VLD1.P 16(R9), [V0.S4]
	K1(0, 16)
	K1(1, 20)
	K1(2, 16)
	K1(3, 20)
	SUB  $1, R15
	CBNZ R15, loop1

tail1:
	MOVD R20, R15
	CBZ  R15, store1

looptail1:
	FMOVS.P 4(R9), F0
	K1(0, 16)
	SUB  $1, R15
	CBNZ R15, looptail1

store1:
	FADDV(16, 16, 20)
	FADDV(17, 17, 21)
	FADDV(18, 18, 22)
	FADDV(19, 19, 23)
	VST1 [V16.S4, V17.S4, V18.S4, V19.S4], (R22)
	ADD  R6, R21, R21
	ADD  R8, R22, R22
	SUB  $1, R23
	B    rows1

	// ---- Narrow strips (w < 16): groups of 4 columns.
narrow:
	LSR  $2, R5, R4 // groups
	AND  $3, R5, R5 // w % 4
	MOVD R1, R24
	MOVD R2, R25
	CBZ  R4, partial

group:
	MOVD R0, R21
	MOVD R25, R22
	MOVD R3, R23

grows4:
	CMP  $4, R23
	BLT  grows1
	ROWS4
	MOVD R24, R13
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	ZERO(V20); ZERO(V21); ZERO(V22); ZERO(V23)
	MOVD R19, R15
	CBZ  R15, gtail4

gloop4:
	LHS4
	KG4(0, V4, 4, 16)
	KG4(1, V5, 5, 20)
	KG4(2, V6, 6, 16)
	KG4(3, V7, 7, 20)
	SUB  $1, R15
	CBNZ R15, gloop4

gtail4:
	MOVD R20, R15
	CBZ  R15, gstore4

glooptail4:
	LHS4T
	KG4(0, V4, 4, 16)
	SUB  $1, R15
	CBNZ R15, glooptail4

gstore4:
	FADDV(16, 16, 20)
	FADDV(17, 17, 21)
	FADDV(18, 18, 22)
	FADDV(19, 19, 23)
	MOVD R22, R9
	VST1.P [V16.S4], (R9)(R8)
	VST1.P [V17.S4], (R9)(R8)
	VST1.P [V18.S4], (R9)(R8)
	VST1.P [V19.S4], (R9)(R8)
	ADD  R6<<2, R21, R21
	MOVD R9, R22
	SUB  $4, R23
	B    grows4

grows1:
	CBZ  R23, gnext
	MOVD R21, R9
	MOVD R24, R13
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	MOVD R19, R15
	CBZ  R15, gtail1

gloop1:
	VLD1.P 16(R9), [V0.S4]
	VLD1.P (R13)(R7), [V4.S4]
	VLD1.P (R13)(R7), [V5.S4]
	VLD1.P (R13)(R7), [V6.S4]
	VLD1.P (R13)(R7), [V7.S4]
	FMLAE(16, 4, 0, 0)
	FMLAE(17, 5, 0, 1)
	FMLAE(18, 6, 0, 2)
	FMLAE(19, 7, 0, 3)
	SUB  $1, R15
	CBNZ R15, gloop1

gtail1:
	MOVD R20, R15
	CBZ  R15, gstore1

glooptail1:
	FMOVS.P 4(R9), F0
	VLD1.P (R13)(R7), [V4.S4]
	FMLAE(16, 4, 0, 0)
	SUB  $1, R15
	CBNZ R15, glooptail1

gstore1:
	FADDV(16, 16, 17)
	FADDV(18, 18, 19)
	FADDV(16, 16, 18)
	VST1 [V16.S4], (R22)
	ADD  R6, R21, R21
	ADD  R8, R22, R22
	SUB  $1, R23
	B    grows1

gnext:
	ADD  $16, R24, R24
	ADD  $16, R25, R25
	SUB  $1, R4
	CBNZ R4, group

	// ---- Narrow strips: the last w % 4 columns, a partial vector.
partial:
	CBZ  R5, done
	SUB  $1, R5, R14
	LSL  $2, R14, R14 // o2 = 4·(w%4 − 1)
	MOVD $4, R4
	CMP  R4, R14
	CSEL LT, R14, R4, R4 // o1 = min(4, o2)
	MOVD R0, R21
	MOVD R25, R22
	MOVD R3, R23

prows4:
	CMP  $4, R23
	BLT  prows1
	ROWS4
	MOVD R24, R13
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	ZERO(V20); ZERO(V21); ZERO(V22); ZERO(V23)
	MOVD R19, R15
	CBZ  R15, ptail4

ploop4:
	LHS4
	KP4(0, F4, V4, 4, 16)
	KP4(1, F5, V5, 5, 20)
	KP4(2, F6, V6, 6, 16)
	KP4(3, F7, V7, 7, 20)
	SUB  $1, R15
	CBNZ R15, ploop4

ptail4:
	MOVD R20, R15
	CBZ  R15, pstore4

plooptail4:
	LHS4T
	KP4(0, F4, V4, 4, 16)
	SUB  $1, R15
	CBNZ R15, plooptail4

pstore4:
	FADDV(16, 16, 20)
	FADDV(17, 17, 21)
	FADDV(18, 18, 22)
	FADDV(19, 19, 23)
	MOVD R22, R9
	STOREP(F16, V16)
	STOREP(F17, V17)
	STOREP(F18, V18)
	STOREP(F19, V19)
	ADD  R6<<2, R21, R21
	MOVD R9, R22
	SUB  $4, R23
	B    prows4

prows1:
	CBZ  R23, done
	MOVD R21, R9
	MOVD R24, R13
	ZERO(V16); ZERO(V17); ZERO(V18); ZERO(V19)
	MOVD R19, R15
	CBZ  R15, ptail1

ploop1:
	VLD1.P 16(R9), [V0.S4]
	LOADP(F4, V4)
	LOADP(F5, V5)
	LOADP(F6, V6)
	LOADP(F7, V7)
	FMLAE(16, 4, 0, 0)
	FMLAE(17, 5, 0, 1)
	FMLAE(18, 6, 0, 2)
	FMLAE(19, 7, 0, 3)
	SUB  $1, R15
	CBNZ R15, ploop1

ptail1:
	MOVD R20, R15
	CBZ  R15, pstore1

plooptail1:
	FMOVS.P 4(R9), F0
	LOADP(F4, V4)
	FMLAE(16, 4, 0, 0)
	SUB  $1, R15
	CBNZ R15, plooptail1

pstore1:
	FADDV(16, 16, 17)
	FADDV(18, 18, 19)
	FADDV(16, 16, 18)
	MOVD R22, R9
	STOREP(F16, V16)
	ADD  R6, R21, R21
	ADD  R8, R22, R22
	SUB  $1, R23
	B    prows1

done:
	RET
