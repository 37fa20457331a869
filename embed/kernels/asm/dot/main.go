// Command dot generates the int8 dot-product scans of package vec for
// amd64 (AVX-512 and AVX2+FMA):
//
//	cd embed/kernels/asm && go run ./dot -out ../vec/dot_amd64.s -stubs ../vec/dot_amd64.go -pkg vec
//
// Each kernel computes
//
//	out[i] = Σ_j q[j]·float32(c[i·d+j])   for i < rows
//
// with rows ≥ 1 and d > 0 a multiple of 16 (vec.DotsI8Step), reading
// exactly the rows·d codes, the d query floats and writing exactly rows
// floats: nothing past any of them, so no masks are needed.
//
// # Design
//
// The scan of a quantised vector index: 100,000 rows of 384 codes read
// once per search, which is to be bound by memory bandwidth. Per 16 codes
// of a row: VPMOVSXBD straight from memory (16 int8 → int32 in a zmm, or
// 8 → a ymm twice on AVX2), VCVTDQ2PS, and one VFMADD231PS with the
// query's 16 floats into the row's accumulator. Rows go four at a time, so
// each query vector is loaded once for four rows (the four rows' codes are
// one contiguous 4·d-byte run); the last rows mod 4 go two and one at a
// time. The 4-row loop prefetches the codes pfDist bytes ahead.
//
// Each row has its own accumulators: on AVX-512 one zmm, on AVX2 two ymm
// (a chunk's halves); a 4-row block thus has 4 or 8 independent FMA
// chains, enough for the FMA latency at this throughput. A single row's
// chain is latency-bound (~4 cycles per 16 codes, some 30 ns for 384,
// which a scan does not see). Two zmm per row, for even and odd chunks
// (an iteration of two chunks), streamed slower: BenchmarkDotsI8/stream
// 13–16 GB/s against 13–18, lower in each of 8 interleaved runs. At the
// end of a block each row's accumulators are added and reduced
// horizontally (VHADDPS, four rows into one xmm), and its sums stored
// with one store.
//
// A row's value is bit for bit the same whichever block computes it: every
// block sums a row in the same order (the same accumulators, the same
// reduction, fewer rows pairing with themselves in VHADDPS), so it does not
// depend on the number of rows in the call or the row's place among them.
// pkg/vecindex relies on it: a row scored alone equals the same row scored
// in a scan.
//
// Registers are physical, not allocated: everything fits in the 16 VEX
// registers (VHADDPS has no EVEX form, so the AVX-512 reduction too must
// stay in Y0–Y15), and the AVX2 kernel must never see X16–X31.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/mnemo-mcp/mnemo/embed/kernels/asm/internal/gencheck"
)

const sig = "func(q *float32, c *int8, d, rows int, out *float32)"

// General-purpose register roles.
var (
	rQ    = RSI // the query
	rC    = RDI // codes of the current row block
	rD    = RDX // d: bytes of a code row
	rD3   = R8  // 3·d
	rRows = R9  // rows left
	rO    = R10 // out, advancing by the rows done
	rP    = R11 // codes of the block's first row, advancing along the row
	rQP   = R12 // query, advancing along the row
	rK    = RCX // chunks of 16 left in the row
	rPF   = R13 // the prefetch pointer, pfDist bytes ahead of the codes read
)

// pfDist is how far ahead of the 4-row blocks the codes are prefetched
// (PREFETCHT0, one line for each 16 codes of the four rows, 64 bytes: the
// pointer keeps pace with the reads, across blocks too).
// BenchmarkDotsI8/stream (d = 384, 4096 rows a call walking 37 MiB) went
// from ~12 GB/s without to ~17–19 with 2048–6144 bytes ahead (within the
// noise of a shared machine); the hardware prefetchers alone keep too few
// lines in flight for four interleaved 16-byte streams. A prefetch past
// the end of the codes is harmless: it never faults.
const pfDist = 4096

