// NEON (ASIMD) int8 dot-product scan:
//
//	out[i] = Σ_j q[j]·float32(c[i·d+j])   for i < rows
//
// with rows ≥ 1 and d > 0 a multiple of 16 (vec.DotsI8Step). It reads
// exactly the rows·d codes and the d query floats and writes exactly rows
// floats.
//
// Per 16 codes of a row: one LD1 of 16 bytes, SXTL/SXTL2 to two vectors
// of 8 int16, SXTL/SXTL2 again to four vectors of 4 int32, SCVTF, and four
// FMLAs with the query's 16 floats (one LD1 of four vectors) into the
// row's four accumulators. Rows go four at a time, sharing each query
// load (16 accumulators V0–V15, the query V16–V19, temporaries V20–V31);
// the last rows mod 4 one at a time (V0–V3). At the end of a block each
// row's accumulators are added and the rows reduced together with FADDP.
// Both blocks sum a row in the same order, ((a0+a1)+(a2+a3)) over the
// lanes of (acc0+acc1)+(acc2+acc3), so a row's value does not depend on
// which block computes it (DotsI8: a row scored alone equals the row in a
// scan).
//
// Registers: R0–R10 and V0–V31 only (never R18, reserved on Apple
// platforms, nor R26–R30). A leaf function without a frame.
//
// Go's arm64 assembler (1.26) has no SXTL (SSHLL #0), vector SCVTF or
// floating-point vector addition; those are WORD-encoded by the macros
// below (register numbers as arguments: d destination, n and m sources, as
// in the ARM manual; ARM DDI 0487, "Advanced SIMD shift by immediate",
// "two-register misc" and "three same"), each checked against binutils'
// aarch64-linux-gnu-as/objdump; every use carries its mnemonic in a
// comment:
//
//	sxtl   vd.8h, vn.8b          0x0F08A400 | n<<5 | d   (sshll #0)
//	sxtl2  vd.8h, vn.16b         0x4F08A400 | n<<5 | d   (sshll2 #0)
//	sxtl   vd.4s, vn.4h          0x0F10A400 | n<<5 | d
//	sxtl2  vd.4s, vn.8h          0x4F10A400 | n<<5 | d
//	scvtf  vd.4s, vn.4s          0x4E21D800 | n<<5 | d
//	fadd   vd.4s, vn.4s, vm.4s   0x4E20D400 | m<<16 | n<<5 | d
//	faddp  vd.4s, vn.4s, vm.4s   0x6E20D400 | m<<16 | n<<5 | d
//	faddp  sd, vn.2s             0x7E30D800 | n<<5 | d
//
// Native forms, in Go's operand order (destination last): VFMLA Vm, Vn, Vd
// is fmla vd, vn, vm (vd += vn·vm).

#include "textflag.h"

#define SXTL_8H(d, n) WORD $(0x0F08A400 | (n)<<5 | (d))
#define SXTL2_8H(d, n) WORD $(0x4F08A400 | (n)<<5 | (d))
#define SXTL_4S(d, n) WORD $(0x0F10A400 | (n)<<5 | (d))
#define SXTL2_4S(d, n) WORD $(0x4F10A400 | (n)<<5 | (d))
#define SCVTF_4S(d, n) WORD $(0x4E21D800 | (n)<<5 | (d))
#define FADD_4S(d, n, m) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define FADDP_4S(d, n, m) WORD $(0x6E20D400 | (m)<<16 | (n)<<5 | (d))
#define FADDP_2S(d, n) WORD $(0x7E30D800 | (n)<<5 | (d))

// func dotsI8NEON(q *float32, c *int8, d, rows int, out *float32)
TEXT ·dotsI8NEON(SB), NOSPLIT|NOFRAME, $0-40
	MOVD q+0(FP), R0
	MOVD c+8(FP), R1     // codes of the current block
	MOVD d+16(FP), R2
	MOVD rows+24(FP), R3 // rows left
	MOVD out+32(FP), R4
	CMP  $4, R3
	BLT  rows1

rows4:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	MOVD R1, R6          // rows 0–3 of the block
	ADD  R2, R6, R7
	ADD  R2, R7, R8
	ADD  R2, R8, R9
	MOVD R0, R10         // the query
	LSR  $4, R2, R5      // chunks of 16 codes

