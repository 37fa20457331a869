// Command gemm generates the amd64 GEMM kernels of package vec
// (embed/kernels/vec/gemm_amd64.s and its Go declarations):
//
//	cd embed/kernels/asm && go run ./gemm -out ../vec/gemm_amd64.s -stubs ../vec/gemm_amd64.go -pkg vec
//
// Every kernel computes one strip of an output:
//
//	o[i·ldo+j] = Σ_p l[i·ldl+p] · r[p·ldr+j]   for i < m, j < w
//
// overwriting o, with m ≥ 1, k ≥ 1, 1 ≤ w ≤ the strip width, strides in
// elements, or with acc ≠ 0 adding to o (o[i·ldo+j] += …). It reads and
// writes nothing outside those rows and columns; pfn is a prefetch hint
// (see the tile modes), never dereferenced.
//
// # Design
//
// The output strip is cut into row tiles whose accumulators live in
// registers for the whole k loop; per k step, a tile loads its weight row
// (one vector per 16 or 8 columns) once and, for each of its rows,
// broadcasts one lhs value into a register and multiplies it into the
// row's accumulators. Nothing is packed on the lhs side: the tile's rows
// are read in place, each a sequential stream the hardware prefetchers
// follow, and the weights are either a packed strip (vec.Pack: k rows of
// stripW floats, contiguous) or a row-major matrix read at stride ldr.
//
// AVX-512 (stripW 32, two zmm per row): a 14×32 tile is 28 accumulators
// Z0–Z27, the two weight vectors Z28–Z29 and two broadcast registers
// Z30–Z31, which is all 32 zmm registers. A k step is 28 FMAs (14 cycles on
// the two 512-bit FMA ports) against 16 loads (2 weight + 14 broadcast),
// under the 2 loads a cycle the load ports sustain, and each accumulator
// is written once every 14 cycles, far beyond the FMA latency (4). The
// broadcast goes through a register rather than an FMA's {1to16} memory
// operand, because each lhs value feeds two FMAs: a memory operand would
// load it twice (30 loads a step, making the loop load-bound). 12 rows
// (a short query) is a single 12×32 tile. Columns beyond w are masked with
// opmask registers (K1 for columns 0–15, K2 for 16–31) on the weight
// loads (zeroing) and the stores (merging), so a partial strip reads and
// writes only its columns; a masked load costs what a plain one does. A
// strip of at most 16 columns takes a one-zmm-per-row variant (14-row
// tiles, two accumulator sets) rather than computing 16 masked-off
// columns.
//
// AVX2 (stripW 16, two ymm per row): the classic 6×16 tile, 12
// accumulators Y0–Y11, weights Y12–Y13 and broadcasts Y14–Y15: 12 FMAs (6
// cycles on the two FMA ports) against 8 loads a step. A partial strip
// takes one of two other variants: 8 < w < 16 loads the second weight
// vector with VMASKMOVPS under a mask built from w (Y15, leaving one
// broadcast register), w ≤ 8 keeps one vector per row. The full-width
// variant carries no masks, since VMASKMOVPS is slower than a load.
//
// Row tiles: while more than two full tiles' rows remain, a full tile
// (14 or 6 rows); the last 15–28 (7–12) rows split into two near-equal
// tiles, so there is never a sliver of 1–2 rows whose few accumulators
// leave the FMA pipes idle. A tile with at most half the accumulators
// (7 rows on AVX-512, 3 on AVX2, every w ≤ 8 tile) keeps two sets, one
// for even and one for odd k, summed at the end, so its FMA chains still
// cover the latency.
//
// Addressing: a tile's lhs rows are reached from three base registers
// (rows 0, 5, 10) advancing 4 bytes a k step, each with index forms 0,
// ldl, 2·ldl, 3·ldl (a register) and 4·ldl; the k loop is unrolled twice,
// the weight pointer advancing by 2·ldr bytes (the second row addressed
// as base + ldr). Loop overhead is 5–6 scalar instructions per two k steps.
//
// Prefetching (measured, see pfDist, pfL, pfFirst): the first tile of a
// call prefetches its weight rows 32 k steps ahead, which is what a short
// query's product, streaming weights from L3 or memory, needs; later
// tiles find the strip cached. AVX-512 tiles also prefetch the next
// tile's lhs rows into L2, for long inputs whose lhs is re-read from L3
// for every strip.
//
// Measured on a 2-core Emerald Rapids VM (fastest of 300 calls, a noisy
// shared machine; vec's BenchmarkFMAPeak and BenchmarkGemmAMD64): zmm FMA
// peak ~179 GFLOPS, 2048×384×384 ~150–155 (84–87%), 12×384×384 packed
// ~163 (91%); ymm peak ~96, AVX2 2048 rows ~82, 12 rows ~88.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// pfDist is how many k steps ahead the weight rows are prefetched. A
// short query's product streams its weights from L3 or memory (each is
// read once a pass), and the hardware prefetchers alone keep too few
// lines in flight: BenchmarkGemmCold (12×384×384, weights not cached)
// went from ~8.5 GB/s without to ~12 with 32 steps ahead (4 KiB of a
// packed strip); 16 was less, 64 no better beyond the noise.
const pfDist = 32

