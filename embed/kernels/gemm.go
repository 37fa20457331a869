package kernels

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego/packgemm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

// mnemo's GEMM, registered with simplego's packgemm ahead of its own
// kernels. packgemm packs both operands into panels on every call and
// allocates a 2000-slot work channel; for a 12-row product that packing
// of the weights was 17% of a query's time (docs/perf.md). vec's kernels
// read the weights' [K, N] layout as it is, one strip of columns at a
// time, each strip's rows broadcast-multiplied into a register tile.
//
// A short query is another matter: its 12 rows make every weight matrix a
// one-pass stream from memory, and a strip of a row-major [K, N] matrix is
// K scattered pieces, which the prefetchers do not follow. So the model's
// weights are packed once, at load, strip by strip (PackWeight): each
// strip's K × W block contiguous, read front to back. Packing is in
// place, in the weight's own backend buffer, and registered by address; a
// product whose right operand is a registered weight is computed here
// whatever its alpha and beta, since no other kernel can read that
// layout. Other products with alpha ≠ 1 or beta ≠ 0 go to the kernel
// registered before.

// gemmName is the name the registration carries in packgemm's table.
const gemmName = "mnemo"

// installGEMM puts vec's GEMM in front of packgemm's float32
// registrations. packgemm's function type names its internal worker pool,
// so the function is built with reflect.MakeFunc from the registered
// one's type; the pool argument is passed through untouched.
func installGEMM() error {
	pair := packgemm.DTypePair{Input: dtypes.Float32, Output: dtypes.Float32}
	regs := packgemm.DTypeToGEMM[pair]
	if len(regs) == 0 {
		return errors.New("packgemm has no float32 GEMM registered")
	}
	if regs[0].Name == gemmName {
		return nil
	}
	prev := reflect.ValueOf(regs[0].GEMMFn)
	ft := prev.Type()
	f32s := reflect.TypeFor[[]float32]()
	if ft.Kind() != reflect.Func || ft.NumIn() != 12 || ft.NumOut() != 1 ||
		ft.In(0).Kind() != reflect.Float32 || ft.In(1).Kind() != reflect.Float32 || ft.In(2) != f32s || ft.In(3) != f32s ||
		ft.In(4).Kind() != reflect.Int || ft.In(7).Kind() != reflect.Int || ft.In(8) != f32s {
		return fmt.Errorf("packgemm's GEMM function type changed: %s", ft)
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
			if batch != 1 || k != w.k || n != w.n || m <= 0 || len(lhs) < m*k || len(rhs) < k*n || len(out) < m*n || w.strip != vec.StripWidth() {
				return errValue(fmt.Errorf("mnemo GEMM: packed [%d, %d] weight (strips of %d) used as a %d×[%d, %d]×[%d, %d] operand (strips of %d)", w.k, w.n, w.strip, batch, m, k, k, n, vec.StripWidth()))
			}
			gemmPacked(lhs, rhs, out, m, n, k, alpha, beta, w.strip)
			return []reflect.Value{nilErr}
		}
		if alpha == 1 && beta == 0 && k > 0 && m > 0 && n > 0 && (m <= genericMaxRows || vec.Active() != "generic") &&
			len(lhs) >= batch*m*k && len(rhs) >= batch*k*n && len(out) >= batch*m*n {
			gemm(lhs, rhs, out, batch, m, n, k)
			return []reflect.Value{nilErr}
		}
		return prev.Call(args)
	})
	reg := regs[0]
	reg.Name = gemmName
	reg.GEMMFn = fn.Interface()
	reg.Priority = regs[0].Priority + 1
	packgemm.DTypeToGEMM[pair] = append([]packgemm.GEMMRegistration{reg}, regs...)
	return nil
}

// genericMaxRows: with the plain-Go kernels, products of more rows go to
// the kernel registered before (packgemm's own, which packs panels and
// blocks for the cache): vec's generic strip kernel is 2.5× faster for a
// 12-token query (no packing per call) but 1.5× slower at 8 × 256 tokens
// (docs/perf.md, round 3). Weights are not packed for it (PackWeight).
const genericMaxRows = 32

// Packed weights, by the address of their first element. The map is
// replaced, never changed, so a lookup (every product) takes no lock.
type packedInfo struct{ k, n, strip int }

