//go:build amd64 && goexperiment.simd

package embed

import (
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"simd/archsimd"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego/packgemm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnemo-mcp/mnemo/embed/fastops"
)

// An AVX-512 GEMM of mnemo's own (Go + simd/archsimd), registered with
// packgemm ahead of its kernel. packgemm packs both operands into panels on
// every call and allocates a 2000-slot work channel; for a 12-row product
// that packing of the weights is 17% of a query's time (docs/perf.md). An
// FMA kernel can read the weights' [K, N] layout as it is: for each group
// of 4 output rows and 32 columns, every weight row is loaded once and
// broadcast-multiplied into 8 accumulators, and a 32-column strip of the
// weights stays in L2 across the row groups. It reaches 180–200 GFLOPS on
// MiniLM's 2048-row products (packgemm: 115–140) and ~100 at 12 rows
// (BenchmarkSmallGEMM).
//
// A short query is another matter: its 12 rows make every weight matrix
// a one-pass stream from memory, and a 32-column strip of a row-major
// [K, N] matrix is K scattered 128-byte pieces, which the prefetchers do
// not follow (7.8 GB/s, BenchmarkColdGEMM). So the model's weights are
// packed once, at load, strip by strip (packWeight): each strip's K × 32
// block contiguous, read front to back. Packing is in place, in the
// weight's own backend buffer, and registered by address; a product whose
// right operand is a registered weight is computed here whatever its
// alpha and beta, since no other kernel can read that layout.
//
// Products with alpha ≠ 1 or beta ≠ 0 on other operands go to the kernel
// registered before.

// smallGEMMMaxRows is the most output rows the kernel takes; larger ones
// go to packgemm's (MNEMO_SMALL_GEMM_MAX_ROWS overrides it, for A/B runs).
var smallGEMMMaxRows = envInt("MNEMO_SMALL_GEMM_MAX_ROWS", math.MaxInt)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

func init() {
	if archsimd.X86.AVX512() {
		installSmallGEMM()
	}
}

// installSmallGEMM puts the small kernel in front of packgemm's float32
// registrations. packgemm's function type names its internal worker pool,
// so the function is built with reflect.MakeFunc from the registered
// one's type; the pool argument is passed through untouched.
func installSmallGEMM() {
	pair := packgemm.DTypePair{Input: dtypes.Float32, Output: dtypes.Float32}
	regs := packgemm.DTypeToGEMM[pair]
	if len(regs) == 0 {
		return
	}
	prev := reflect.ValueOf(regs[0].GEMMFn)
	ft := prev.Type()
	f32s := reflect.TypeFor[[]float32]()
	if ft.Kind() != reflect.Func || ft.NumIn() != 12 || ft.NumOut() != 1 ||
		ft.In(0).Kind() != reflect.Float32 || ft.In(2) != f32s || ft.In(3) != f32s || ft.In(8) != f32s {
		return // packgemm changed: keep its kernel
	}
	nilErr := reflect.Zero(ft.Out(0))
	errValue := func(err error) []reflect.Value {
		v := reflect.New(ft.Out(0)).Elem()
		v.Set(reflect.ValueOf(err))
		return []reflect.Value{v}
	}
	fn := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		alpha, beta := float32(args[0].Float()), float32(args[1].Float())
		batch, m, n, k := int(args[4].Int()), int(args[5].Int()), int(args[6].Int()), int(args[7].Int())
		lhs := args[2].Interface().([]float32)
		rhs := args[3].Interface().([]float32)
		out := args[8].Interface().([]float32)
		if w, ok := packedWeightOf(rhs); ok {
			if batch != 1 || k != w.k || n != w.n || m <= 0 || len(lhs) < m*k || len(rhs) < k*n || len(out) < m*n {
				return errValue(fmt.Errorf("mnemo GEMM: packed [%d, %d] weight used as a %d×[%d, %d]×[%d, %d] operand", w.k, w.n, batch, m, k, k, n))
			}
			gemmPacked(lhs, rhs, out, m, n, k, alpha, beta)
			return []reflect.Value{nilErr}
		}
		if alpha == 1 && beta == 0 && m <= smallGEMMMaxRows && k > 0 && m > 0 && n > 0 &&
			len(lhs) >= batch*m*k && len(rhs) >= batch*k*n && len(out) >= batch*m*n {
			smallGEMM(lhs, rhs, out, batch, m, n, k)
			return []reflect.Value{nilErr}
		}
		return prev.Call(args)
	})
	reg := regs[0]
	reg.Name = "mnemo AVX512"
	reg.GEMMFn = fn.Interface()
	reg.Priority = regs[0].Priority + 1
	packgemm.DTypeToGEMM[pair] = append([]packgemm.GEMMRegistration{reg}, regs...)
}

