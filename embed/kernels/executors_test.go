package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

// original is simplego's executor table before Install, to compare with.
var original = nodeExecutors

// TestMain installs the kernels for every test here, as the engine does;
// MNEMO_TEST_KERNELS caps the level (CI runs the package once per path).
func TestMain(m *testing.M) {
	if r := Install(os.Getenv("MNEMO_TEST_KERNELS")); r.Err != nil {
		fmt.Fprintln(os.Stderr, "kernels.Install:", r)
		os.Exit(1) // a GoMLX upgrade moved simplego's internals
	}
	os.Exit(m.Run())
}

func installed(t *testing.T) *simplego.Backend {
	t.Helper()
	r, ok := Installed()
	if !ok || !r.Executors || !r.GEMM {
		t.Fatalf("kernels not installed: %v", r)
	}
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b.(*simplego.Backend)
}

// forEachLevel runs f once with each vec implementation this CPU runs.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	prev := vec.Active()
	defer vec.Use(prev)
	for _, l := range vec.Levels() {
		if err := vec.Use(l); err != nil {
			t.Fatal(err)
		}
		t.Run(l, f)
	}
}

func TestInstalled(t *testing.T) {
	installed(t)
	for _, op := range []backends.OpType{backends.OpTypeFusedSoftmax, backends.OpTypeFusedDense, backends.OpTypeAdd,
		backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv, backends.OpTypeReduceSum, backends.OpTypeTranspose,
		backends.OpTypeBroadcastInDim, backends.OpTypeGather, backends.OpTypeFusedScaledDotProductAttention} {
		if reflectPtr(nodeExecutors[op]) == reflectPtr(original[op]) {
			t.Errorf("%s: simplego's executor still in place", op)
		}
	}
	if BackendConfig() != "packgemm,ops_sequential" {
		t.Errorf("BackendConfig() = %q", BackendConfig())
	}
}

func reflectPtr(f executor) uintptr { return *(*uintptr)(unsafe.Pointer(&f)) }

// node makes a simplego node with the fields the executors read.
func node(op backends.OpType, s shapes.Shape, data any) *simplego.Node {
	n := new(simplego.Node)
	p := unsafe.Pointer(n)
	*(*backends.OpType)(unsafe.Add(p, nodeLayout.opType)) = op
	*(*shapes.Shape)(unsafe.Add(p, nodeLayout.shape)) = s
	*(*any)(unsafe.Add(p, nodeLayout.data)) = data
	return n
}

func buffer(t *testing.T, b *simplego.Backend, rng *rand.Rand, dims ...int) *simplego.Buffer {
	t.Helper()
	buf := b.NewBuffer(shapes.Make(dtypes.Float32, dims...))
	data, _, ok := f32(b, buf)
	if !ok {
		t.Fatal("not a float32 buffer")
	}
	for i := range data {
		data[i] = rng.Float32()*4 - 2
		if data[i] == 0 {
			data[i] = 1 // divisors
		}
	}
	return buf
}

func clone(t *testing.T, b *simplego.Backend, buf *simplego.Buffer) *simplego.Buffer {
	t.Helper()
	data, s, _ := f32(b, buf)
	c := b.NewBuffer(s)
	cd, _, _ := f32(b, c)
	copy(cd, data)
	return c
}

// runBoth runs op on copies of the inputs with simplego's executor and
// with this package's, and returns both results. owned says whether the
// executors may write into their inputs.
func runBoth(t *testing.T, b *simplego.Backend, op backends.OpType, n *simplego.Node, owned bool, inputs ...*simplego.Buffer) (want, got []float32, fast bool) {
	t.Helper()
	run := func(exec executor) []float32 {
		in := make([]*simplego.Buffer, len(inputs))
		own := make([]bool, len(inputs))
		for i, buf := range inputs {
			in[i], own[i] = clone(t, b, buf), owned
		}
		out, err := exec(b, n, in, own)
		if err != nil {
			t.Fatal(err)
		}
		data, s, ok := f32(b, out)
		if !ok || !s.Equal(nodeShape(n)) {
			t.Fatalf("output shape %s, want %s", s, nodeShape(n))
		}
		return append([]float32(nil), data...)
	}
	want = run(original[op])
	before := hits[op].Load()
	got = run(nodeExecutors[op])
	return want, got, hits[op].Load() > before
}

func TestBinaryOpsMatchSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		cases := []struct {
			out, lhs, rhs []int
			fast          bool
		}{
			{[]int{7, 37}, []int{7, 37}, []int{7, 37}, true},               // same shape, tail
			{[]int{2048, 384}, []int{2048, 384}, []int{1, 384}, true},      // bias
			{[]int{8, 25, 384}, []int{8, 25, 384}, []int{8, 25, 1}, true},  // LayerNorm mean
			{[]int{8, 25, 384}, []int{8, 25, 1}, []int{8, 25, 384}, true},  // broadcast lhs (Sub, Div order)
			{[]int{8, 25, 384}, []int{1, 1, 384}, []int{8, 25, 384}, true}, // gamma · x
			{[]int{2, 3, 20, 20}, []int{2, 3, 20, 20}, []int{2, 1, 1, 20}, true},
			{[]int{2, 3, 20, 20}, []int{2, 3, 20, 20}, []int{}, true},               // rank-0 constant
			{[]int{2, 3, 20, 20}, []int{}, []int{2, 3, 20, 20}, true},               // rank-0 lhs
			{[]int{5, 40000}, []int{5, 40000}, []int{5, 40000}, true},               // parallel flat
			{[]int{300, 384}, []int{300, 1}, []int{1, 384}, true},                   // outer product
			{[]int{64, 8}, []int{64, 8}, []int{1, 8}, false},                        // rows too short: simplego's
			{[]int{3, 4}, []int{3, 4}, []int{3, 4}, true},                           // tiny same-shape
			{[]int{64, 8}, []int{64, 8}, []int{}, true},                             // short rows, scalar: one flat row
			{[]int{2, 12, 256, 32}, []int{2, 12, 256, 32}, []int{1, 1, 1, 1}, true}, // the attention scale
			{[]int{5, 7}, []int{1, 1}, []int{5, 7}, true},                           // one-element lhs
		}
		for _, op := range []backends.OpType{backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv} {
			for _, c := range cases {
				for _, owned := range []bool{false, true} {
					name := fmt.Sprintf("%s/%v=%v_%v/owned=%v", op, c.out, c.lhs, c.rhs, owned)
					t.Run(name, func(t *testing.T) {
						l := buffer(t, b, rng, c.lhs...)
						r := buffer(t, b, rng, c.rhs...)
						n := node(op, shapes.Make(dtypes.Float32, c.out...), nil)
						want, got, fast := runBoth(t, b, op, n, owned, l, r)
						if fast != c.fast {
							t.Fatalf("fast path taken: %v, want %v", fast, c.fast)
						}
						for i := range want {
							if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
								t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
							}
						}
					})
				}
			}
		}
	})
}

func TestReduceSumMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, c := range []struct {
			in, axes, out []int
			fast          bool
		}{
			{[]int{8, 25, 384}, []int{2}, []int{8, 25}, true},
			{[]int{4, 6, 37}, []int{1, 2}, []int{4}, true},
			{[]int{4, 6, 37}, []int{2, 1}, []int{4}, true},
			{[]int{4, 6, 37}, []int{0}, []int{6, 37}, false},
			{[]int{4, 6, 5}, []int{2}, []int{4, 6}, false},
		} {
			t.Run(fmt.Sprint(c.in, c.axes), func(t *testing.T) {
				x := buffer(t, b, rng, c.in...)
				n := node(backends.OpTypeReduceSum, shapes.Make(dtypes.Float32, c.out...), c.axes)
				want, got, fast := runBoth(t, b, backends.OpTypeReduceSum, n, true, x)
				if fast != c.fast {
					t.Fatalf("fast path taken: %v, want %v", fast, c.fast)
				}
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

func TestTransposeMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, c := range []struct {
			in, perm []int
			fast     bool
		}{
			{[]int{2, 13, 12, 32}, []int{0, 2, 1, 3}, true}, // split heads
			{[]int{2, 12, 13, 32}, []int{0, 2, 1, 3}, true}, // merge heads
			{[]int{2, 13, 12, 32}, []int{0, 2, 3, 1}, true}, // keys, transposed
			{[]int{37, 53}, []int{1, 0}, true},
			{[]int{3, 17, 19}, []int{2, 0, 1}, true},
			{[]int{3, 17, 19}, []int{1, 2, 0}, true},
			{[]int{5, 7, 2}, []int{1, 0, 2}, false}, // rows of 2: simplego's
		} {
			t.Run(fmt.Sprint(c.in, c.perm), func(t *testing.T) {
				x := buffer(t, b, rng, c.in...)
				out := make([]int, len(c.perm))
				for j, p := range c.perm {
					out[j] = c.in[p]
				}
				n := node(backends.OpTypeTranspose, shapes.Make(dtypes.Float32, out...), c.perm)
				want, got, fast := runBoth(t, b, backends.OpTypeTranspose, n, true, x)
				if fast != c.fast {
					t.Fatalf("fast path taken: %v, want %v", fast, c.fast)
				}
				for i := range want {
					if want[i] != got[i] {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

// The fused ops' parameters are simplego's own unexported structs, so
// these run through real GoMLX graphs, once with each executor table.
func execBoth[F graph.ExecGraphFn](t *testing.T, b *simplego.Backend, op backends.OpType, fn F, args ...*tensors.Tensor) (want, got []float32) {
	t.Helper()
	run := func() []float32 {
		e, err := graph.NewExec(b, fn)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Finalize()
		in := make([]any, len(args))
		for i, a := range args {
			in[i] = a
		}
		out, err := e.Exec(in...)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out[0])
	}
	fast := nodeExecutors
	nodeExecutors = original
	want = run()
	nodeExecutors = fast
	before := hits[op].Load()
	got = run()
	if hits[op].Load() == before {
		t.Fatalf("%s: the fast executor did not run", op)
	}
	return want, got
}

func randTensor(rng *rand.Rand, scale float32, dims ...int) *tensors.Tensor {
	s := shapes.Make(dtypes.Float32, dims...)
	data := make([]float32, s.Size())
	for i := range data {
		data[i] = (rng.Float32()*2 - 1) * scale
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

func TestSoftmaxMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, dims := range [][]int{{3, 5, 37}, {2, 12, 256, 256}, {4, 16}, {7, 3}, {1, 12, 12, 12}, {2, 31}} {
			t.Run(fmt.Sprint(dims), func(t *testing.T) {
				x := randTensor(rng, 20, dims...)
				// A masked key, as BERT's additive mask makes them.
				xs := tensors.MustCopyFlatData[float32](x)
				for i := 0; i < len(xs); i += dims[len(dims)-1] {
					xs[i] = -3.4e38
				}
				x = tensors.FromFlatDataAndDimensions(xs, dims...)
				want, got := execBoth(t, b, backends.OpTypeFusedSoftmax, func(x *graph.Node) *graph.Node {
					return graph.BackendFusedSoftmax(x, x.Rank()-1)
				}, x)
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*(1+float64(want[i])) || math.IsNaN(float64(got[i])) {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

func TestDenseMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, c := range []struct {
			rows, in, out int
			act           backends.ActivationType
			bias          bool
		}{
			{12, 384, 1536, backends.ActivationGelu, true},
			{300, 64, 96, backends.ActivationGelu, true},
			{5, 16, 37, backends.ActivationGelu, false},
			{40, 32, 48, backends.ActivationNone, true},
		} {
			t.Run(fmt.Sprintf("%dx%dx%d/%s/bias=%v", c.rows, c.in, c.out, c.act, c.bias), func(t *testing.T) {
				x := randTensor(rng, 2, c.rows, c.in)
				w := randTensor(rng, 0.2, c.in, c.out)
				bias := randTensor(rng, 1, c.out)
				want, got := execBoth(t, b, backends.OpTypeFusedDense, func(x, w, bias *graph.Node) *graph.Node {
					if !c.bias {
						bias = nil
					}
					return graph.BackendFusedDense(x, w, bias, c.act)
				}, x, w, bias)
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

func TestBroadcastInDimMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, c := range []struct {
			in, axes, out []int
			fast          bool
		}{
			{[]int{2, 1, 1, 20}, []int{0, 1, 2, 3}, []int{2, 3, 20, 20}, true}, // the attention mask
			{[]int{384}, []int{2}, []int{2, 7, 384}, true},                     // a bias
			{[]int{5, 7}, []int{0, 1}, []int{5, 7, 32}, true},                  // one value per row
			{[]int{5, 1}, []int{0, 2}, []int{5, 3, 16}, true},
			{[]int{}, []int{}, []int{4, 16}, true},             // a scalar
			{[]int{7, 5}, []int{1, 0}, []int{5, 7, 16}, false}, // axes out of order: simplego's
			{[]int{3}, []int{1}, []int{3, 3}, false},           // rows too short
		} {
			t.Run(fmt.Sprint(c.in, c.axes, c.out), func(t *testing.T) {
				x := buffer(t, b, rng, c.in...)
				n := node(backends.OpTypeBroadcastInDim, shapes.Make(dtypes.Float32, c.out...), c.axes)
				want, got, fast := runBoth(t, b, backends.OpTypeBroadcastInDim, n, true, x)
				if fast != c.fast {
					t.Fatalf("fast path taken: %v, want %v", fast, c.fast)
				}
				for i := range want {
					if want[i] != got[i] {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

func TestGatherMatchesSimplego(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		table := randTensor(rng, 1, 1000, 48)
		for _, c := range []struct {
			name string
			ids  *tensors.Tensor
		}{
			{"int64 [2,5,1]", tensors.FromFlatDataAndDimensions([]int64{0, 999, 5, 17, 3, 3, 500, 1, 2, 998}, 2, 5, 1)},
			{"int32 [7,1]", tensors.FromFlatDataAndDimensions([]int32{4, 8, 15, 16, 23, 42, 0}, 7, 1)},
		} {
			t.Run(c.name, func(t *testing.T) {
				want, got := execBoth(t, b, backends.OpTypeGather, func(table, ids *graph.Node) *graph.Node {
					return graph.Gather(table, ids)
				}, table, c.ids)
				for i := range want {
					if want[i] != got[i] {
						t.Fatalf("[%d] = %v, simplego %v", i, got[i], want[i])
					}
				}
			})
		}
	})
}

// Adding an all −0 mask (an unpadded batch's) to scores the op owns hands
// the scores back untouched; bit-identical to simplego's Add for every
// value, −0, +0, infinities and NaN included, in either operand order. A
// mask with one +0 (or padding) is added as usual.
func TestAddOfNegativeZeroMask(t *testing.T) {
	b := installed(t)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		negZero := float32(math.Copysign(0, -1))
		for _, c := range []struct {
			name     string
			fill     func(m []float32)
			identity bool
		}{
			{"all -0", func(m []float32) {
				for i := range m {
					m[i] = negZero
				}
			}, true},
			{"one +0", func(m []float32) {
				for i := range m {
					m[i] = negZero
				}
				m[len(m)/2] = 0
			}, false},
			{"padding", func(m []float32) {
				for i := range m {
					m[i] = negZero
				}
				m[len(m)-1] = -10000
			}, false},
		} {
			for _, seq := range []int{20, 12} { // 12: rows shorter than the row-wise path takes
				for _, maskFirst := range []bool{false, true} {
					for _, owned := range []bool{false, true} {
						t.Run(fmt.Sprintf("%s/seq=%d/maskFirst=%v/owned=%v", c.name, seq, maskFirst, owned), func(t *testing.T) {
							scores := buffer(t, b, rng, 2, 3, seq, seq)
							sd, _, _ := f32(b, scores)
							sd[0], sd[1], sd[2], sd[3] = negZero, 0, float32(math.Inf(-1)), float32(math.NaN())
							mask := buffer(t, b, rng, 2, 1, 1, seq)
							md, _, _ := f32(b, mask)
							c.fill(md)
							ins := []*simplego.Buffer{scores, mask}
							if maskFirst {
								ins[0], ins[1] = mask, scores
							}
							before := identityAdds.Load()
							n := node(backends.OpTypeAdd, shapes.Make(dtypes.Float32, 2, 3, seq, seq), nil)
							want, got, fast := runBoth(t, b, backends.OpTypeAdd, n, owned, ins...)
							if wantFast := seq >= 16 || c.identity && owned; fast != wantFast {
								t.Fatalf("fast path taken: %v, want %v", fast, wantFast)
							}
							if took := identityAdds.Load() > before; took != (c.identity && owned) {
								t.Fatalf("identity path taken: %v, want %v", took, c.identity && owned)
							}
							for i := range want {
								if math.Float32bits(want[i]) != math.Float32bits(got[i]) && !(math.IsNaN(float64(want[i])) && math.IsNaN(float64(got[i]))) {
									t.Fatalf("[%d] = %v (%#x), simplego %v (%#x)", i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
								}
							}
						})
					}
				}
			}
		}
	})
}
