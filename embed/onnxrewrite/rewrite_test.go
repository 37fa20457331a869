package onnxrewrite

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func randFloats(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// linearModel is layers linear layers reading the same input:
// x[batch, seq, k] × w_i[k, n] (+ b_i[n]) → y_i[batch, seq, n].
func linearModel(k, n, layers int, bias bool) []byte {
	r := rand.New(rand.NewPCG(1, uint64(k*n)))
	var m testModel
	m.input("x", "batch", "seq", k)
	for i := range layers {
		w, b, y := "w"+string(rune('0'+i)), "b"+string(rune('0'+i)), "y"+string(rune('0'+i))
		m.init(w, []int64{int64(k), int64(n)}, randFloats(r, k*n))
		if bias {
			m.init(b, []int64{int64(n)}, randFloats(r, n))
			m.node("MatMul", []string{"x", w}, []string{y + "_mm"})
			m.node("Add", []string{y + "_mm", b}, []string{y})
		} else {
			m.node("MatMul", []string{"x", w}, []string{y})
		}
		m.output(y, "batch", "seq", n)
	}
	return m.bytes()
}

// geluModel is a BERT feed-forward block with the exact GELU as PyTorch
// exports it: x → MatMul w1 → Add b1 → x·(erf(x/√2)+1)·0.5 → MatMul w2 →
// Add b2 → y. broken changes the chain's "+1" to "+2", which is no GELU.
func geluModel(k, h int, broken bool) []byte {
	r := rand.New(rand.NewPCG(2, uint64(k*h)))
	var m testModel
	m.input("x", "batch", "seq", k)
	m.init("w1", []int64{int64(k), int64(h)}, randFloats(r, k*h))
	m.init("b1", []int64{int64(h)}, randFloats(r, h))
	m.init("w2", []int64{int64(h), int64(k)}, randFloats(r, h*k))
	m.init("b2", []int64{int64(k)}, randFloats(r, k))
	one := float32(1)
	if broken {
		one = 2
	}
	m.constant("sqrt2", float32(math.Sqrt2))
	m.constant("one", one)
	m.constant("half", 0.5)
	m.node("MatMul", []string{"x", "w1"}, []string{"h_mm"})
	m.node("Add", []string{"h_mm", "b1"}, []string{"h"})
	m.node("Div", []string{"h", "sqrt2"}, []string{"h_div"})
	m.node("Erf", []string{"h_div"}, []string{"h_erf"})
	m.node("Add", []string{"one", "h_erf"}, []string{"h_erf1"})
	m.node("Mul", []string{"h_erf1", "h"}, []string{"h_mul"})
	m.node("Mul", []string{"h_mul", "half"}, []string{"g"})
	m.node("MatMul", []string{"g", "w2"}, []string{"o_mm"})
	m.node("Add", []string{"b2", "o_mm"}, []string{"y"})
	m.output("y", "batch", "seq", k)
	return m.bytes()
}

// maskedInput declares BERT's inputs, x [batch, seq, 4] and the padding
// mask [batch, 1, 1, seq], and the additive mask m = (1 − mask) × −10000
// as the exports compute it.
func (m *testModel) maskedInput() {
	m.input("x", "batch", "seq", 4)
	m.input("mask", "batch", 1, 1, "seq")
	m.constant("one", 1)
	m.constant("big", -10000)
	m.node("Sub", []string{"one", "mask"}, []string{"inv"})
	m.node("Mul", []string{"inv", "big"}, []string{"m"})
}

// maskModel has attention layers' Softmax(Q·Kᵀ / c + mask) as BERT
// exports them: the divisor a Constant node between the product and the
// Div, the mask computed once from the input mask; and a linear layer
// (without one the model is left as it is).
func maskModel(layers int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	var m testModel
	m.maskedInput()
	for i := range layers {
		l := string(rune('0' + i))
		q, kt, mm, c, s, a, y := "q"+l, "kt"+l, "mm"+l, "c"+l, "scores"+l, "a"+l, "p"+l
		m.input(q, "batch", 2, "seq", 3)
		m.input(kt, "batch", 2, 3, "seq")
		m.node("MatMul", []string{q, kt}, []string{mm})
		m.constant(c, 1.7320508) // √3, not a power of two
		m.node("Div", []string{mm, c}, []string{s})
		ins := []string{s, "m"}
		if i%2 == 1 {
			ins = []string{"m", s}
		}
		m.node("Add", ins, []string{a})
		m.node("Softmax", []string{a}, []string{y}, encodeIntAttr("axis", -1))
		m.output(y, "batch", 2, "seq", "seq")
	}
	m.init("w", []int64{4, 3}, randFloats(r, 12))
	m.node("MatMul", []string{"x", "w"}, []string{"y"})
	m.output("y", "batch", "seq", 3)
	return m.bytes()
}

func mustRewrite(t *testing.T, model []byte, wantN int) decoded {
	t.Helper()
	out, n, err := Rewrite(model)
	if err != nil {
		t.Fatal(err)
	}
	if n != wantN {
		t.Fatalf("rewrote %d MatMuls, want %d", n, wantN)
	}
	// Idempotent: the rewritten model has nothing left to rewrite.
	again, n2, err := Rewrite(out)
	if err != nil || n2 != 0 || !bytes.Equal(again, out) {
		t.Fatalf("second rewrite: %d MatMuls, changed %v, err %v", n2, !bytes.Equal(again, out), err)
	}
	return decodeModel(t, out)
}

func wantOps(t *testing.T, d decoded, want ...string) {
	t.Helper()
	if got := d.ops(); !slices.Equal(got, want) {
		t.Fatalf("nodes\n got %v\nwant %v", got, want)
	}
}

func wantInt64s(t *testing.T, d decoded, name string, want ...int64) {
	t.Helper()
	got, ok := d.inits[name]
	if !ok {
		t.Fatalf("no initializer %q", name)
	}
	if !slices.Equal(got.int64s, want) || !slices.Equal(got.dims, []int64{int64(len(want))}) {
		t.Fatalf("%s = %v dims %v, want %v", name, got.int64s, got.dims, want)
	}
}

func TestRewriteLinear(t *testing.T) {
	d := mustRewrite(t, linearModel(4, 5, 1, true), 1)
	wantOps(t, d, "Reshape", "MatMul", "Add", "Shape", "Slice", "Concat", "Reshape")
	flatten, mm, add, shape, slice, concat, back := d.nodes[0], d.nodes[1], d.nodes[2], d.nodes[3], d.nodes[4], d.nodes[5], d.nodes[6]

	// x → [-1, K] → MatMul with the same weight → bias Add on 2-D data.
	if flatten.inputs[0] != "x" || !slices.Equal(mm.inputs, []string{flatten.outputs[0], "w0"}) ||
		!slices.Contains(add.inputs, mm.outputs[0]) || !slices.Contains(add.inputs, "b0") {
		t.Fatalf("flatten %v → MatMul %v → Add %v", flatten.inputs, mm.inputs, add.inputs)
	}
	wantInt64s(t, d, flatten.inputs[1], -1, 4)
	// Back to x's leading axes and N: Concat(Shape(x)[0:-1], [5]), axis 0.
	if shape.inputs[0] != "x" || slice.inputs[0] != shape.outputs[0] || concat.inputs[0] != slice.outputs[0] {
		t.Fatalf("shape %v, slice %v, concat %v", shape.inputs, slice.inputs, concat.inputs)
	}
	wantInt64s(t, d, slice.inputs[1], 0)
	wantInt64s(t, d, slice.inputs[2], -1)
	wantInt64s(t, d, concat.inputs[1], 5)
	if a := intAttrs(t, concat); len(a) != 1 || a["axis"] != 0 {
		t.Fatalf("Concat attributes %v", a)
	}
	if !slices.Equal(back.inputs, []string{add.outputs[0], concat.outputs[0]}) || !slices.Equal(back.outputs, []string{"y0"}) {
		t.Fatalf("unflatten %v → %v", back.inputs, back.outputs)
	}
	// The weights are copied through untouched.
	if w := d.inits["w0"]; !slices.Equal(w.dims, []int64{4, 5}) || w.rawLen != 4*4*5 {
		t.Fatalf("w0 %+v", w)
	}
}

func TestRewriteLinearNoBias(t *testing.T) {
	d := mustRewrite(t, linearModel(4, 5, 1, false), 1)
	wantOps(t, d, "Reshape", "MatMul", "Shape", "Slice", "Concat", "Reshape")
	if back := d.nodes[5]; !slices.Equal(back.inputs[:1], d.nodes[1].outputs) || back.outputs[0] != "y0" {
		t.Fatalf("unflatten %v → %v", back.inputs, back.outputs)
	}
}

func TestRewriteSharesFlattenedInput(t *testing.T) {
	// Q, K and V read the same activation: flattened once, its shape
	// taken once.
	d := mustRewrite(t, linearModel(4, 6, 3, true), 3)
	wantOps(t, d, "Reshape", "MatMul", "Add", "Shape", "Slice", "Concat", "Reshape",
		"MatMul", "Add", "Concat", "Reshape", "MatMul", "Add", "Concat", "Reshape")
}

func TestRewriteFusesErfGelu(t *testing.T) {
	d := mustRewrite(t, geluModel(4, 8, false), 2)
	wantOps(t, d, "Constant", "Constant", "Constant",
		"Reshape", "MatMul", "Add", "Gelu", "Shape", "Slice", "Concat", "Reshape",
		"Reshape", "MatMul", "Add", "Shape", "Slice", "Concat", "Reshape")
	add, gelu, back := d.nodes[5], d.nodes[6], d.nodes[10]
	if !slices.Equal(gelu.inputs, add.outputs) || back.inputs[0] != gelu.outputs[0] || back.outputs[0] != "g" {
		t.Fatalf("Add %v → Gelu %v → Reshape %v → %v", add.outputs, gelu.inputs, back.inputs, back.outputs)
	}
	wantInt64s(t, d, d.producer(t, back.inputs[1]).inputs[1], 8)
	if d.nodes[11].inputs[0] != "g" {
		t.Fatalf("second layer reads %v", d.nodes[11].inputs)
	}
}

func TestRewriteLeavesBrokenGeluAlone(t *testing.T) {
	d := mustRewrite(t, geluModel(4, 8, true), 2)
	ops := d.ops()
	if slices.Contains(ops, "Gelu") {
		t.Fatalf("fused a chain that is no GELU: %v", ops)
	}
	for _, op := range []string{"Div", "Erf"} {
		if !slices.Contains(ops, op) {
			t.Fatalf("the chain's %s went: %v", op, ops)
		}
	}
	// Its input is the layer's output, back in the original shape.
	if p := d.producer(t, "h"); p.opType != "Reshape" {
		t.Fatalf("h produced by %s", p.opType)
	}
}

func TestRewriteMovesAttentionScale(t *testing.T) {
	d := mustRewrite(t, maskModel(2), 1)
	for i := range 2 {
		l := string(rune('0' + i))
		// The scores are now the product of the scaled query and Kᵀ …
		mm := d.producer(t, "scores"+l)
		if mm.opType != "MatMul" || mm.inputs[1] != "kt"+l {
			t.Fatalf("layer %d: scores produced by %s%v", i, mm.opType, mm.inputs)
		}
		// … the query divided by the layer's constant, defined before use.
		div := d.producer(t, mm.inputs[0])
		if div.opType != "Div" || !slices.Equal(div.inputs, []string{"q" + l, "c" + l}) {
			t.Fatalf("layer %d: the product's left operand is %s%v", i, div.opType, div.inputs)
		}
		pos := map[string]int{}
		for j, n := range d.nodes {
			for _, o := range n.outputs {
				pos[o] = j
			}
		}
		if pos["c"+l] > pos[div.outputs[0]] {
			t.Fatalf("layer %d: the divisor is defined after its use", i)
		}
		// The mask is added as it is, not expanded.
		if slices.Contains(d.ops(), "Expand") {
			t.Fatalf("the mask was expanded: %v", d.ops())
		}
	}
	if n := strings.Count(strings.Join(d.ops(), " "), "Div"); n != 2 {
		t.Fatalf("%d Divs after the rewrite, want 2: %v", n, d.ops())
	}
}

// A Div of a product that is not the attention pattern stays where it is.
func TestRewriteLeavesOtherDivsAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var m testModel
	m.input("x", "batch", "seq", 4)
	m.input("a", "batch", 3, 3)
	m.input("b", "batch", 3, 3)
	m.input("v", 1)
	m.node("MatMul", []string{"a", "b"}, []string{"ab"})
	m.constant("c", 3)
	m.node("Div", []string{"ab", "c"}, []string{"no_softmax"}) // feeds no Softmax
	m.output("no_softmax", "batch", 3, 3)
	m.node("MatMul", []string{"b", "a"}, []string{"ba"})
	m.node("Div", []string{"ba", "v"}, []string{"by_input"}) // the divisor is an input
	m.node("Softmax", []string{"by_input"}, []string{"p"}, encodeIntAttr("axis", -1))
	m.output("p", "batch", 3, 3)
	m.init("w", []int64{4, 3}, randFloats(r, 12))
	m.node("MatMul", []string{"x", "w"}, []string{"y"})
	m.output("y", "batch", "seq", 3)
	d := mustRewrite(t, m.bytes(), 1)
	for _, out := range []string{"no_softmax", "by_input"} {
		if p := d.producer(t, out); p.opType != "Div" {
			t.Errorf("%s produced by %s, want the Div left in place", out, p.opType)
		}
	}
}