// isa is one instruction set's code generator.
type isa struct {
	suffix string // of the function name: AVX512, AVX2
	z      bool   // zmm: 16 lanes, one vector per chunk of 16 codes
	// u is the chunks of 16 codes a loop iteration takes, each row's
	// vectors of a chunk its own accumulators: a row has u (zmm) or 2·u
	// (ymm) accumulators, in every block. A remaining chunk goes to the
	// first.
	u    int
	regs []VecPhysical
}

var (
	avx512 = &isa{"AVX512", true, 1, []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}}
	avx2   = &isa{"AVX2", false, 1, []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}}
)

// nv is the number of vectors a chunk of 16 codes takes.
func (s *isa) nv() int {
	if s.z {
		return 1
	}
	return 2
}

// codes addresses row r (< 4) of the block, off bytes along it.
func codes(r, off int) Mem {
	m := Mem{Base: rP, Disp: off}
	switch r {
	case 1:
		m.Index, m.Scale = rD, 1
	case 2:
		m.Index, m.Scale = rD, 2
	case 3:
		m.Index, m.Scale = rD3, 1
	}
	return m
}

// block emits the code of nr rows (4, 2 or 1) from rC into rO, u chunks
// of 16 codes per loop iteration, then single chunks; it leaves rC and rO
// at the next rows. Every block computes a row the same way (the same
// accumulators, the same order of additions, the same reduction), so a
// row's value does not depend on which block computes it: on how many
// rows the call has or where in them the row is.
func (s *isa) block(nr int) {
	nv, u := s.nv(), s.u
	name := fmt.Sprintf("%s_r%d", strings.ToLower(s.suffix), nr)
	// Accumulators: acc[r][k·nv+h] for row r, chunk k of the iteration,
	// vector h of the chunk. Then query registers, then temporaries.
	next := 0
	pf := nr == 4
	take := func() VecPhysical { v := s.regs[next]; next++; return v }
	acc := make([][]VecPhysical, nr)
	for r := range acc {
		for range u * nv {
			acc[r] = append(acc[r], take())
		}
	}
	var qr []VecPhysical
	if nr > 1 {
		qr = []VecPhysical{take(), take()}
	}
	tmp := s.regs[next:]
	if len(tmp) < 2 {
		panic("dot: out of registers")
	}

	Comment(fmt.Sprintf("%d row(s), %d chunk(s) of 16 codes per iteration", nr, u))
	for _, a := range acc {
		for _, v := range a {
			VXORPS(v, v, v)
		}
	}
	MOVQ(rC, rP)
	MOVQ(rQ, rQP)
	MOVQ(rD, rK)
	SHRQ(U8(4), rK)

	// body emits uu chunks of 16 codes of every row.
	body := func(uu int) {
		t := 0
		for k := range uu {
			for h := range nv {
				qoff := 64*k + 32*h
				var qv Op = Mem{Base: rQP, Disp: qoff}
				if nr > 1 {
					v := qr[(k*nv+h)%len(qr)]
					VMOVUPS(qv, v)
					qv = v
				}
				for r := range nr {
					x := tmp[t%len(tmp)]
					t++
					VPMOVSXBD(codes(r, 16*k+8*h), x)
					VCVTDQ2PS(x, x)
					VFMADD231PS(qv, x, acc[r][k*nv+h])
				}
			}
		}
		if pf {
			for k := range uu {
				PREFETCHT0(Mem{Base: rPF, Disp: 64 * k})
			}
			ADDQ(U32(64*uu), rPF)
		}
		ADDQ(U32(16*uu), rP)
		ADDQ(U32(64*uu), rQP)
	}
	if u > 1 {
		CMPQ(rK, U8(u))
		JB(LabelRef(name + "_one"))
		Label(name + "_loop")
		body(u)
		SUBQ(U8(u), rK)
		CMPQ(rK, U8(u))
		JAE(LabelRef(name + "_loop"))
		Label(name + "_one")
		TESTQ(rK, rK)
		JZ(LabelRef(name + "_sum"))
		Label(name + "_oneloop")
		body(1)
		DECQ(rK)
		JNZ(LabelRef(name + "_oneloop"))
	} else {
		Label(name + "_loop")
		body(1)
		DECQ(rK)
		JNZ(LabelRef(name + "_loop"))
	}

	Label(name + "_sum")
	// Each row's accumulators into its first, then to one ymm.
	ys := make([]VecPhysical, nr)
	for r, a := range acc {
		for w := 1; w < len(a); w *= 2 {
			for i := 0; i+w < len(a); i += 2 * w {
				VADDPS(a[i+w], a[i], a[i])
			}
		}
		ys[r] = a[0]
		if s.z {
			y := a[0].AsY().(VecPhysical)
			t := tmp[0].AsY()
			VEXTRACTF64X4(U8(1), a[0], t)
			VADDPS(t, y, y)
			ys[r] = y
		}
	}
	// Lanes 0–7 of row r's ymm, y0…y7, sum to ((y0+y1)+(y2+y3)) +
	// ((y4+y5)+(y6+y7)) in all three blocks: the fewer rows pair with
	// themselves in the same VHADDPS steps.
	x0 := ys[0].AsX()
	t := tmp[0].AsX()
	switch nr {
	case 4:
		VHADDPS(ys[1], ys[0], ys[0]) // r0 01 23, r1 01 23 | r0 45 67, r1 45 67
		VHADDPS(ys[3], ys[2], ys[2]) // r2 …, r3 …
		VHADDPS(ys[2], ys[0], ys[0]) // r0 0123, r1, r2, r3 | r0 4567, r1, r2, r3
	case 2:
		VHADDPS(ys[1], ys[0], ys[0]) // r0 01 23, r1 01 23 | r0 45 67, r1 45 67
		VHADDPS(ys[0], ys[0], ys[0]) // r0 0123, r1, r0, r1 | r0 4567, r1, r0, r1
	case 1:
		VHADDPS(ys[0], ys[0], ys[0]) // r0 01 23 01 23 | r0 45 67 45 67
		VHADDPS(ys[0], ys[0], ys[0]) // r0 0123 … | r0 4567 …
	}
	VEXTRACTF128(U8(1), ys[0], t)
	VADDPS(t, x0, x0)
	switch nr {
	case 4:
		VMOVUPS(x0, Mem{Base: rO})
	case 2:
		VMOVSD(x0, Mem{Base: rO})
	case 1:
		VMOVSS(x0, Mem{Base: rO})
	}
	switch nr {
	case 4:
		LEAQ(Mem{Base: rC, Index: rD, Scale: 4}, rC)
	case 2:
		LEAQ(Mem{Base: rC, Index: rD, Scale: 2}, rC)
	case 1:
		ADDQ(rD, rC)
	}
	ADDQ(U8(4*nr), rO)
}