const sig = "func(l, r, o *float32, m, k, w, ldl, ldr, ldo, acc, pfn, pfs int)"

// General-purpose register roles, fixed across the kernels.
var (
	rA   = RDI // lhs row 0 of the tile, advancing along k
	rB   = RSI // lhs row 5
	rC   = R8  // lhs row 10
	rX   = RBX // ldl in bytes
	rX3  = RDX // 3·ldl in bytes
	rW   = R9  // weight row, advancing along k
	rLDR = R10 // ldr in bytes
	rK   = RCX // k loop counter
	rM   = R11 // rows left
	rL   = R12 // lhs of the current tile
	rO   = R13 // output of the current tile
	rLDO = R14 // ldo in bytes
	rT   = RAX // scratch; in the k loop, the lhs prefetch pointer
	rPF  = R15 // the weight prefetch pointer
)

// variant is one family of row tiles sharing a register layout.
type variant struct {
	name  string
	zmm   bool
	nv    int           // vectors per row
	maxH  int           // rows of a full tile
	acc   []VecPhysical // accumulator registers available
	wregs []VecPhysical // weight vector registers, nv of them
	bregs []VecPhysical // broadcast registers, used in turn
	masks [2]Register   // per vector: nil for none, else K (zmm) or a ymm (VMASKMOVPS)
	pf    int           // prefetch distance in k steps (0: none)
	// pfL: prefetch the next tile's lhs rows into L2. A 2048-row lhs
	// (3 MiB) is re-read from L3 for every strip; with this AVX-512 went
	// from ~138 to ~150 GFLOPS on 2048×384×384. AVX2 (6-row tiles) lost
	// 3% on 512 rows with it and gained nothing on 2048: off there.
	pfL bool

	// pfFirst: only the first tile of a call prefetches its own weight
	// rows; the second prefetches the rows pfn bytes on (the caller's
	// next k chunk), the rest none.
	pfFirst bool
	// pfS: the third and later tiles of a call stream the k·ldr bytes
	// pfs bytes from r into L2 (the caller passes the next strip of a
	// packed weight), one line a loop iteration. With a model's 36
	// weights in turn (42 MB, streamed from L3 or memory once a pass),
	// a strip's first tile otherwise waited for it: AVX-512 on 320- and
	// 512-row products went from 149–152 to 153–155 GFLOPS at best
	// (BenchmarkGemmModelWeights), the weights cached ~160. AVX2's 6-row
	// tiles lost 4–6% with it: off there.
	pfS  bool
	mode int // emitting the code of: modeFirst, modeNext or modeRest tiles
}

// Tile modes (with pfFirst). A caller that cuts k into chunks (vec's
// GemmStrips, for products of two tiles' rows: queries of 16–28 tokens)
// calls the kernel once per chunk, accumulating (acc): the first tile
// streams the chunk's weights into L1, prefetching pf steps ahead; the
// second computes from L1 and meanwhile prefetches the next chunk (pfn
// bytes on; 0: its own rows again, a no-op), so that chunk's stream runs
// under this one's arithmetic instead of after it.
const (
	modeFirst = iota
	modeNext
	modeRest
)

