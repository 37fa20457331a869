// Command elem generates the element-wise kernels of embed/kernels/vec for
// amd64 (AVX-512 and AVX2+FMA): max, exp(x-m) with its sum, scale, sum,
// GELU, bias+GELU and the broadcasting Add/Sub/Mul/Div.
//
//	cd embed/kernels/asm && go run ./elem -out ../vec/elem_amd64.s -stubs ../vec/elem_amd64.go -pkg vec
//
// Every kernel takes any n > 0 (the impls' vl is 1): blocks of several
// vectors, then single vectors, then one vector for the last n mod VL
// elements, loaded under an AVX-512 opmask or by exact pieces on AVX2 (see
// loadTail), and stored by exact pieces (see store).
// A row's elements all take the vector path, so none depends on where it
// sits, and short rows (a 12-token query's attention) are vectorised too.
//
// The math is vec/math.go's: Cephes expf (n rounded with the 1.5·2²³
// trick; 2^n applied with VSCALEFPS on AVX-512, on AVX2 by adding n to the
// exponent field, right for every clamped input, n = 128 included), the
// XLA/Eigen erf rational approximation and exact GELU, with fused
// multiply-adds (1 + erf as (Q + z·P)/Q, exactly 0 at the clamp). Max
// relative error of exp 7e-8, absolute of GELU 8e-7 (the Go code's: 8e-8,
// 1e-6). Clamps keep NaN (the input is the second source of
// VMAXPS/VMINPS), so NaN in gives NaN out as in the Go code. The binary
// operations are one IEEE operation per element, bit-identical to Go's
// float32 arithmetic.
//
// The kernels are bound by floating-point issue ports (exp ~15, GELU ~20
// instructions a vector), not by latency: unrolling past what is here
// measured no faster, and a reciprocal with a Newton step instead of
// GELU's division neither.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/mnemo-mcp/mnemo/embed/kernels/asm/internal/gencheck"
)

// The constants of vec/math.go, as float32.
const (
	expLo    = -87.33654
	expHi    = 88.72283
	log2e    = 1.44269504088896341
	ln2Hi    = 0.693359375
	ln2Lo    = -2.12194440e-4
	erfClamp = 4.0
)

var (
	expP     = []float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}
	erfAlpha = []float32{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
		-5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	erfBeta = []float32{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
		-7.37332916720468e-03, -1.42647390514189e-02}
)

// consts: each float32 constant eight times (32 bytes), so AVX2 code can
// use it as a memory operand and AVX-512 code can broadcast it.
var (
	constTab  Mem
	constOff  = map[string]int{}
	ymaskTab  Mem // 8 × all-ones then 8 × zero: AVX2 tail masks
	kmaskTab  Mem // (1<<t)-1 for t < 16: AVX-512 tail masks
	constList []string
)