loop4:
	VLD1.P 64(R10), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 16(R6), [V20.B16]
	VLD1.P 16(R7), [V24.B16]
	VLD1.P 16(R8), [V28.B16]
	// row 0
	SXTL_8H(21, 20)      // sxtl  v21.8h, v20.8b    codes 0–7
	SXTL2_8H(22, 20)     // sxtl2 v22.8h, v20.16b   codes 8–15
	SXTL_4S(20, 21)      // sxtl  v20.4s, v21.4h    0–3
	SXTL2_4S(21, 21)     // sxtl2 v21.4s, v21.8h    4–7
	SXTL_4S(23, 22)      // sxtl  v23.4s, v22.4h    8–11
	SXTL2_4S(22, 22)     // sxtl2 v22.4s, v22.8h    12–15
	SCVTF_4S(20, 20)     // scvtf v20.4s, v20.4s
	SCVTF_4S(21, 21)     // scvtf v21.4s, v21.4s
	SCVTF_4S(23, 23)     // scvtf v23.4s, v23.4s
	SCVTF_4S(22, 22)     // scvtf v22.4s, v22.4s
	VFMLA V16.S4, V20.S4, V0.S4
	VFMLA V17.S4, V21.S4, V1.S4
	VFMLA V18.S4, V23.S4, V2.S4
	VFMLA V19.S4, V22.S4, V3.S4

	VLD1.P 16(R9), [V20.B16]
	// row 1
	SXTL_8H(25, 24)      // sxtl  v25.8h, v24.8b    codes 0–7
	SXTL2_8H(26, 24)     // sxtl2 v26.8h, v24.16b   codes 8–15
	SXTL_4S(24, 25)      // sxtl  v24.4s, v25.4h    0–3
	SXTL2_4S(25, 25)     // sxtl2 v25.4s, v25.8h    4–7
	SXTL_4S(27, 26)      // sxtl  v27.4s, v26.4h    8–11
	SXTL2_4S(26, 26)     // sxtl2 v26.4s, v26.8h    12–15
	SCVTF_4S(24, 24)     // scvtf v24.4s, v24.4s
	SCVTF_4S(25, 25)     // scvtf v25.4s, v25.4s
	SCVTF_4S(27, 27)     // scvtf v27.4s, v27.4s
	SCVTF_4S(26, 26)     // scvtf v26.4s, v26.4s
	VFMLA V16.S4, V24.S4, V4.S4
	VFMLA V17.S4, V25.S4, V5.S4
	VFMLA V18.S4, V27.S4, V6.S4
	VFMLA V19.S4, V26.S4, V7.S4

	// row 2
	SXTL_8H(29, 28)      // sxtl  v29.8h, v28.8b    codes 0–7
	SXTL2_8H(30, 28)     // sxtl2 v30.8h, v28.16b   codes 8–15
	SXTL_4S(28, 29)      // sxtl  v28.4s, v29.4h    0–3
	SXTL2_4S(29, 29)     // sxtl2 v29.4s, v29.8h    4–7
	SXTL_4S(31, 30)      // sxtl  v31.4s, v30.4h    8–11
	SXTL2_4S(30, 30)     // sxtl2 v30.4s, v30.8h    12–15
	SCVTF_4S(28, 28)     // scvtf v28.4s, v28.4s
	SCVTF_4S(29, 29)     // scvtf v29.4s, v29.4s
	SCVTF_4S(31, 31)     // scvtf v31.4s, v31.4s
	SCVTF_4S(30, 30)     // scvtf v30.4s, v30.4s
	VFMLA V16.S4, V28.S4, V8.S4
	VFMLA V17.S4, V29.S4, V9.S4
	VFMLA V18.S4, V31.S4, V10.S4
	VFMLA V19.S4, V30.S4, V11.S4

	// row 3
	SXTL_8H(21, 20)      // sxtl  v21.8h, v20.8b    codes 0–7
	SXTL2_8H(22, 20)     // sxtl2 v22.8h, v20.16b   codes 8–15
	SXTL_4S(20, 21)      // sxtl  v20.4s, v21.4h    0–3
	SXTL2_4S(21, 21)     // sxtl2 v21.4s, v21.8h    4–7
	SXTL_4S(23, 22)      // sxtl  v23.4s, v22.4h    8–11
	SXTL2_4S(22, 22)     // sxtl2 v22.4s, v22.8h    12–15
	SCVTF_4S(20, 20)     // scvtf v20.4s, v20.4s
	SCVTF_4S(21, 21)     // scvtf v21.4s, v21.4s
	SCVTF_4S(23, 23)     // scvtf v23.4s, v23.4s
	SCVTF_4S(22, 22)     // scvtf v22.4s, v22.4s
	VFMLA V16.S4, V20.S4, V12.S4
	VFMLA V17.S4, V21.S4, V13.S4
	VFMLA V18.S4, V23.S4, V14.S4
	VFMLA V19.S4, V22.S4, V15.S4
	SUBS $1, R5, R5
	BNE  loop4

	FADD_4S(0, 0, 1)     // fadd v0.4s, v0.4s, v1.4s
	FADD_4S(2, 2, 3)     // fadd v2.4s, v2.4s, v3.4s
	FADD_4S(0, 0, 2)     // fadd v0.4s, v0.4s, v2.4s    row 0
	FADD_4S(4, 4, 5)     // fadd v4.4s, v4.4s, v5.4s
	FADD_4S(6, 6, 7)     // fadd v6.4s, v6.4s, v7.4s
	FADD_4S(4, 4, 6)     // fadd v4.4s, v4.4s, v6.4s    row 1
	FADD_4S(8, 8, 9)     // fadd v8.4s, v8.4s, v9.4s
	FADD_4S(10, 10, 11)  // fadd v10.4s, v10.4s, v11.4s
	FADD_4S(8, 8, 10)    // fadd v8.4s, v8.4s, v10.4s   row 2
	FADD_4S(12, 12, 13)  // fadd v12.4s, v12.4s, v13.4s
	FADD_4S(14, 14, 15)  // fadd v14.4s, v14.4s, v15.4s
	FADD_4S(12, 12, 14)  // fadd v12.4s, v12.4s, v14.4s row 3
	FADDP_4S(0, 0, 4)    // faddp v0.4s, v0.4s, v4.4s   row 0 01 23, row 1 01 23
	FADDP_4S(8, 8, 12)   // faddp v8.4s, v8.4s, v12.4s  row 2 …, row 3 …
	FADDP_4S(0, 0, 8)    // faddp v0.4s, v0.4s, v8.4s   rows 0, 1, 2, 3
	VST1.P [V0.S4], 16(R4)
	MOVD R9, R1          // the end of row 3: the next block
	SUB  $4, R3, R3
	CMP  $4, R3
	BGE  rows4