func (s *isa) kernel() {
	TEXT("dotsI8"+s.suffix, NOSPLIT, sig)
	Doc(fmt.Sprintf("dotsI8%s: out[i] = Σ_j q[j]·c[i·d+j] for i < rows (rows ≥ 1, d > 0 a multiple of 16): see embed/kernels/asm/dot.", s.suffix))
	Pragma("noescape")
	Load(Param("q"), rQ)
	Load(Param("c"), rC)
	Load(Param("d"), rD)
	Load(Param("rows"), rRows)
	Load(Param("out"), rO)
	LEAQ(Mem{Base: rD, Index: rD, Scale: 2}, rD3)
	LEAQ(Mem{Base: rC, Disp: pfDist}, rPF)
	Label("rows4")
	CMPQ(rRows, U8(4))
	JB(LabelRef("rows2"))
	s.block(4)
	SUBQ(U8(4), rRows)
	JMP(LabelRef("rows4"))
	Label("rows2")
	TESTQ(U32(2), rRows)
	JZ(LabelRef("rows1"))
	s.block(2)
	Label("rows1")
	TESTQ(U32(1), rRows)
	JZ(LabelRef("done"))
	s.block(1)
	Label("done")
	VZEROUPPER()
	RET()
}

func main() {
	flag.Parse()
	avx512.kernel()
	avx2.kernel()
	Generate()
	if err := gencheck.CheckAVX2(flag.Lookup("out").Value.String()); err != nil {
		fmt.Fprintln(os.Stderr, "dot:", err)
		os.Exit(1)
	}
}