func defConsts() {
	vals := map[string]float32{
		"negInf": float32(math.Inf(-1)),
		"nan":    float32(math.NaN()),
		"expLo":  expLo,
		"expHi":  expHi,
		"log2e":  log2e,
		"magic":  1.5 * (1 << 23), // x + magic rounds x to an integer (ties to even) in the low mantissa bits
		"nln2Hi": -ln2Hi,
		"nln2Lo": -ln2Lo,
		"one":    1,
		"half":   0.5,
		"rsqrt2": float32(1 / math.Sqrt2),
		"erfLo":  -erfClamp,
		"erfHi":  erfClamp,
	}
	for i, v := range expP {
		vals[fmt.Sprintf("p%d", i)] = v
	}
	for i, v := range erfAlpha {
		vals[fmt.Sprintf("a%d", i)] = v
	}
	for i, v := range erfBeta {
		vals[fmt.Sprintf("b%d", i)] = v
	}
	names := []string{"negInf", "nan", "expLo", "expHi", "log2e", "magic", "nln2Hi", "nln2Lo", "one", "half", "rsqrt2", "erfLo", "erfHi"}
	for i := range expP {
		names = append(names, fmt.Sprintf("p%d", i))
	}
	for i := range erfAlpha {
		names = append(names, fmt.Sprintf("a%d", i))
	}
	for i := range erfBeta {
		names = append(names, fmt.Sprintf("b%d", i))
	}
	constTab = GLOBL("elemconst", RODATA|NOPTR)
	for i, name := range names {
		constOff[name] = 32 * i
		for j := range 8 {
			DATA(32*i+4*j, U32(math.Float32bits(vals[name])))
		}
	}
	constList = names

	ymaskTab = GLOBL("elemymask", RODATA|NOPTR)
	for i := range 16 {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	kmaskTab = GLOBL("elemkmask", RODATA|NOPTR)
	for i := range 16 {
		DATA(2*i, U16(uint16(1<<i-1)))
	}
}

func cmem(name string) Mem {
	off, ok := constOff[name]
	if !ok {
		panic("no constant " + name)
	}
	return constTab.Offset(off)
}

// isa is one instruction set's code generator.
type isa struct {
	suffix string // of the function names: AVX512, AVX2
	vl     int    // float32 lanes per vector
	z      bool   // AVX-512: 32 vector registers, opmasks, VSCALEFPS
}

var (
	avx512 = &isa{"AVX512", 16, true}
	avx2   = &isa{"AVX2", 8, false}
)

func (s *isa) vec() reg.VecVirtual {
	if s.z {
		return ZMM()
	}
	return YMM()
}

// consts makes the named constants available: in registers (broadcast
// once, before the loop) when named in regs or on AVX-512, else as 32-byte
// memory operands (AVX2 has 16 registers only).
func (s *isa) consts(regs []string, others ...string) map[string]Op {
	m := map[string]Op{}
	bc := func(name string) {
		v := s.vec()
		VBROADCASTSS(cmem(name), v)
		m[name] = v
	}
	for _, n := range regs {
		bc(n)
	}
	for _, n := range others {
		if s.z {
			bc(n)
		} else {
			m[n] = cmem(n)
		}
	}
	return m
}

// mov copies a register or memory operand into a register.
func mov(src Op, dst reg.Register) {
	if _, ok := src.(Mem); ok {
		VMOVUPS(src, dst)
	} else {
		VMOVAPS(src, dst)
	}
}

// mask is the tail's: the first t lanes valid.
type mask struct {
	n reg.GPVirtual     // t, 0 < t < VL
	k reg.OpmaskVirtual // AVX-512: the first t bits set, made by kmask when needed
	y reg.VecVirtual    // AVX2: all-ones lanes, made by ymask when needed
}

func (s *isa) mask(n reg.GPVirtual) *mask { return &mask{n: n} }

// kmask is the AVX-512 tail's opmask.
func (mk *mask) kmask() reg.OpmaskVirtual {
	if mk.k == nil {
		t := GP64()
		mk.k = K()
		LEAQ(kmaskTab, t)
		KMOVW(Mem{Base: t, Index: mk.n, Scale: 2}, mk.k)
	}
	return mk.k
}

// ymask is the AVX2 tail's lane mask.
func (mk *mask) ymask() reg.VecVirtual {
	if mk.y == nil {
		t, o := GP64(), GP64()
		MOVQ(mk.n, o)
		SHLQ(U8(2), o)
		NEGQ(o)
		LEAQ(ymaskTab, t)
		mk.y = YMM()
		VMOVDQU(Mem{Base: t, Index: o, Scale: 1, Disp: 32}, mk.y)
	}
	return mk.y
}

// load reads one vector (zero in masked-out lanes).
func (s *isa) load(m Mem, mk *mask) reg.VecVirtual {
	v := s.vec()
	switch {
	case mk == nil:
		VMOVUPS(m, v)
	case s.z:
		VMOVUPS_Z(m, mk.kmask(), v)
	default:
		s.loadTail(m, mk.n, v)
	}
	return v
}

// loadTail reads the AVX2 tail's first t < 8 lanes into v (zero above) by
// exact pieces of 4, 2 and 1 lanes. VMASKMOVPS would do it in one
// instruction, but AMD documents its behaviour for masked-out elements
// (a page fault past the end of the heap?) as implementation dependent;
// and a masked load whose masked-out bytes overlap a recent store (small
// out-of-place operands allocated back to back) waits for that store to
// retire: bias+GELU of 12 floats took 35 ns instead of 15. AVX-512 masked
// loads never fault on masked-out elements; they keep the stall, which
// needs that rare layout, because loading by pieces of 8, 4, 2, 1 cost
// softmax rows with a tail 3 ns each.
func (s *isa) loadTail(m Mem, n reg.GPVirtual, v reg.VecVirtual) {
	if m.Disp != 0 || m.Index != nil || s.z {
		panic("loadTail: AVX2, at the pointer")
	}
	labels++
	lbl := func(k string) string { return fmt.Sprintf("load%d_%s", labels, k) }
	lo, hi := v.AsX(), XMM()
	VXORPS(v, v, v)
	VXORPS(hi, hi, hi)
	// rest loads the t&3 lanes at base+o into r.
	rest := func(o int, r reg.Register, k string) {
		TESTQ(U32(2), n)
		JZ(LabelRef(lbl(k + "1")))
		VMOVSD(Mem{Base: m.Base, Disp: o}, r)
		TESTQ(U32(1), n)
		JZ(LabelRef(lbl(k + "end")))
		VINSERTPS(U8(0x20), Mem{Base: m.Base, Disp: o + 8}, r, r) // lane 2
		JMP(LabelRef(lbl(k + "end")))
		Label(lbl(k + "1"))
		TESTQ(U32(1), n)
		JZ(LabelRef(lbl(k + "end")))
		VMOVSS(Mem{Base: m.Base, Disp: o}, r)
		Label(lbl(k + "end"))
	}
	TESTQ(U32(4), n)
	JZ(LabelRef(lbl("lo")))
	VMOVUPS(Mem{Base: m.Base}, lo)
	rest(16, hi, "hi")
	JMP(LabelRef(lbl("join")))
	Label(lbl("lo"))
	rest(0, lo, "lo")
	Label(lbl("join"))
	VINSERTF128(U8(1), hi, v, v)
}

// store writes one vector; the tail's first t lanes only, by pieces of
// 8, 4, 2 and 1 lanes. A masked store would do it in one instruction, but
// the CPU treats its masked-out bytes as written: a load of the next row
// (softmax rows lie back to back) then waits for the store to retire
// instead of taking its data from the store buffer, ~80 cycles a row.
func (s *isa) store(v reg.VecVirtual, m Mem, mk *mask) {
	if mk == nil {
		VMOVUPS(v, m)
		return
	}
	if m.Disp != 0 || m.Index != nil {
		panic("tail store at an offset")
	}
	labels++
	lbl := func(k int) string { return fmt.Sprintf("tail%d_%d", labels, k) }
	q := GP64()
	MOVQ(m.Base, q)
	x, y := v.AsX(), v.AsY()
	if s.z {
		TESTQ(U32(8), mk.n)
		JZ(LabelRef(lbl(4)))
		VMOVUPS(y, Mem{Base: q})
		VEXTRACTF64X4(U8(1), v, y)
		ADDQ(U32(32), q)
		Label(lbl(4))
	} else {
		y = v
	}
	TESTQ(U32(4), mk.n)
	JZ(LabelRef(lbl(2)))
	VMOVUPS(x, Mem{Base: q})
	VEXTRACTF128(U8(1), y, x)
	ADDQ(U32(16), q)
	Label(lbl(2))
	TESTQ(U32(2), mk.n)
	JZ(LabelRef(lbl(1)))
	VMOVLPS(x, Mem{Base: q})
	VMOVHLPS(x, x, x)
	ADDQ(U32(8), q)
	Label(lbl(1))
	TESTQ(U32(1), mk.n)
	JZ(LabelRef(lbl(0)))
	VMOVSS(x, Mem{Base: q})
	Label(lbl(0))
}

var labels int

// src is a vector operand: the memory itself when whole, else loaded
// under the mask.
func (s *isa) src(m Mem, mk *mask) Op {
	if mk == nil {
		return m
	}
	return s.load(m, mk)
}

// loop runs body over n elements: u vectors at a time, then one, then a
// masked tail. body's j-th vector of an array at p is at p + j·VL·4; the
// pointers advance after each step. n is consumed.
func (s *isa) loop(name string, n reg.GPVirtual, ptrs []reg.GPVirtual, u int, body func(u int, mk *mask)) {
	step := func(u int, next string) {
		lbl := fmt.Sprintf("%s_x%d", name, u)
		Label(lbl)
		CMPQ(n, U32(u*s.vl))
		JB(LabelRef(next))
		body(u, nil)
		for _, p := range ptrs {
			ADDQ(U32(4*u*s.vl), p)
		}
		SUBQ(U32(u*s.vl), n)
		JMP(LabelRef(lbl))
	}
	if u > 1 {
		step(u, name+"_x1")
	}
	step(1, name+"_tail")
	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	body(1, s.mask(n))
	Label(name + "_done")
}

func at(p reg.GPVirtual, j int, s *isa) Mem { return Mem{Base: p, Disp: 4 * j * s.vl} }

// hreduce folds v's lanes with op (VADDPS or VMAXPS) into lane 0 of the
// returned XMM register.
func (s *isa) hreduce(v reg.VecVirtual, op func(...Op)) reg.VecVirtual {
	y := v
	if s.z {
		y = YMM()
		VEXTRACTF64X4(U8(1), v, y)
		op(y, v.AsY(), y)
	}
	x := XMM()
	VEXTRACTF128(U8(1), y, x)
	op(x, y.AsX(), x)
	t := XMM()
	VMOVHLPS(x, x, t)
	op(t, x, x)
	VMOVSHDUP(x, t)
	op(t, x, x)
	return x
}

// fold combines accumulators pairwise into the first.
func fold(acc []reg.VecVirtual, op func(...Op)) reg.VecVirtual {
	for len(acc) > 1 {
		h := (len(acc) + 1) / 2
		for i := h; i < len(acc); i++ {
			op(acc[i], acc[i-h], acc[i-h])
		}
		acc = acc[:h]
	}
	return acc[0]
}

func (s *isa) fn(name, sig string) string {
	full := name + s.suffix
	TEXT(full, NOSPLIT, sig)
	Pragma("noescape")
	return full
}

func ret() {
	VZEROUPPER()
	RET()
}

// maxf: max(x[0:n]), NaN if any element is NaN. The accumulators never
// take a NaN (VMAXPS returns its second source, the accumulator, when
// either is NaN); unordered compares record NaNs apart.
func (s *isa) maxf(u int) {
	name := s.fn("maxf", "func(x *float32, n int) float32")
	x := Load(Param("x"), GP64()).(reg.GPVirtual)
	n := Load(Param("n"), GP64()).(reg.GPVirtual)
	c := s.consts([]string{"negInf"})
	acc := make([]reg.VecVirtual, u)
	for j := range acc {
		acc[j] = s.vec()
		VMOVAPS(c["negInf"], acc[j])
	}
	var knan reg.OpmaskVirtual
	var ynan reg.VecVirtual
	if s.z {
		knan = K()
		KXORW(knan, knan, knan)
	} else {
		ynan = YMM()
		VXORPS(ynan, ynan, ynan)
	}
	s.loop(name, n, []reg.GPVirtual{x}, u, func(u int, mk *mask) {
		v := make([]reg.VecVirtual, u)
		for j := range v {
			v[j] = s.load(at(x, j, s), mk)
			if mk != nil && !s.z {
				VBLENDVPS(mk.ymask(), v[j], c["negInf"], v[j])
			}
		}
		for j := 0; j < u; j += 2 {
			b := v[j]
			if j+1 < u {
				b = v[j+1]
			}
			if s.z {
				k := K()
				VCMPPS(U8(3), b, v[j], k) // unordered: either is NaN
				KORW(k, knan, knan)
			} else {
				t := YMM()
				VCMPPS(U8(3), b, v[j], t)
				VORPS(t, ynan, ynan)
			}
		}
		for j := range v {
			if mk != nil && s.z {
				VMAXPS(acc[j], v[j], mk.kmask(), acc[j])
			} else {
				VMAXPS(acc[j], v[j], acc[j])
			}
		}
	})
	r := s.hreduce(fold(acc, VMAXPS), VMAXPS)
	if s.z {
		KORTESTW(knan, knan)
	} else {
		t := GP32()
		VMOVMSKPS(ynan, t)
		TESTL(t, t)
	}
	JZ(LabelRef(name + "_ret"))
	VMOVSS(cmem("nan"), r)
	Label(name + "_ret")
	storeRet(r)
	ret()
}

// sum: Σ x[0:n] in u accumulators.
func (s *isa) sum(u int) {
	name := s.fn("sum", "func(x *float32, n int) float32")
	x := Load(Param("x"), GP64()).(reg.GPVirtual)
	n := Load(Param("n"), GP64()).(reg.GPVirtual)
	acc := make([]reg.VecVirtual, u)
	for j := range acc {
		acc[j] = s.vec()
		VXORPS(acc[j], acc[j], acc[j])
	}
	s.loop(name, n, []reg.GPVirtual{x}, u, func(u int, mk *mask) {
		for j := range u {
			VADDPS(s.src(at(x, j, s), mk), acc[j], acc[j]) // the tail's other lanes are 0
		}
	})
	storeRet(s.hreduce(fold(acc, VADDPS), VADDPS))
	ret()
}

// scale: y[0:n] *= s.
func (s *isa) scale(u int) {
	name := s.fn("scale", "func(y *float32, n int, s float32)")
	y := Load(Param("y"), GP64()).(reg.GPVirtual)
	n := Load(Param("n"), GP64()).(reg.GPVirtual)
	sv := s.vec()
	VBROADCASTSS(paramAddr("s"), sv)
	s.loop(name, n, []reg.GPVirtual{y}, u, func(u int, mk *mask) {
		v := make([]reg.VecVirtual, u)
		for j := range u {
			v[j] = s.vec()
			VMULPS(s.src(at(y, j, s), mk), sv, v[j])
		}
		for j := range u {
			s.store(v[j], at(y, j, s), mk)
		}
	})
	ret()
}

var expRegs = map[bool][]string{
	true:  {"expLo", "expHi", "log2e", "magic", "nln2Hi", "nln2Lo", "p0", "p1", "p2", "p3", "p4", "p5", "one"},
	false: {"expLo", "expHi", "log2e"},
}

// exp overwrites x with garbage and returns e^x (x clamped to
// [ExpLo, ExpHi]; NaN stays NaN).
func (s *isa) exp(x reg.VecVirtual, c map[string]Op) reg.VecVirtual {
	VMAXPS(x, c["expLo"], x) // x second: a NaN x is the result
	VMINPS(x, c["expHi"], x)
	n, y := s.vec(), s.vec()
	VMOVAPS(x, n)
	VFMADD213PS(c["magic"], c["log2e"], n) // x·log2e + 1.5·2²³: rounded to an integer, ties to even
	VSUBPS(c["magic"], n, n)
	VFMADD231PS(c["nln2Hi"], n, x) // r = x - n·ln2
	VFMADD231PS(c["nln2Lo"], n, x)
	mov(c["p0"], y)
	for i := 1; i < len(expP); i++ {
		VFMADD213PS(c[fmt.Sprintf("p%d", i)], x, y) // y = y·r + p_i
	}
	VFMADD213PS(c["one"], x, y) // (y·r + 1)·r + 1 = y·r² + r + 1
	VFMADD213PS(c["one"], x, y)
	if s.z {
		VSCALEFPS(n, y, y)
	} else {
		// y ∈ [0.7, 1.42] and n ∈ [-126, 128]: adding n to the exponent
		// field neither overflows (y < 1 when n = 128) nor goes negative.
		// VCVTPS2DQ turns a NaN n into 0x80000000, whose shift is 0.
		VCVTPS2DQ(n, n)
		VPSLLD(U8(23), n, n)
		VPADDD(n, y, y)
	}
	return y
}

// expSub: y[i] = exp(x[i] - m), returning Σ y.
func (s *isa) expSub(u int) {
	name := s.fn("expSub", "func(x, y *float32, n int, m float32) float32")
	x := Load(Param("x"), GP64()).(reg.GPVirtual)
	y := Load(Param("y"), GP64()).(reg.GPVirtual)
	n := Load(Param("n"), GP64()).(reg.GPVirtual)
	mv := s.vec()
	VBROADCASTSS(paramAddr("m"), mv)
	c := s.consts(expRegs[s.z], "magic", "nln2Hi", "nln2Lo", "p0", "p1", "p2", "p3", "p4", "p5", "one")
	acc := make([]reg.VecVirtual, min(u, 2))
	for j := range acc {
		acc[j] = s.vec()
		VXORPS(acc[j], acc[j], acc[j])
	}
	s.loop(name, n, []reg.GPVirtual{x, y}, u, func(u int, mk *mask) {
		for j := range u {
			v := s.load(at(x, j, s), mk)
			VSUBPS(mv, v, v)
			e := s.exp(v, c)
			a := acc[j%len(acc)]
			switch {
			case mk == nil:
				VADDPS(e, a, a)
			case s.z:
				VADDPS(e, a, mk.kmask(), a)
			default:
				VANDPS(mk.ymask(), e, e)
				VADDPS(e, a, a)
			}
			s.store(e, at(y, j, s), mk)
		}
	})
	storeRet(s.hreduce(fold(acc, VADDPS), VADDPS))
	ret()
}

var geluRegs = map[bool][]string{
	true: {"rsqrt2", "erfLo", "erfHi", "half",
		"a0", "a1", "a2", "a3", "a4", "a5", "a6", "b0", "b1", "b2", "b3", "b4"},
	false: {"erfLo", "erfHi"},
}

// gelu returns x·½·(1 + erf(x/√2)), erf(z) = z·P(z²)/Q(z²) on z clamped
// to [-4, 4]; 1 + erf is evaluated as (Q + z·P)/Q.
func (s *isa) gelu(x reg.VecVirtual, c map[string]Op) reg.VecVirtual {
	z := s.vec()
	VMULPS(c["rsqrt2"], x, z)
	VMAXPS(z, c["erfLo"], z)
	VMINPS(z, c["erfHi"], z)
	z2, p, q := s.vec(), s.vec(), s.vec()
	VMULPS(z, z, z2)
	mov(c["a0"], p)
	for i := 1; i < len(erfAlpha); i++ {
		VFMADD213PS(c[fmt.Sprintf("a%d", i)], z2, p)
	}
	mov(c["b0"], q)
	for i := 1; i < len(erfBeta); i++ {
		VFMADD213PS(c[fmt.Sprintf("b%d", i)], z2, q)
	}
	VFMADD213PS(q, z, p) // Q + z·P
	// A reciprocal estimate with a Newton step is no faster here: the
	// kernel is bound by its other ~18 floating-point instructions.
	VDIVPS(q, p, p)
	VMULPS(c["half"], x, z)
	VMULPS(p, z, z)
	return z
}

func (s *isa) geluConsts() map[string]Op {
	return s.consts(geluRegs[s.z], "rsqrt2", "half",
		"a0", "a1", "a2", "a3", "a4", "a5", "a6", "b0", "b1", "b2", "b3", "b4")
}

// geluK: y[i] = gelu(x[i] (+ b[i])).
func (s *isa) geluK(u int, bias bool) {
	var x, b, y reg.GPVirtual
	var name string
	if bias {
		name = s.fn("biasGelu", "func(x, b, y *float32, n int)")
		b = Load(Param("b"), GP64()).(reg.GPVirtual)
	} else {
		name = s.fn("gelu", "func(x, y *float32, n int)")
	}
	x = Load(Param("x"), GP64()).(reg.GPVirtual)
	y = Load(Param("y"), GP64()).(reg.GPVirtual)
	n := Load(Param("n"), GP64()).(reg.GPVirtual)
	c := s.geluConsts()
	ptrs := []reg.GPVirtual{x, y}
	if bias {
		ptrs = append(ptrs, b)
	}
	s.loop(name, n, ptrs, u, func(u int, mk *mask) {
		r := make([]reg.VecVirtual, u)
		for j := range u {
			v := s.load(at(x, j, s), mk)
			if bias {
				VADDPS(s.src(at(b, j, s), mk), v, v)
			}
			r[j] = s.gelu(v, c)
		}
		for j := range u {
			s.store(r[j], at(y, j, s), mk)
		}
	})
	ret()
}

type binop struct {
	name string
	f    func(...Op)
}

var binops = []binop{{"add", VADDPS}, {"sub", VSUBPS}, {"mul", VMULPS}, {"div", VDIVPS}}

// binary generates op's three forms: y = a op c, a op s, s op c.
func (s *isa) binary(op binop, u int) {
	{
		name := s.fn(op.name+"VV", "func(a, c, y *float32, n int)")
		a := Load(Param("a"), GP64()).(reg.GPVirtual)
		cc := Load(Param("c"), GP64()).(reg.GPVirtual)
		y := Load(Param("y"), GP64()).(reg.GPVirtual)
		n := Load(Param("n"), GP64()).(reg.GPVirtual)
		s.loop(name, n, []reg.GPVirtual{a, cc, y}, u, func(u int, mk *mask) {
			v := make([]reg.VecVirtual, u)
			for j := range u {
				v[j] = s.load(at(a, j, s), mk)
				op.f(s.src(at(cc, j, s), mk), v[j], v[j]) // v = v op c
			}
			for j := range u {
				s.store(v[j], at(y, j, s), mk)
			}
		})
		ret()
	}
	{
		name := s.fn(op.name+"VS", "func(a *float32, s float32, y *float32, n int)")
		a := Load(Param("a"), GP64()).(reg.GPVirtual)
		y := Load(Param("y"), GP64()).(reg.GPVirtual)
		n := Load(Param("n"), GP64()).(reg.GPVirtual)
		sv := s.vec()
		VBROADCASTSS(paramAddr("s"), sv)
		s.loop(name, n, []reg.GPVirtual{a, y}, u, func(u int, mk *mask) {
			v := make([]reg.VecVirtual, u)
			for j := range u {
				v[j] = s.load(at(a, j, s), mk)
				op.f(sv, v[j], v[j]) // v = v op s
			}
			for j := range u {
				s.store(v[j], at(y, j, s), mk)
			}
		})
		ret()
	}
	{
		name := s.fn(op.name+"SV", "func(s float32, c, y *float32, n int)")
		cc := Load(Param("c"), GP64()).(reg.GPVirtual)
		y := Load(Param("y"), GP64()).(reg.GPVirtual)
		n := Load(Param("n"), GP64()).(reg.GPVirtual)
		sv := s.vec()
		VBROADCASTSS(paramAddr("s"), sv)
		s.loop(name, n, []reg.GPVirtual{cc, y}, u, func(u int, mk *mask) {
			v := make([]reg.VecVirtual, u)
			for j := range u {
				v[j] = s.vec()
				op.f(s.src(at(cc, j, s), mk), sv, v[j]) // v = s op c
			}
			for j := range u {
				s.store(v[j], at(y, j, s), mk)
			}
		})
		ret()
	}
}

func main() {
	flag.Parse()
	defConsts()
	for _, s := range []*isa{avx512, avx2} {
		s.maxf(4)
		s.sum(4)
		s.scale(4)
		if s.z {
			s.expSub(4)
			s.geluK(2, false)
			s.geluK(2, true)
		} else {
			s.expSub(2)
			s.geluK(2, false)
			s.geluK(2, true)
		}
		for _, op := range binops {
			s.binary(op, 4)
		}
	}
	Generate()
	if err := gencheck.CheckAVX2(flag.Lookup("out").Value.String()); err != nil {
		fmt.Fprintln(os.Stderr, "elem:", err)
		os.Exit(1)
	}
}

// storeRet stores lane 0 of x as the float32 result (VMOVSS: no SSE
// instruction while the upper halves are dirty).
func storeRet(x reg.VecVirtual) {
	b, err := ReturnIndex(0).Resolve()
	if err != nil {
		panic(err)
	}
	VMOVSS(x, b.Addr)
}

// paramAddr is the frame address of a float32 argument, to broadcast from.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
