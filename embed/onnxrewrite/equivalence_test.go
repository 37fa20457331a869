package onnxrewrite

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/onnx-gomlx/onnx/parser"
)

// The rewritten models compute what the originals do: both run through
// onnx-gomlx on GoMLX simplego (the engine's stack; only the tests import
// it) on random inputs of several shapes.

var testBackend = sync.OnceValues(func() (backends.Backend, error) { return simplego.New("") })

// runModel runs model (its external data, if any, in dir) on inputs
// (name → dims; values drawn from seed) and returns its outputs by name.
func runModel(t *testing.T, model []byte, dir string, inputs map[string][]int, seed uint64) map[string][]float32 {
	t.Helper()
	b, err := testBackend()
	if err != nil {
		t.Fatal(err)
	}
	m, err := parser.Parse(model)
	if err != nil {
		t.Fatal(err)
	}
	if dir != "" {
		m = m.WithBaseDir(dir)
	}
	ctx := context.New()
	if err := m.VariablesToContext(ctx); err != nil {
		t.Fatal(err)
	}
	names, _ := m.Inputs()
	outNames, _ := m.Outputs()
	r := rand.New(rand.NewPCG(seed, 7))
	args := make([]any, len(names))
	for i, name := range names {
		dims, ok := inputs[name]
		if !ok {
			t.Fatalf("no dims for input %q", name)
		}
		size := 1
		for _, d := range dims {
			size *= d
		}
		v := randFloats(r, size)
		if name == "mask" {
			for j := range v {
				v[j] = float32(r.IntN(2)) // 0/1 attention mask
			}
		}
		args[i] = tensors.FromFlatDataAndDimensions(v, dims...)
	}
	exec, err := context.NewExec(b, ctx, func(ctx *context.Context, in []*graph.Node) []*graph.Node {
		feeds := map[string]*graph.Node{}
		for i, name := range names {
			feeds[name] = in[i]
		}
		return m.CallGraph(ctx, in[0].Graph(), feeds, outNames...)
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][]float32{}
	for i, o := range outs {
		res[outNames[i]] = tensors.MustCopyFlatData[float32](o)
	}
	return res
}

func TestRewriteEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs GoMLX graphs")
	}
	shapes := [][2]int{{2, 3}, {1, 7}} // batch, seq
	for _, c := range []struct {
		name     string
		k        int // x's last axis
		model    []byte
		n        int
		external bool
		inputs   func(batch, seq int) map[string][]int
	}{
		{"linear", 8, linearModel(8, 5, 1, true), 1, false, nil},
		{"linear no bias", 8, linearModel(8, 5, 1, false), 1, false, nil},
		{"qkv", 8, linearModel(8, 6, 3, true), 3, false, nil},
		{"gelu", 8, geluModel(8, 16, false), 2, false, nil},
		{"broken gelu", 8, geluModel(8, 16, true), 2, false, nil},
		{"external", 128, linearModel(128, 96, 2, true), 2, true, nil},
		{"mask", 4, maskModel(2), 1, false, func(batch, seq int) map[string][]int {
			return map[string][]int{"x": {batch, seq, 4}, "mask": {batch, 1, 1, seq},
				"q0": {batch, 2, seq, 3}, "kt0": {batch, 2, 3, seq}, "q1": {batch, 2, seq, 3}, "kt1": {batch, 2, 3, seq}}
		}},
		{"attention", 4, attentionModel(), 1, false, func(batch, seq int) map[string][]int {
			in := map[string][]int{"x": {batch, seq, 4}, "mask": {batch, 1, 1, seq}}
			for _, n := range []string{"qr0", "kr0", "vr0", "qr1", "kr1", "vr1"} {
				in[n] = []int{batch, seq, 2, 3}
			}
			return in
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out []byte
			var n int
			var err error
			dir := ""
			if c.external {
				var data *ExternalData
				out, data, n, err = RewriteExternal(c.model)
				if err == nil {
					dir = t.TempDir()
					f, ferr := os.Create(filepath.Join(dir, ExternalDataFile))
					if ferr != nil {
						t.Fatal(ferr)
					}
					_, err = data.WriteTo(f)
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
			} else {
				out, n, err = Rewrite(c.model)
			}
			if err != nil || n != c.n {
				t.Fatalf("rewrote %d, err %v", n, err)
			}
			for seed, s := range shapes {
				var in map[string][]int
				if c.inputs != nil {
					in = c.inputs(s[0], s[1])
				} else {
					in = map[string][]int{"x": {s[0], s[1], c.k}}
				}
				want := runModel(t, c.model, "", in, uint64(seed))
				got := runModel(t, out, dir, in, uint64(seed))
				for name, w := range want {
					if err := close32(got[name], w); err != nil {
						t.Errorf("shape %v, output %s: %v", s, name, err)
					}
				}
			}
		})
	}
}

// close32 compares within float32 rounding of sums of a few dozen terms.
func close32(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			return fmt.Errorf("[%d] = %g, want %g", i, got[i], want[i])
		}
	}
	return nil
}