func (v *variant) vbytes() int {
	if v.zmm {
		return 64
	}
	return 32
}

func (v *variant) top() string { return v.name + "_top" }

// pfW: the tile being emitted prefetches weights.
func (v *variant) pfW() bool { return v.pf > 0 && (v.mode != modeRest || !v.pfFirst) }

// entry is where a call starts: the dispatch of the first tile.
func (v *variant) entry() string { return v.name + "_first" }

// nextTop is the dispatch of the second tile.
func (v *variant) nextTop() string { return v.name + "_next" }

// restInit is where the later tiles' stream (pfS) is set up, once, after
// the second tile.
func (v *variant) restInit() string { return v.name + "_restinit" }

// after is where a tile of the current mode goes when it is done.
func (v *variant) after() string {
	switch {
	case v.pfFirst && v.mode == modeFirst:
		return v.nextTop()
	case v.pfS && v.mode == modeNext:
		return v.restInit()
	}
	return v.top()
}

// pfsEnd is the argument slot of pfs, which the rest tiles' set-up
// overwrites with the stream's end address.
func pfsEnd() Mem {
	b, err := Param("pfs").Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

func (v *variant) tileLabel(h int) string {
	switch {
	case !v.pfFirst || v.mode == modeRest:
		return fmt.Sprintf("%s_h%d", v.name, h)
	case v.mode == modeFirst:
		return fmt.Sprintf("%s_first_h%d", v.name, h)
	}
	return fmt.Sprintf("%s_next_h%d", v.name, h)
}

// lrow addresses lhs row i (< 15) of the tile, d bytes along k.
func lrow(i, d int) Mem {
	base := []Register{rA, rB, rC}[i/5]
	m := Mem{Base: base, Disp: d}
	switch i % 5 {
	case 1:
		m.Index, m.Scale = rX, 1
	case 2:
		m.Index, m.Scale = rX, 2
	case 3:
		m.Index, m.Scale = rX3, 1
	case 4:
		m.Index, m.Scale = rX, 4
	}
	return m
}

func (v *variant) sets(h int) int {
	if 2*h*v.nv <= len(v.acc) {
		return 2
	}
	return 1
}

func (v *variant) accReg(h, set, i, j int) VecPhysical {
	return v.acc[(set*h+i)*v.nv+j]
}

func (v *variant) loadW(m Mem, j int) { v.load(m, j, v.wregs[j]) }

// load loads vector j of a row (a weight row, or an output row into an
// accumulator): columns beyond w read as zero, and their memory is never
// touched.
func (v *variant) load(m Mem, j int, dst VecPhysical) {
	switch mk := v.masks[j]; {
	case mk == nil:
		VMOVUPS(m, dst)
	case v.zmm:
		VMOVUPS_Z(m, mk, dst)
	default:
		VMASKMOVPS(m, mk, dst)
	}
}

func (v *variant) store(src VecPhysical, m Mem, j int) {
	switch mk := v.masks[j]; {
	case mk == nil:
		VMOVUPS(src, m)
	case v.zmm:
		VMOVUPS(src, mk, m)
	default:
		VMASKMOVPS(src, mk, m)
	}
}

// step emits one k step of an h-row tile into accumulator set s: the
// weight row at w, the lhs values d bytes from the row pointers.
func (v *variant) step(h, s, d int, w Mem) {
	for j := range v.nv {
		v.loadW(w.Offset(j*v.vbytes()), j)
	}
	if v.pfW() {
		// The weight row pf steps ahead (rPF moves with rW).
		pm := Mem{Base: rPF, Index: w.Index, Scale: w.Scale}
		for j := range v.nv * v.vbytes() / 64 {
			PREFETCHT0(pm.Offset(64 * j))
		}
	}
	for i := range h {
		b := v.bregs[i%len(v.bregs)]
		VBROADCASTSS(lrow(i, d), b)
		for j := range v.nv {
			VFMADD231PS(v.wregs[j], b, v.accReg(h, s, i, j))
		}
	}
}

// tile emits the code for an h-row tile: the whole k loop, the stores,
// and the advance to the next tile.
func (v *variant) tile(h int) {
	lb := v.tileLabel(h)
	sets := v.sets(h)
	Label(lb)
	MOVQ(rL, rA)
	if h > 5 {
		LEAQ(Mem{Base: rA, Index: rX, Scale: 4}, rB)
		ADDQ(rX, rB)
	}
	if h > 10 {
		LEAQ(Mem{Base: rB, Index: rX, Scale: 4}, rC)
		ADDQ(rX, rC)
	}
	Load(Param("r"), rW)
	for s := range sets {
		for i := range h {
			for j := range v.nv {
				a := v.accReg(h, s, i, j)
				if v.zmm {
					VPXORD(a, a, a)
				} else {
					VXORPS(a, a, a)
				}
			}
		}
	}
	// acc: start from the output's values (the caller's earlier k
	// chunks) rather than zero.
	Load(Param("acc"), rT)
	TESTQ(rT, rT)
	JZ(LabelRef(lb + "_zeroed"))
	MOVQ(rO, rT)
	for i := range h {
		for j := range v.nv {
			v.load(Mem{Base: rT, Disp: j * v.vbytes()}, j, v.accReg(h, 0, i, j))
		}
		if i < h-1 {
			ADDQ(rLDO, rT)
		}
	}
	Label(lb + "_zeroed")
	if v.pfL {
		IMUL3Q(U32(h), rX, rT)
		ADDQ(rL, rT)
	}
	if v.pfW() && v.pfFirst && v.mode == modeNext {
		Load(Param("pfn"), rPF)
		ADDQ(rW, rPF)
	} else if v.pfW() {
		IMUL3Q(U32(v.pf), rLDR, rPF)
		ADDQ(rW, rPF)
	}
	Load(Param("k"), rK)
	SHRQ(U8(1), rK)
	JZ(LabelRef(lb + "_odd"))
	Label(lb + "_loop")
	if v.pfL {
		// The next tile's rows, when ldl = k, are one block of h·k·4
		// bytes; 8·h of it a loop iteration keeps pace with this tile.
		lines := (8*h + 63) / 64
		for j := range lines {
			PREFETCHT1(Mem{Base: rT, Disp: 64 * j})
		}
		ADDQ(U32(64*lines), rT)
	}
	if v.pfS && v.mode == modeRest {
		skip := lb + "_streamed"
		CMPQ(rPF, pfsEnd())
		JAE(LabelRef(skip))
		PREFETCHT2(Mem{Base: rPF})
		ADDQ(U8(64), rPF)
		Label(skip)
	}
	v.step(h, 0, 0, Mem{Base: rW})
	v.step(h, sets-1, 4, Mem{Base: rW, Index: rLDR, Scale: 1})
	for b := 0; b*5 < h; b++ {
		ADDQ(U8(8), []Register{rA, rB, rC}[b])
	}
	LEAQ(Mem{Base: rW, Index: rLDR, Scale: 2}, rW)
	if v.pfW() {
		LEAQ(Mem{Base: rPF, Index: rLDR, Scale: 2}, rPF)
	}
	DECQ(rK)
	JNZ(LabelRef(lb + "_loop"))

	Label(lb + "_odd")
	Load(Param("k"), rK)
	TESTQ(U32(1), rK)
	JZ(LabelRef(lb + "_store"))
	v.step(h, 0, 0, Mem{Base: rW})

	Label(lb + "_store")
	if sets == 2 {
		for i := range h {
			for j := range v.nv {
				a, b := v.accReg(h, 0, i, j), v.accReg(h, 1, i, j)
				VADDPS(b, a, a)
			}
		}
	}
	MOVQ(rO, rT)
	for i := range h {
		for j := range v.nv {
			v.store(v.accReg(h, 0, i, j), Mem{Base: rT, Disp: j * v.vbytes()}, j)
		}
		if i < h-1 {
			ADDQ(rLDO, rT)
		}
	}
	IMUL3Q(U32(h), rX, rT)
	ADDQ(rT, rL)
	IMUL3Q(U32(h), rLDO, rT)
	ADDQ(rT, rO)
	SUBQ(U32(h), rM)
	JMP(LabelRef(v.after()))
}

// body emits the tile loop: pick the next tile's height, run it, repeat.
// With pfFirst its code is there three times (the modes): the first tile
// of a call prefetches its weights, the second the next chunk's (pfn), the
// later ones nothing, since the first has brought the strip into L1/L2
// and a prefetch there only takes a load slot. Measured (fastest call of 300, noisy shared machine): AVX2 on 512
// rows 91 GFLOPS against 88 when every tile prefetches; AVX-512 164.5
// against 162.7 on 512 rows, 2048 rows tied (~150).
func (v *variant) body() {
	Label(v.entry())
	if v.pfFirst && v.pf > 0 {
		v.mode = modeFirst
		v.dispatch()
		Label(v.nextTop())
		v.mode = modeNext
		v.dispatch()
	}
	if v.pfS {
		// rPF = r + pfs, and the end k·ldr bytes on (none when pfs is 0).
		Label(v.restInit())
		Load(Param("r"), rPF)
		Load(Param("pfs"), rT)
		TESTQ(rT, rT)
		JZ(LabelRef(v.restInit() + "_none"))
		ADDQ(rT, rPF)
		Load(Param("k"), rT)
		IMULQ(rLDR, rT)
		ADDQ(rPF, rT)
		Store(rT, Param("pfs"))
		JMP(LabelRef(v.top()))
		Label(v.restInit() + "_none")
		Store(rPF, Param("pfs"))
	}
	v.mode = modeRest
	Label(v.top())
	v.dispatch()
}

func (v *variant) dispatch() {
	CMPQ(rM, U8(0))
	JLE(LabelRef("done"))
	CMPQ(rM, U32(2*v.maxH))
	JG(LabelRef(v.tileLabel(v.maxH)))
	MOVQ(rM, rT)
	CMPQ(rM, U32(v.maxH))
	pick := v.tileLabel(0) + "_pick"
	JLE(LabelRef(pick))
	// maxH < rows ≤ 2·maxH: two near-equal tiles, the larger first.
	INCQ(rT)
	SHRQ(U8(1), rT)
	Label(pick)
	for h := v.maxH; h > 1; h-- {
		CMPQ(rT, U32(h))
		JEQ(LabelRef(v.tileLabel(h)))
	}
	for h := 1; h <= v.maxH; h++ {
		v.tile(h)
	}
}

// setup loads the operands shared by every variant.
func setup() {
	Load(Param("l"), rL)
	Load(Param("o"), rO)
	Load(Param("m"), rM)
	Load(Param("ldl"), rX)
	SHLQ(U8(2), rX)
	LEAQ(Mem{Base: rX, Index: rX, Scale: 2}, rX3)
	Load(Param("ldr"), rLDR)
	SHLQ(U8(2), rLDR)
	Load(Param("ldo"), rLDO)
	SHLQ(U8(2), rLDO)
}

func zregs(from, to int) []VecPhysical {
	all := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	return all[from:to]
}

func yregs(from, to int) []VecPhysical {
	all := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	return all[from:to]
}

func gemmAVX512() {
	TEXT("gemmAVX512", NOSPLIT, sig)
	Doc("gemmAVX512 is the AVX-512 GEMM strip kernel (strip width 32): see embed/kernels/asm/gemm.")
	Pragma("noescape")
	setup()
	// Column masks: K1 = columns 0–15, K2 = 16–31 of (1<<w)-1.
	Load(Param("w"), RCX)
	MOVQ(U32(1), rT)
	SHLQ(CL, rT)
	DECQ(rT)
	KMOVW(EAX, K1)
	SHRQ(U8(16), rT)
	KMOVW(EAX, K2)
	v := &variant{
		name: "z", zmm: true, nv: 2, maxH: 14,
		acc: zregs(0, 28), wregs: zregs(28, 30), bregs: zregs(30, 32),
		masks: [2]Register{K1, K2},
		pf:    pfDist, pfL: true, pfFirst: true, pfS: true,
	}
	// A strip of at most 16 columns (attention over a short sequence,
	// the last strip of an odd width) needs one zmm a row: 14-row tiles
	// with two accumulator sets, half the FMAs of the two-vector tiles.
	narrow := &variant{
		name: "zn", zmm: true, nv: 1, maxH: 14,
		acc: zregs(0, 28), wregs: zregs(28, 29), bregs: zregs(29, 32),
		masks: [2]Register{K1},
		pf:    pfDist, pfL: true, pfFirst: true, pfS: true,
	}
	CMPQ(RCX, U8(16))
	JLE(LabelRef(narrow.entry()))
	v.body()
	narrow.body()
	Label("done")
	VZEROUPPER()
	RET()
}

func gemmAVX2() {
	TEXT("gemmAVX2", NOSPLIT, sig)
	Doc("gemmAVX2 is the AVX2+FMA GEMM strip kernel (strip width 16): see embed/kernels/asm/gemm.")
	// lanes: eight -1s then eight 0s; the 8 lanes from element 8-n on are
	// a VMASKMOVPS mask of the first n lanes.
	Pragma("noescape")
	lanes := GLOBL("gemmMaskLanes", RODATA|NOPTR)
	for i := range 16 {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	setup()
	full := &variant{
		name: "full", nv: 2, maxH: 6,
		acc: yregs(0, 12), wregs: yregs(12, 14), bregs: yregs(14, 16),
		pf: pfDist, pfFirst: true,
	}
	half := &variant{
		name: "half", nv: 2, maxH: 6,
		acc: yregs(0, 12), wregs: yregs(12, 14), bregs: yregs(14, 15),
		masks: [2]Register{nil, Y15},
		pf:    pfDist, pfFirst: true,
	}
	narrow := &variant{
		name: "narrow", nv: 1, maxH: 6,
		acc: yregs(0, 12), wregs: yregs(12, 13), bregs: yregs(13, 15),
		masks: [2]Register{Y15},
		pf:    pfDist, pfFirst: true,
	}
	Load(Param("w"), rT)
	CMPQ(rT, U8(16))
	JEQ(LabelRef(full.entry()))
	LEAQ(lanes, rC)
	CMPQ(rT, U8(8))
	JLE(LabelRef("narrowmask"))
	SUBQ(U8(8), rT)
	NEGQ(rT)
	VMOVDQU(Mem{Base: rC, Index: rT, Scale: 4, Disp: 32}, Y15)
	JMP(LabelRef(half.entry()))
	Label("narrowmask")
	NEGQ(rT)
	VMOVDQU(Mem{Base: rC, Index: rT, Scale: 4, Disp: 32}, Y15)
	JMP(LabelRef(narrow.entry()))
	full.body()
	half.body()
	narrow.body()
	Label("done")
	VZEROUPPER()
	RET()
}

// The FMA-throughput probes the tests measure peak with: n iterations of
// independent register-only FMA chains, enough of them to cover the
// latency on two FMA ports.
func peaks() {
	TEXT("fmaPeakAVX512", NOSPLIT, "func(n int)")
	Doc("fmaPeakAVX512 runs n iterations of 24 independent zmm FMAs (768 flops): the tests' peak probe.")
	Load(Param("n"), rK)
	for _, z := range zregs(0, 32) {
		VPXORD(z, z, z)
	}
	Label("loop")
	for _, z := range zregs(0, 24) {
		VFMADD231PS(Z30, Z31, z)
	}
	DECQ(rK)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()

	TEXT("fmaPeakAVX2", NOSPLIT, "func(n int)")
	Doc("fmaPeakAVX2 runs n iterations of 12 independent ymm FMAs (192 flops): the tests' peak probe.")
	Load(Param("n"), rK)
	for _, y := range yregs(0, 16) {
		VXORPS(y, y, y)
	}
	Label("loop")
	for _, y := range yregs(0, 12) {
		VFMADD231PS(Y14, Y15, y)
	}
	DECQ(rK)
	JNZ(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

func main() {
	gemmAVX512()
	gemmAVX2()
	peaks()
	Generate()
}
