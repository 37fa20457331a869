package vec

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// impl is one CPU family's set of kernels. A nil kernel falls back to the
// generic one. Pointers are to the first element; strides and counts are
// in elements (float32s), never bytes.
type impl struct {
	name      string
	supported func() bool

	// stripW is the GEMM's strip width: the most output columns one gemm
	// call computes, and the width of a packed weight's strips (Pack).
	stripW int
	// gemm: o[i·ldo+j] = Σ_p l[i·ldl+p] · r[p·ldr+j], for i < m, j < w,
	// overwriting o, or adding to it when acc ≠ 0 (only for an impl with
	// kchunk > 0). m ≥ 1, k ≥ 1, 1 ≤ w ≤ stripW. pfn: where the rows to
	// prefetch next are, in bytes from r (0: none); pfs: where the next
	// strip of a packed weight is, in bytes from r, for a product of many
	// tiles to stream into L2 meanwhile (0: none). Both are hints, never
	// dereferenced.
	gemm func(l, r, o *float32, m, k, w, ldl, ldr, ldo, acc, pfn, pfs int)
	// kchunk, when > 0: a product of more rows than one tile's (tileRows)
	// and at most two tiles' is computed kchunk steps of k at a time
	// (GemmStrips), each chunk's weights in L1 for both tiles while the
	// next chunk streams in.
	kchunk, tileRows int

	// vl is the element kernels' step: they are called only with n > 0 a
	// multiple of vl; the wrappers do the rest in scalar Go.
	vl int
	// maxf returns max(x[0:n]).
	maxf func(x *float32, n int) float32
	// expSub writes y[i] = exp(x[i] - m) (y may be x) and returns Σ y[i].
	// As in softmax, m ≥ every x[i] (NaN aside): arguments are ≤ 0.
	expSub func(x, y *float32, n int, m float32) float32
	// scale multiplies y[0:n] by s in place.
	scale func(y *float32, n int, s float32)
	// sum returns Σ x[0:n].
	sum func(x *float32, n int) float32
	// gelu writes y[i] = gelu(x[i]); biasGelu y[i] = gelu(x[i] + b[i]).
	// y may be x.
	gelu     func(x, y *float32, n int)
	biasGelu func(x, b, y *float32, n int)
	// binVV: y[i] = a[i] op c[i]; binVS: y[i] = a[i] op s; binSV:
	// y[i] = s op c[i]. y may alias a or c. Indexed by Op.
	binVV [numOps]func(a, c, y *float32, n int)
	binVS [numOps]func(a *float32, s float32, y *float32, n int)
	binSV [numOps]func(s float32, c, y *float32, n int)

	// dotsI8: out[i] = Σ_j q[j]·c[i·d+j] for i < rows; d > 0 is a multiple
	// of DotsI8Step (DotsI8). Row i's value must not depend on rows or i:
	// each row summed in the same order wherever it is.
	dotsI8 func(q *float32, c *int8, d, rows int, out *float32)
}

// Op is an element-wise binary operation.
type Op int

const (
	Add Op = iota
	Sub
	Mul
	Div
	numOps
)