func TestRewriteNothingToDo(t *testing.T) {
	for name, build := range map[string]func(*testModel){
		"no MatMul": func(m *testModel) {
			m.input("x", 2, 3)
			m.node("Relu", []string{"x"}, []string{"y"})
		},
		"two activations": func(m *testModel) {
			m.input("x", 2, 3)
			m.input("z", 3, 4)
			m.node("MatMul", []string{"x", "z"}, []string{"y"})
		},
		"rank-3 weight": func(m *testModel) {
			m.input("x", 2, 2, 3)
			m.init("w", []int64{2, 3, 4}, make([]float32, 24))
			m.node("MatMul", []string{"x", "w"}, []string{"y"})
		},
		"constant left operand": func(m *testModel) {
			m.init("a", []int64{2, 3}, make([]float32, 6))
			m.init("w", []int64{3, 4}, make([]float32, 12))
			m.node("MatMul", []string{"a", "w"}, []string{"y"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			var m testModel
			build(&m)
			m.output("y")
			model := m.bytes()
			out, n, err := Rewrite(model)
			if err != nil || n != 0 || !bytes.Equal(out, model) {
				t.Fatalf("n %d, err %v, changed %v", n, err, !bytes.Equal(out, model))
			}
			out, data, n, err := RewriteExternal(model)
			if err != nil || n != 0 || data != nil || !bytes.Equal(out, model) {
				t.Fatalf("external: n %d, err %v, data %v", n, err, data)
			}
		})
	}
}

func TestRewriteMalformed(t *testing.T) {
	good := linearModel(4, 5, 1, true)
	for name, c := range map[string]struct {
		model []byte
		err   string
	}{
		"empty":          {nil, "no graph"},
		"bad tag":        {[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "bad protobuf tag"},
		"truncated":      {good[:len(good)-3], "bad protobuf field"},
		"not a protobuf": {[]byte("<html>404 Not Found</html>"), "ONNX model"},
		"graph garbage":  {[]byte{byte(modelGraph<<3 | 2), 3, 0x0a, 0x05, 0x01}, "ONNX graph"},
		"node garbage":   {[]byte{byte(modelGraph<<3 | 2), 4, 0x0a, 0x02, 0x0a, 0x09}, "ONNX node"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, external := range []bool{false, true} {
				_, _, _, err := rewrite(c.model, external)
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
			}
		})
	}
}

func TestRewriteExternal(t *testing.T) {
	// Two weights above the threshold, one bias below it.
	const k, n = 128, 96
	model := linearModel(k, n, 2, true)
	out, data, rewrote, err := RewriteExternal(model)
	if err != nil || rewrote != 2 {
		t.Fatalf("rewrote %d, err %v", rewrote, err)
	}
	d := decodeModel(t, out)
	orig := decodeModel(t, model)
	var file bytes.Buffer
	if w, err := data.WriteTo(&file); err != nil || int(w) != data.Size() || file.Len() != data.Size() {
		t.Fatalf("wrote %d of %d: %v", w, data.Size(), err)
	}
	for _, w := range []string{"w0", "w1"} {
		e := d.inits[w].external
		if e["location"] != ExternalDataFile || e["length"] != "49152" || d.inits[w].rawLen != 0 {
			t.Fatalf("%s: %+v", w, d.inits[w])
		}
		if !slices.Equal(d.inits[w].dims, orig.inits[w].dims) {
			t.Fatalf("%s dims %v", w, d.inits[w].dims)
		}
		off, _ := strconv.Atoi(e["offset"])
		if !bytes.Equal(file.Bytes()[off:off+4*k*n], orig.inits[w].raw) {
			t.Fatalf("%s: the data file holds other bytes", w)
		}
	}
	if d.inits["w0"].external["offset"] != "0" || d.inits["w1"].external["offset"] != "49152" {
		t.Fatalf("offsets %s, %s", d.inits["w0"].external["offset"], d.inits["w1"].external["offset"])
	}
	for _, b := range []string{"b0", "b1"} {
		if d.inits[b].external != nil || d.inits[b].rawLen != 4*n {
			t.Fatalf("%s moved out: %+v", b, d.inits[b])
		}
	}
	// Rewriting again moves nothing more.
	if again, _, n2, err := RewriteExternal(out); err != nil || n2 != 0 || !bytes.Equal(again, out) {
		t.Fatalf("second rewrite: %d, %v", n2, err)
	}
}

func TestExternalDataAlignment(t *testing.T) {
	var d ExternalData
	for _, size := range []int{40_001, 7, 64, 100} {
		if off := d.add(make([]byte, size)); off%64 != 0 {
			t.Fatalf("chunk of %d at offset %d", size, off)
		}
	}
	var buf bytes.Buffer
	if n, err := d.WriteTo(&buf); err != nil || int(n) != d.Size() {
		t.Fatal(n, err)
	}
	var none *ExternalData
	if n, err := none.WriteTo(&buf); none.Size() != 0 || n != 0 || err != nil {
		t.Fatal("nil ExternalData")
	}
}

// attentionModel has two BERT self-attention layers as PyTorch exports
// them: Q and V split into heads by Transpose [0, 2, 1, 3], K by [0, 2,
// 3, 1] (layer 0, with the padding mask) or by [0, 2, 1, 3] then [0, 1,
// 3, 2] (layer 1, no mask); MatMul, Div by √3 (a Constant), Softmax,
// MatMul by V, and the heads merged back by Transpose [0, 2, 1, 3]; and
// a linear layer (without one the model is left as it is).
func attentionModel() []byte {
	r := rand.New(rand.NewPCG(7, 8))
	var m testModel
	m.maskedInput()
	perm := func(p ...int64) []byte { return encodeIntsAttr("perm", p...) }
	for i := range 2 {
		l := string(rune('0' + i))
		qr, kr, vr := "qr"+l, "kr"+l, "vr"+l
		m.input(qr, "batch", "seq", 2, 3)
		m.input(kr, "batch", "seq", 2, 3)
		m.input(vr, "batch", "seq", 2, 3)
		m.node("Transpose", []string{qr}, []string{"q" + l}, perm(0, 2, 1, 3))
		m.node("Transpose", []string{vr}, []string{"v" + l}, perm(0, 2, 1, 3))
		if i == 0 {
			m.node("Transpose", []string{kr}, []string{"kt" + l}, perm(0, 2, 3, 1))
		} else {
			m.node("Transpose", []string{kr}, []string{"k" + l}, perm(0, 2, 1, 3))
			m.node("Transpose", []string{"k" + l}, []string{"kt" + l}, perm(0, 1, 3, 2))
		}
		m.node("MatMul", []string{"q" + l, "kt" + l}, []string{"mm" + l})
		m.constant("c"+l, 1.7320508)
		m.node("Div", []string{"mm" + l, "c" + l}, []string{"scores" + l})
		s := "scores" + l
		if i == 0 {
			m.node("Add", []string{s, "m"}, []string{"a" + l})
			s = "a" + l
		}
		m.node("Softmax", []string{s}, []string{"p" + l}, encodeIntAttr("axis", -1))
		m.node("MatMul", []string{"p" + l, "v" + l}, []string{"ctx" + l})
		m.node("Transpose", []string{"ctx" + l}, []string{"y" + l}, perm(0, 2, 1, 3))
		m.output("y"+l, "batch", "seq", 2, 3)
	}
	m.init("w", []int64{4, 3}, randFloats(r, 12))
	m.node("MatMul", []string{"x", "w"}, []string{"y"})
	m.output("y", "batch", "seq", 3)
	return m.bytes()
}

func TestRewriteFusesAttention(t *testing.T) {
	d := mustRewrite(t, attentionModel(), 1)
	ops := strings.Join(d.ops(), " ")
	for _, gone := range []string{"Softmax", "Div"} {
		if strings.Contains(ops, gone) {
			t.Fatalf("%s left after the rewrite: %v", gone, d.ops())
		}
	}
	if n := strings.Count(ops, "MultiHeadAttention"); n != 2 {
		t.Fatalf("%d MultiHeadAttention nodes, want 2: %v", n, d.ops())
	}
	for i := range 2 {
		l := string(rune('0' + i))
		mha := d.producer(t, "ctx"+l)
		if mha.opType != "MultiHeadAttention" || mha.inputs[0] != "q"+l || mha.inputs[2] != "v"+l {
			t.Fatalf("layer %d: ctx produced by %s%v", i, mha.opType, mha.inputs)
		}
		if got := attrFloat(t, mha, "scale"); math.Abs(float64(got)-1/1.7320508) > 1e-7 {
			t.Fatalf("layer %d: scale %v, want 1/√3", i, got)
		}
		// K with its heads first: a new Transpose [0, 2, 1, 3] for layer 0,
		// the model's own for layer 1.
		k := d.producer(t, mha.inputs[1])
		if k.opType != "Transpose" || k.inputs[0] != "kr"+l || !slices.Equal(nodeInts(k.raw, "perm"), []int64{0, 2, 1, 3}) {
			t.Fatalf("layer %d: K is %s%v perm %v", i, k.opType, k.inputs, nodeInts(k.raw, "perm"))
		}
		// The mask, expanded, only where the model adds one.
		if i == 0 && (len(mha.inputs) != 4 || d.producer(t, mha.inputs[3]).opType != "Expand") {
			t.Fatalf("layer 0: inputs %v, want an expanded mask fourth", mha.inputs)
		}
		if i == 1 && len(mha.inputs) != 3 {
			t.Fatalf("layer 1: inputs %v, want no mask", mha.inputs)
		}
	}
	// Kᵀ of layer 0 is read by nothing now and is gone.
	for _, n := range d.nodes {
		if slices.Contains(n.outputs, "kt0") {
			t.Fatalf("the unused Kᵀ transpose is still emitted")
		}
	}
}

// An attention whose scores are also a graph output is left decomposed.
func TestRewriteLeavesExposedAttentionAlone(t *testing.T) {
	var m testModel
	m.input("x", "batch", "seq", 4)
	m.input("qr", "batch", "seq", 2, 3)
	m.input("kr", "batch", "seq", 2, 3)
	m.input("vr", "batch", "seq", 2, 3)
	m.node("Transpose", []string{"qr"}, []string{"q"}, encodeIntsAttr("perm", 0, 2, 1, 3))
	m.node("Transpose", []string{"vr"}, []string{"v"}, encodeIntsAttr("perm", 0, 2, 1, 3))
	m.node("Transpose", []string{"kr"}, []string{"kt"}, encodeIntsAttr("perm", 0, 2, 3, 1))
	m.node("MatMul", []string{"q", "kt"}, []string{"mm"})
	m.constant("c", 2)
	m.node("Div", []string{"mm", "c"}, []string{"s"})
	m.node("Softmax", []string{"s"}, []string{"p"}, encodeIntAttr("axis", -1))
	m.node("MatMul", []string{"p", "v"}, []string{"ctx"})
	m.output("ctx", "batch", 2, "seq", 3)
	m.output("p", "batch", 2, "seq", "seq")
	m.init("w", []int64{4, 3}, randFloats(rand.New(rand.NewPCG(1, 1)), 12))
	m.node("MatMul", []string{"x", "w"}, []string{"y"})
	m.output("y", "batch", "seq", 3)
	d := mustRewrite(t, m.bytes(), 1)
	if p := d.producer(t, "p"); p.opType != "Softmax" {
		t.Fatalf("p produced by %s, want the Softmax left in place", p.opType)
	}
}

func attrFloat(t *testing.T, nd pbNode, name string) float32 {
	t.Helper()
	var v float32
	found := false
	_ = forEachField(nodeAttr(nd.raw, name), "test", func(num protowire.Number, typ protowire.Type, x, _ []byte) error {
		if num == attrF && typ == protowire.Fixed32Type {
			u, _ := protowire.ConsumeFixed32(x)
			v, found = math.Float32frombits(u), true
		}
		return nil
	})
	if !found {
		t.Fatalf("%s has no attribute %q", nd.name, name)
	}
	return v
}