rows1:
	CBZ R3, done

row1:
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	MOVD R1, R6
	MOVD R0, R10
	LSR  $4, R2, R5

loop1:
	VLD1.P 64(R10), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 16(R6), [V20.B16]
	SXTL_8H(21, 20)      // sxtl  v21.8h, v20.8b    codes 0–7
	SXTL2_8H(22, 20)     // sxtl2 v22.8h, v20.16b   codes 8–15
	SXTL_4S(20, 21)      // sxtl  v20.4s, v21.4h    0–3
	SXTL2_4S(21, 21)     // sxtl2 v21.4s, v21.8h    4–7
	SXTL_4S(23, 22)      // sxtl  v23.4s, v22.4h    8–11
	SXTL2_4S(22, 22)     // sxtl2 v22.4s, v22.8h    12–15
	SCVTF_4S(20, 20)     // scvtf v20.4s, v20.4s
	SCVTF_4S(21, 21)     // scvtf v21.4s, v21.4s
	SCVTF_4S(23, 23)     // scvtf v23.4s, v23.4s
	SCVTF_4S(22, 22)     // scvtf v22.4s, v22.4s
	VFMLA V16.S4, V20.S4, V0.S4
	VFMLA V17.S4, V21.S4, V1.S4
	VFMLA V18.S4, V23.S4, V2.S4
	VFMLA V19.S4, V22.S4, V3.S4
	SUBS $1, R5, R5
	BNE  loop1

	FADD_4S(0, 0, 1)     // fadd v0.4s, v0.4s, v1.4s
	FADD_4S(2, 2, 3)     // fadd v2.4s, v2.4s, v3.4s
	FADD_4S(0, 0, 2)     // fadd v0.4s, v0.4s, v2.4s
	FADDP_4S(0, 0, 0)    // faddp v0.4s, v0.4s, v0.4s
	FADDP_2S(0, 0)       // faddp s0, v0.2s
	FMOVS F0, (R4)
	ADD   $4, R4, R4
	MOVD  R6, R1         // the end of the row: the next
	SUBS  $1, R3, R3
	BNE   row1

done:
	RET