// Packed weights, by the address of their first element. The map is
// replaced, never changed, so a lookup (every product) takes no lock.
type packedInfo struct{ k, n int }

var (
	packedMu      sync.Mutex
	packedWeights atomic.Pointer[map[*float32]packedInfo]
)

var packScratch struct {
	sync.Mutex
	buf []float32
}

// releasePackScratch drops the scratch copy once a model's weights are
// packed.
func releasePackScratch() {
	packScratch.Lock()
	packScratch.buf = nil
	packScratch.Unlock()
}

func packedWeightOf(rhs []float32) (packedInfo, bool) {
	m := packedWeights.Load()
	if m == nil || len(rhs) == 0 {
		return packedInfo{}, false
	}
	w, ok := (*m)[unsafe.SliceData(rhs)]
	return w, ok
}

// packWeight rearranges w, a row-major [k, n] matrix, in place into
// strip-major order (for each 32-column strip, its k × 32 block) and
// registers it, so every product with it runs gemmPacked. The caller must
// call the returned release before the buffer is freed or reused: a
// registered address read by another product as row-major would be wrong.
func packWeight(w []float32, k, n int) (release func(), ok bool) {
	if !archsimd.X86.AVX512() || k <= 0 || n <= 0 || n%32 != 0 || len(w) != k*n {
		return func() {}, false
	}
	// One scratch copy for all of a model's weights: a clone per weight
	// would leave ~50 MB of garbage at the load's RSS peak.
	packScratch.Lock()
	defer packScratch.Unlock()
	if cap(packScratch.buf) < len(w) {
		packScratch.buf = make([]float32, len(w))
	}
	tmp := packScratch.buf[:len(w)]
	copy(tmp, w)
	for s := range n / 32 {
		block := w[s*k*32 : (s+1)*k*32]
		for kk := range k {
			copy(block[kk*32:(kk+1)*32], tmp[kk*n+s*32:kk*n+s*32+32])
		}
	}
	key := unsafe.SliceData(w)
	packedMu.Lock()
	defer packedMu.Unlock()
	next := map[*float32]packedInfo{key: {k, n}}
	if old := packedWeights.Load(); old != nil {
		maps.Copy(next, *old)
	}
	packedWeights.Store(&next)
	return func() {
		packedMu.Lock()
		defer packedMu.Unlock()
		old := packedWeights.Load()
		if old == nil {
			return
		}
		next := maps.Clone(*old)
		delete(next, key)
		packedWeights.Store(&next)
	}, true
}

// gemmPacked computes out = alpha·lhs×w + beta·out for a packed w.
func gemmPacked(lhs, w, out []float32, m, n, k int, alpha, beta float32) {
	if alpha == 1 && beta == 0 {
		gemmBatch(lhs, w, out, m, n, k, true)
		return
	}
	tmp := make([]float32, m*n)
	gemmBatch(lhs, w, tmp, m, n, k, true)
	for i, v := range tmp {
		if beta == 0 {
			out[i] = alpha * v
		} else {
			out[i] = alpha*v + beta*out[i]
		}
	}
}