var (
	packedMu      sync.Mutex
	packedWeights atomic.Pointer[map[*float32]packedInfo]
)

var packScratch struct {
	sync.Mutex
	buf []float32
}

// ReleasePackScratch drops the scratch copy once a model's weights are
// packed.
func ReleasePackScratch() {
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

// PackWeight rearranges w, a row-major [k, n] matrix, in place into
// strip-major order (vec.Pack) and registers it, so every product with it
// runs mnemo's GEMM. It packs nothing unless Install put that GEMM in
// place and n is a multiple of the strip width. The caller must call the
// returned release before the buffer is freed or reused: a registered
// address read by another product as row-major would be wrong.
func PackWeight(w []float32, k, n int) (release func(), ok bool) {
	if !state.gemm.Load() || vec.Active() == "generic" || k <= 0 || n <= 0 || n%vec.StripWidth() != 0 || len(w) != k*n {
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
	strip := vec.Pack(w, tmp, k, n)
	if strip == 0 {
		copy(w, tmp)
		return func() {}, false
	}
	key := unsafe.SliceData(w)
	packedMu.Lock()
	defer packedMu.Unlock()
	next := map[*float32]packedInfo{key: {k, n, strip}}
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
func gemmPacked(lhs, w, out []float32, m, n, k int, alpha, beta float32, strip int) {
	if alpha == 1 && beta == 0 {
		gemmOne(lhs, w, out, m, n, k, strip)
		return
	}
	tmp := make([]float32, m*n)
	gemmOne(lhs, w, tmp, m, n, k, strip)
	for i, v := range tmp {
		if beta == 0 {
			out[i] = alpha * v
		} else {
			out[i] = alpha*v + beta*out[i]
		}
	}
}

// wakeMinFMAs: a product this large is worth waking a parked helper for
// (a futex wake-up and a park, tens of microseconds of the helper's
// thread); a smaller one splits only when a helper is spinning. Woken for
// every product of a 24-token query during a stand-down, the helpers'
// wake-ups and parks took a fifth of its CPU time.
const wakeMinFMAs = 1 << 22

// splitMinRows: a product of fewer rows than this runs on one core.
// At 384 × 384 one core computes 24 rows in about the time the weights
// take to arrive from memory.
const splitMinRows = 24

// gemm computes out[b] = lhs[b] × rhs[b] for row-major lhs [m, k],
// rhs [k, n] and out [m, n].
func gemm(lhs, rhs, out []float32, batch, m, n, k int) {
	if batch == 1 {
		gemmOne(lhs, rhs, out, m, n, k, 0)
		return
	}
	one := func(b int) {
		vec.GemmStrips(lhs[b*m*k:(b+1)*m*k], rhs[b*k*n:(b+1)*k*n], out[b*m*n:(b+1)*m*n], m, n, k, 0, vec.Strips(n), 0)
	}
	if batch*m*n*k < 1<<18 {
		for b := range batch {
			one(b)
		}
		return
	}
	// The engine runs one forward pass at a time: the batch entries go to
	// the cores a few at a time (Split).
	Split(batch, max(1, batch/8), func(from, to int) {
		for b := from; b < to; b++ {
			one(b)
		}
	})
}

// gemmOne computes one product, its column strips shared out among the
// cores (Split) when it is worth it. A product of fewer than splitMinRows
// rows is bound by streaming the weights from memory; shared out, each
// core streams its own strips, but only a helper already spinning (a
// single pass running, helpersHot) takes its share soon enough to gain:
// a goroutine woken per product made a 12-token query slower, 5.0–5.8 ms
// against 4.3–4.8 on one core (docs/perf.md).
func gemmOne(lhs, rhs, out []float32, m, n, k, packed int) {
	strips := vec.Strips(n)
	hot := helpersHot()
	if m*n*k < 1<<18 || strips < 2 || !hot && (m < splitMinRows || m*n*k < wakeMinFMAs) {
		vec.GemmStrips(lhs, rhs, out, m, n, k, 0, strips, packed)
		return
	}
	Split(strips, 1, func(from, to int) { vec.GemmStrips(lhs, rhs, out, m, n, k, from, to, packed) })
}

// PackedWeights is the number of weights registered as packed (tests
// check that an engine's Close releases its own).
func PackedWeights() int {
	if m := packedWeights.Load(); m != nil {
		return len(*m)
	}
	return 0
}