func (o Op) String() string {
	switch o {
	case Add:
		return "add"
	case Sub:
		return "sub"
	case Mul:
		return "mul"
	case Div:
		return "div"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// impls lists every implementation built for this architecture, best
// first; the last is always generic. Architecture files add theirs in
// init (register).
var impls = []*impl{genericImpl}

func register(i *impl) { impls = append(impls, i) }

// rank orders implementations best first.
var rank = map[string]int{"avx512": 0, "neon": 1, "avx2": 2, "generic": 9}

func sortImpls() {
	for i := 1; i < len(impls); i++ {
		for j := i; j > 0 && rank[impls[j].name] < rank[impls[j-1].name]; j-- {
			impls[j], impls[j-1] = impls[j-1], impls[j]
		}
	}
}

var (
	active     atomic.Pointer[resolved]
	activeOnce sync.Once
)

// resolved is an impl with every nil kernel replaced by the generic one.
type resolved struct{ impl }

func resolve(i *impl) *resolved {
	r := &resolved{*i}
	g := genericImpl
	if r.gemm == nil {
		r.gemm, r.stripW, r.kchunk, r.tileRows = g.gemm, g.stripW, 0, 0
	}
	if r.maxf == nil || r.expSub == nil || r.scale == nil || r.sum == nil || r.gelu == nil || r.biasGelu == nil || r.vl == 0 {
		// The element kernels come as a set: one vl for all.
		r.vl, r.maxf, r.expSub, r.scale, r.sum, r.gelu, r.biasGelu = g.vl, g.maxf, g.expSub, g.scale, g.sum, g.gelu, g.biasGelu
		r.binVV, r.binVS, r.binSV = g.binVV, g.binVS, g.binSV
	}
	if r.dotsI8 == nil {
		r.dotsI8 = g.dotsI8
	}
	for op := range numOps {
		if r.binVV[op] == nil || r.binVS[op] == nil || r.binSV[op] == nil {
			r.binVV[op], r.binVS[op], r.binSV[op] = g.binVV[op], g.binVS[op], g.binSV[op]
		}
	}
	return r
}

// pickBest activates the best supported implementation, once, on first
// use: the architecture files fill in their kernels in init functions,
// whose order among files is not to be relied on.
func pickBest() {
	activeOnce.Do(func() {
		sortImpls()
		for _, i := range impls {
			if i.usable() {
				active.CompareAndSwap(nil, resolve(i))
				return
			}
		}
	})
}

func cur() *resolved {
	if r := active.Load(); r != nil {
		return r
	}
	pickBest()
	return active.Load()
}

// usable: the CPU can run it and it has at least one kernel of its own.
func (i *impl) usable() bool {
	return i.supported() && (i == genericImpl || len(i.missing()) < numKernels)
}

const numKernels = 8 + 3*int(numOps)

// missing names the kernels the implementation leaves to generic.
func (i *impl) missing() []string {
	var out []string
	add := func(ok bool, name string) {
		if !ok {
			out = append(out, name)
		}
	}
	add(i.gemm != nil && i.stripW > 0, "gemm")
	add(i.maxf != nil, "maxf")
	add(i.expSub != nil, "expSub")
	add(i.scale != nil, "scale")
	add(i.sum != nil, "sum")
	add(i.gelu != nil, "gelu")
	add(i.biasGelu != nil, "biasGelu")
	add(i.dotsI8 != nil, "dotsI8")
	for op := range numOps {
		add(i.binVV[op] != nil, op.String()+"VV")
		add(i.binVS[op] != nil, op.String()+"VS")
		add(i.binSV[op] != nil, op.String()+"SV")
	}
	return out
}

// Levels lists the implementations this build and CPU can run, best first
// (e.g. "avx512", "avx2", "generic").
func Levels() []string {
	pickBest()
	var out []string
	for _, i := range impls {
		if i.usable() {
			out = append(out, i.name)
		}
	}
	return out
}

// Built lists the implementations compiled into this binary for its
// architecture, whether or not this CPU can run them.
func Built() []string {
	pickBest()
	var out []string
	for _, i := range impls {
		if i == genericImpl || len(i.missing()) < numKernels {
			out = append(out, i.name)
		}
	}
	return out
}

// Use makes the named implementation the active one. It fails for a name
// this CPU cannot run. Weights packed under another implementation must
// not be used after (their strip width may differ).
func Use(name string) error {
	pickBest()
	for _, i := range impls {
		if i.name == name {
			if !i.usable() {
				return fmt.Errorf("kernels %q need CPU features this machine lacks", name)
			}
			active.Store(resolve(i))
			return nil
		}
	}
	return fmt.Errorf("no %q kernels in this build (built: %v)", name, Built())
}

// Active is the name of the implementation in use.
func Active() string { return cur().name }

// Best is the best implementation this CPU supports.
func Best() string { return Levels()[0] }

// StripWidth is the active GEMM's strip width: packed weights need a
// column count that is a multiple of it.
func StripWidth() int { return cur().stripW }

func ptr(s []float32) *float32 { return unsafe.SliceData(s) }

// Softmax writes softmax(x) to y (y may be x).
func Softmax(x, y []float32) {
	n := len(x)
	if n == 0 {
		return
	}
	y = y[:n]
	inv := 1 / ExpMax(x, y)
	k := cur()
	full := n - n%k.vl
	if full > 0 {
		k.scale(ptr(y), full, inv)
	}
	for i := full; i < n; i++ {
		y[i] *= inv
	}
}

// ExpMax writes exp(x − max(x)) to y (y may be x) and returns their sum:
// Softmax but for the final division by it, which the caller may apply
// later to fewer values (the attention's output row instead of its
// scores).
func ExpMax(x, y []float32) float32 {
	n := len(x)
	if n == 0 {
		return 0
	}
	y = y[:n]
	k := cur()
	full := n - n%k.vl
	m := float32(math.Inf(-1))
	if full > 0 {
		m = k.maxf(ptr(x), full)
	}
	for _, v := range x[full:] {
		m = max(m, v)
	}
	var s float32
	if full > 0 {
		s = k.expSub(ptr(x), ptr(y), full, m)
	}
	for i := full; i < n; i++ {
		e := Exp(x[i] - m)
		y[i] = e
		s += e
	}
	return s
}

// Dense writes y = act(x + bias) for one row: act is exact GELU when gelu
// is set, the identity otherwise; bias may be nil (then gelu must be
// set, or y is a copy of x). y may be x.
func Dense(x, y, bias []float32, gelu bool) {
	n := len(x)
	if n == 0 {
		return
	}
	y = y[:n]
	if bias != nil {
		bias = bias[:n]
	}
	k := cur()
	full := n - n%k.vl
	if full > 0 {
		switch {
		case bias != nil && gelu:
			k.biasGelu(ptr(x), ptr(bias), ptr(y), full)
		case gelu:
			k.gelu(ptr(x), ptr(y), full)
		case bias != nil:
			k.binVV[Add](ptr(x), ptr(bias), ptr(y), full)
		default:
			copy(y[:full], x[:full])
		}
	}
	for i := full; i < n; i++ {
		v := x[i]
		if bias != nil {
			v += bias[i]
		}
		if gelu {
			v = Gelu(v)
		}
		y[i] = v
	}
}

// Binary computes y = a op c over one row; a scalar operand is its
// slice's first element. The result is bit-identical on every
// implementation (one IEEE float32 operation per element).
func Binary(op Op, y, a, c []float32, aScalar, cScalar bool) {
	n := len(y)
	if n == 0 {
		return
	}
	if !aScalar {
		a = a[:n]
	} else {
		_ = a[0]
	}
	if !cScalar {
		c = c[:n]
	} else {
		_ = c[0]
	}
	k := cur()
	full := n - n%k.vl
	if full > 0 {
		switch {
		case aScalar && cScalar:
			full = 0
		case aScalar:
			k.binSV[op](a[0], ptr(c), ptr(y), full)
		case cScalar:
			k.binVS[op](ptr(a), c[0], ptr(y), full)
		default:
			k.binVV[op](ptr(a), ptr(c), ptr(y), full)
		}
	}
	for i := full; i < n; i++ {
		x, z := a[0], c[0]
		if !aScalar {
			x = a[i]
		}
		if !cScalar {
			z = c[i]
		}
		y[i] = apply(op, x, z)
	}
}

func apply(op Op, x, z float32) float32 {
	switch op {
	case Add:
		return x + z
	case Sub:
		return x - z
	case Mul:
		return x * z
	default:
		return x / z
	}
}

// Sum returns Σ x.
func Sum(x []float32) float32 {
	n := len(x)
	if n == 0 {
		return 0
	}
	k := cur()
	full := n - n%k.vl
	var s float32
	if full > 0 {
		s = k.sum(ptr(x), full)
	}
	for _, v := range x[full:] {
		s += v
	}
	return s
}

// Strips is the number of GEMM strips an n-column output has.
func Strips(n int) int {
	w := cur().stripW
	return (n + w - 1) / w
}

// GemmStrips computes output column strips [from, to) of o = l × r for
// row-major l [m, k] and o [m, n]; r is row-major [k, n], or, when packed
// is not 0, laid out by Pack with that strip width (which must be the
// active one's).
func GemmStrips(l, r, o []float32, m, n, k, from, to, packed int) {
	kr := cur()
	w := kr.stripW
	if m <= 0 || k <= 0 || n <= 0 || len(l) < m*k || len(r) < k*n || len(o) < m*n ||
		from < 0 || to > (n+w-1)/w || from > to || (packed != 0 && (packed != w || n%w != 0)) {
		panic(fmt.Sprintf("vec.GemmStrips: bad operands (m=%d n=%d k=%d strips %d–%d packed %d, active strip width %d)", m, n, k, from, to, packed, w))
	}
	ldr := n
	if packed != 0 {
		ldr = w
	}
	if kr.kchunk > 0 && m > kr.tileRows && m <= 2*kr.tileRows && k > kr.kchunk {
		gemmChunked(kr, l, r, o, m, n, k, from, to, packed, ldr)
		return
	}
	for s := from; s < to; s++ {
		col := s * w
		roff := col
		if packed != 0 {
			roff = s * k * w
		}
		pfs := 0
		if packed != 0 && s+1 < to {
			pfs = k * w * 4 // the next strip, contiguous after this one
		}
		kr.gemm(ptr(l), &r[roff], &o[col], m, k, min(w, n-col), k, ldr, n, 0, 0, pfs)
	}
}

// gemmChunked is GemmStrips for products of two row tiles (a query of
// 16–28 tokens on AVX-512, 7–12 on AVX2): each strip kchunk steps of k at
// a time, the kernel accumulating, and told where the next chunk's
// weights are (the next rows of this strip, or the next strip's first
// ones) so that its second tile prefetches them. Without the chunks the
// second tile's arithmetic followed the strip's stream from memory
// (docs/perf.md, round 4).
func gemmChunked(kr *resolved, l, r, o []float32, m, n, k, from, to, packed, ldr int) {
	w, kc := kr.stripW, kr.kchunk
	for s := from; s < to; s++ {
		col := s * w
		roff := col
		if packed != 0 {
			roff = s * k * w
		}
		ws := min(w, n-col)
		for c := 0; c < k; c += kc {
			pfn := kc * ldr * 4 // the next chunk of this strip
			switch {
			case c+kc < k:
			case s+1 < to && packed != 0:
				pfn = (k*w - c*ldr) * 4 // the next strip's first rows
			case s+1 < to:
				pfn = (w - c*ldr) * 4
			default:
				pfn = 0
			}
			acc := 0
			if c > 0 {
				acc = 1
			}
			kr.gemm(&l[c], &r[roff+c*ldr], &o[col], m, min(kc, k-c), ws, k, ldr, n, acc, pfn, 0)
		}
	}
}

// Gemm computes o = l × r (row-major [m, k] × [k, n]) on one core.
func Gemm(l, r, o []float32, m, n, k int) {
	GemmStrips(l, r, o, m, n, k, 0, Strips(n), 0)
}

// Pack rearranges the row-major [k, n] matrix src into dst (same length,
// not overlapping) strip by strip: for each strip of StripWidth columns,
// its k rows contiguous. It returns the strip width used (to pass to
// GemmStrips), or 0 when n is not a multiple of it.
func Pack(dst, src []float32, k, n int) int {
	w := cur().stripW
	if k <= 0 || n <= 0 || n%w != 0 || len(src) != k*n || len(dst) != k*n {
		return 0
	}
	for s := range n / w {
		block := dst[s*k*w : (s+1)*k*w]
		for kk := range k {
			copy(block[kk*w:(kk+1)*w], src[kk*n+s*w:kk*n+s*w+w])
		}
	}
	return w
}