// splitMinRows: a product of fewer rows than this runs on one core.
// At 384 × 384 one core computes 24 rows in about the time the weights
// take to arrive from memory.
const splitMinRows = 24

// smallGEMM computes out[b] = lhs[b] × rhs[b] for row-major lhs [m, k],
// rhs [k, n] and out [m, n].
func smallGEMM(lhs, rhs, out []float32, batch, m, n, k int) {
	if batch == 1 {
		gemmBatch(lhs, rhs, out, m, n, k, false)
		return
	}
	one := func(b int) {
		gemmStrips(lhs[b*m*k:(b+1)*m*k], rhs[b*k*n:(b+1)*k*n], out[b*m*n:(b+1)*m*n], m, n, k, 0, (n+31)/32, false)
	}
	if batch*m*n*k < 1<<18 {
		for b := range batch {
			one(b)
		}
		return
	}
	// The engine runs one forward pass at a time: the batch entries go to
	// the cores a few at a time (fastops.Split).
	fastops.Split(batch, max(1, batch/8), func(from, to int) {
		for b := from; b < to; b++ {
			one(b)
		}
	})
}

// gemmBatch computes one product, its column strips shared out among the
// cores (fastops.Split) when it is worth it. Below splitMinRows rows a
// product is bound by reading the weights from memory, which one core
// does as fast as two (12–13 GB/s either way), and the hand-off to a
// second goroutine is pure cost: a 12-token query took 5.0–5.8 ms split,
// 4.3–4.8 ms not (docs/perf.md).
func gemmBatch(lhs, rhs, out []float32, m, n, k int, packed bool) {
	strips := (n + 31) / 32
	if m*n*k < 1<<18 || strips < 2 || m < splitMinRows {
		gemmStrips(lhs, rhs, out, m, n, k, 0, strips, packed)
		return
	}
	fastops.Split(strips, 1, func(from, to int) { gemmStrips(lhs, rhs, out, m, n, k, from, to, packed) })
}

// gemmStrips computes output column strips from…to (32 columns each; the
// last may be narrower) of lhs [m, k] × rhs, with rhs row-major [k, n] or
// packed strip-major (packWeight).
func gemmStrips(l, r, o []float32, m, n, k, from, to int, packed bool) {
	// Bounds are checked here, once: the kernels index with unsafe
	// offsets, because Go's per-load bounds checks and the reloads they
	// force cost a third of the kernel's speed (125 → 190 GFLOPS on
	// MiniLM's 2048 × 384 × 384, BenchmarkSmallGEMM).
	if m <= 0 || k <= 0 || len(l) < m*k || len(r) < k*n || len(o) < m*n || from < 0 || to > (n+31)/32 || (packed && n%32 != 0) {
		panic("mnemo GEMM: operands too short")
	}
	lp, rp, op := unsafe.Pointer(unsafe.SliceData(l)), unsafe.Pointer(unsafe.SliceData(r)), unsafe.Pointer(unsafe.SliceData(o))
	rs, os := n*4, n*4 // row strides, in bytes
	if packed {
		rs = 32 * 4
	}
	for s := from; s < to; s++ {
		col := s * 32
		roff := col * 4
		if packed {
			roff = s * k * 32 * 4
		}
		rstrip := unsafe.Add(rp, roff)
		if w := n - col; w < 32 {
			for row := 0; row < m; row++ {
				gemmKernel1xN(unsafe.Add(lp, row*k*4), rstrip, unsafe.Add(op, (row*n+col)*4), k, rs, w)
			}
			continue
		}
		row := 0
		for ; row+4 <= m; row += 4 {
			gemmKernel4x32(unsafe.Add(lp, row*k*4), rstrip, unsafe.Add(op, (row*n+col)*4), k, rs, os)
		}
		for ; row < m; row++ {
			gemmKernel1x32(unsafe.Add(lp, row*k*4), rstrip, unsafe.Add(op, (row*n+col)*4), k, rs)
		}
	}
}

func load16(p unsafe.Pointer, off int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(p, off)))
}

