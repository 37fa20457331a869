//go:build amd64 && goexperiment.simd

package embed

import (
	"math"
	"os"
	"reflect"
	"simd/archsimd"
	"strconv"
	"sync"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego/packgemm"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// An AVX-512 GEMM of mnemo's own (Go + simd/archsimd), registered with
// packgemm ahead of its kernel. packgemm packs both operands into panels on
// every call and allocates a 2000-slot work channel; for a 12-row product
// that packing of the weights is 17% of a query's time (docs/perf.md). The
// weights' natural [K, N] layout is already what an FMA kernel wants: for
// each group of 4 output rows and 32 columns, every weight row is loaded
// once and broadcast-multiplied into 8 accumulators, and a 32-column strip
// of the weights (≤ 200 KB for MiniLM) stays in L2 across the row groups.
// Measured on MiniLM's shapes it reaches 165–195 GFLOPS at 256–1280 rows
// (packgemm: 115–140) and 90–120 at 12–32 rows; in the model, s40 and l256
// run 7–9% faster and a 12-token query 22% faster.
//
// Products with alpha ≠ 1 or beta ≠ 0, or a width not a multiple of 32
// (attention over a few tokens), go to the kernel registered before.

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
	fn := reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
		alpha, beta := args[0].Float(), args[1].Float()
		batch, m, n, k := int(args[4].Int()), int(args[5].Int()), int(args[6].Int()), int(args[7].Int())
		if alpha == 1 && beta == 0 && m <= smallGEMMMaxRows && n%32 == 0 && k > 0 {
			lhs := args[2].Interface().([]float32)
			rhs := args[3].Interface().([]float32)
			out := args[8].Interface().([]float32)
			if len(lhs) >= batch*m*k && len(rhs) >= batch*k*n && len(out) >= batch*m*n {
				smallGEMM(lhs, rhs, out, batch, m, n, k)
				return []reflect.Value{nilErr}
			}
		}
		return prev.Call(args)
	})
	reg := regs[0]
	reg.Name = "mnemo AVX512"
	reg.GEMMFn = fn.Interface()
	reg.Priority = regs[0].Priority + 1
	packgemm.DTypeToGEMM[pair] = append([]packgemm.GEMMRegistration{reg}, regs...)
}

// smallGEMM computes out[b] = lhs[b] × rhs[b] for row-major lhs [m, k],
// rhs [k, n] and out [m, n], n a multiple of 32. A product worth it is
// split in two halves (by batch, else by column strips), one of them on a
// new goroutine: the engine runs one forward pass at a time on 2 cores.
func smallGEMM(lhs, rhs, out []float32, batch, m, n, k int) {
	strips := n / 32
	one := func(b, from, to int) {
		smallGEMMStrips(lhs[b*m*k:(b+1)*m*k], rhs[b*k*n:(b+1)*k*n], out[b*m*n:(b+1)*m*n], m, n, k, from, to)
	}
	if batch*m*n*k < 1<<18 || (batch == 1 && strips < 2) {
		for b := range batch {
			one(b, 0, strips)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	if batch >= 2 {
		half := batch / 2
		go func() {
			defer wg.Done()
			for b := range half {
				one(b, 0, strips)
			}
		}()
		for b := half; b < batch; b++ {
			one(b, 0, strips)
		}
	} else {
		half := strips / 2
		go func() {
			defer wg.Done()
			one(0, 0, half)
		}()
		one(0, half, strips)
	}
	wg.Wait()
}

func smallGEMMStrips(l, r, o []float32, m, n, k, from, to int) {
	// Bounds are checked here, once: the kernels index with unsafe
	// offsets, because Go's per-load bounds checks and the reloads they
	// force cost a third of the kernel's speed (125 → 190 GFLOPS on
	// MiniLM's 2048 × 384 × 384, BenchmarkSmallGEMM).
	if m <= 0 || len(l) < m*k || len(r) < k*n || len(o) < m*n || n%32 != 0 || to*32 > n {
		panic("smallGEMM: operands too short")
	}
	lp, rp, op := unsafe.Pointer(unsafe.SliceData(l)), unsafe.Pointer(unsafe.SliceData(r)), unsafe.Pointer(unsafe.SliceData(o))
	for s := from; s < to; s++ {
		col := s * 32
		row := 0
		for ; row+4 <= m; row += 4 {
			gemmKernel4x32(unsafe.Add(lp, row*k*4), unsafe.Add(rp, col*4), unsafe.Add(op, (row*n+col)*4), k, n)
		}
		for ; row < m; row++ {
			gemmKernel1x32(unsafe.Add(lp, row*k*4), unsafe.Add(rp, col*4), unsafe.Add(op, (row*n+col)*4), k, n)
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
// n) from 4 lhs rows at l (row stride k) and 32 weight columns at r (row
// stride n). Offsets are in bytes, and every pointer formed stays inside
// its operand (the loop never steps past the last row).
func gemmKernel4x32(l, r, o unsafe.Pointer, k, n int) {
	var a00, a01, a10, a11, a20, a21, a30, a31 archsimd.Float32x16
	ls, rs := k*4, n*4
	ro := 0
	for kk := 0; kk < ls; kk += 4 {
		w0 := load16(r, ro)
		w1 := load16(r, ro+64)
		ro += rs
		x := broadcast16(l, kk)
		a00 = w0.MulAdd(x, a00)
		a01 = w1.MulAdd(x, a01)
		x = broadcast16(l, kk+ls)
		a10 = w0.MulAdd(x, a10)
		a11 = w1.MulAdd(x, a11)
		x = broadcast16(l, kk+2*ls)
		a20 = w0.MulAdd(x, a20)
		a21 = w1.MulAdd(x, a21)
		x = broadcast16(l, kk+3*ls)
		a30 = w0.MulAdd(x, a30)
		a31 = w1.MulAdd(x, a31)
	}
	store16(a00, o, 0)
	store16(a01, o, 64)
	store16(a10, o, rs)
	store16(a11, o, rs+64)
	store16(a20, o, 2*rs)
	store16(a21, o, 2*rs+64)
	store16(a30, o, 3*rs)
	store16(a31, o, 3*rs+64)
}

// gemmKernel1x32 computes one row of 32 output columns (the rows left
// over after the 4-row blocks).
func gemmKernel1x32(l, r, o unsafe.Pointer, k, n int) {
	var a0, a1 archsimd.Float32x16
	ls, rs := k*4, n*4
	ro := 0
	for kk := 0; kk < ls; kk += 4 {
		w0 := load16(r, ro)
		w1 := load16(r, ro+64)
		ro += rs
		x := broadcast16(l, kk)
		a0 = w0.MulAdd(x, a0)
		a1 = w1.MulAdd(x, a1)
	}
	store16(a0, o, 0)
	store16(a1, o, 64)
}