func broadcast16(p unsafe.Pointer, off int) archsimd.Float32x16 {
	return archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(p, off)))
}

func store16(v archsimd.Float32x16, p unsafe.Pointer, off int) {
	v.Store((*[16]float32)(unsafe.Add(p, off)))
}

// gemmKernel4x32 computes a 4 × 32 block of the output at o (row stride
// os bytes) from 4 lhs rows at l (k floats each) and 32 weight columns at
// r (row stride rs bytes). Every pointer formed stays inside its operand
// (the loop never steps past the last row).
//
// x.MulAdd(w, acc), not w.MulAdd(x, acc): VFMADD213PS overwrites its first
// operand, so that operand is copied first unless this is its last use.
// A broadcast row value is used twice, a weight vector four times; the
// order here saves a third of the copies: 190 → 245 GFLOPS on
// 2048 × 384 × 384. Tiles of 5 or 6 rows spill (Go allocates 16 vector
// registers), at ~130.
func gemmKernel4x32(l, r, o unsafe.Pointer, k, rs, os int) {
	var a00, a01, a10, a11, a20, a21, a30, a31 archsimd.Float32x16
	ls := k * 4
	ro := 0
	for kk := 0; kk < ls; kk += 4 {
		w0 := load16(r, ro)
		w1 := load16(r, ro+64)
		ro += rs
		x := broadcast16(l, kk)
		a00 = x.MulAdd(w0, a00)
		a01 = x.MulAdd(w1, a01)
		x = broadcast16(l, kk+ls)
		a10 = x.MulAdd(w0, a10)
		a11 = x.MulAdd(w1, a11)
		x = broadcast16(l, kk+2*ls)
		a20 = x.MulAdd(w0, a20)
		a21 = x.MulAdd(w1, a21)
		x = broadcast16(l, kk+3*ls)
		a30 = x.MulAdd(w0, a30)
		a31 = x.MulAdd(w1, a31)
	}
	store16(a00, o, 0)
	store16(a01, o, 64)
	store16(a10, o, os)
	store16(a11, o, os+64)
	store16(a20, o, 2*os)
	store16(a21, o, 2*os+64)
	store16(a30, o, 3*os)
	store16(a31, o, 3*os+64)
}

// gemmKernel1x32 computes one row of 32 output columns (the rows left
// over after the 4-row blocks).
func gemmKernel1x32(l, r, o unsafe.Pointer, k, rs int) {
	var a0, a1 archsimd.Float32x16
	ro := 0
	for kk := 0; kk < k*4; kk += 4 {
		w0 := load16(r, ro)
		w1 := load16(r, ro+64)
		ro += rs
		x := broadcast16(l, kk)
		a0 = x.MulAdd(w0, a0)
		a1 = x.MulAdd(w1, a1)
	}
	store16(a0, o, 0)
	store16(a1, o, 64)
}

// gemmKernel1xN computes one row of w < 32 output columns (a width not a
// multiple of 32: attention over a short text) with masked loads and
// stores, which touch no memory in the masked-off lanes.
func gemmKernel1xN(l, r, o unsafe.Pointer, k, rs, w int) {
	m0 := archsimd.Mask32x16FromBits(uint16(1<<min(w, 16) - 1))
	m1 := archsimd.Mask32x16FromBits(uint16(1<<max(w-16, 0) - 1))
	var a0, a1 archsimd.Float32x16
	ro := 0
	for kk := 0; kk < k*4; kk += 4 {
		x := broadcast16(l, kk)
		a0 = x.MulAdd(archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(r, ro)), m0), a0)
		if w > 16 {
			a1 = x.MulAdd(archsimd.LoadMaskedFloat32x16((*[16]float32)(unsafe.Add(r, ro+64)), m1), a1)
		}
		ro += rs
	}
	a0.StoreMasked((*[16]float32)(o), m0)
	if w > 16 {
		a1.StoreMasked((*[16]float32)(unsafe.Add(o, 64)), m1)
	}
}
