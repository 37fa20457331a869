// Package onnxrewrite rewrites an ONNX model, on the protobuf wire
// format, into the form mnemo's engine runs fastest: bytes in, bytes (and
// optionally an external data file) out. It imports no GoMLX or hugot:
// onnx-gomlx keeps its ONNX protos internal, and only the graph's node
// list changes, so the initializers (90 MB for MiniLM) are copied
// through as bytes.
//
// The rewrite: every MatMul of an activation by a rank-2 weight, A[…, K] ×
// W[K, N], becomes Reshape(A, [-1, K]) × W, followed (after its bias Add,
// when it has one) by a Reshape back to A's leading dimensions. Why: GoMLX
// simplego sends a DotGeneral to packgemm, where mnemo's GEMM is registered
// (embed/kernels), only in "matmul order", which requires the
// left operand to have rank ≤ 2 plus batch axes; the [batch, seq, hidden]
// activations of a BERT linear layer never qualify and fall to the
// normalized or blocked paths, which re-lay-out the weights on every call
// and run 5–6× slower (docs/perf.md). Reshapes of contiguous data cost
// nothing in simplego.
//
// Two more changes ride along. A bias Add followed by the exact (erf)
// GELU as PyTorch exports it becomes Add → Gelu, which onnx-gomlx fuses
// with the MatMul into one FusedDense. BERT's attention, from the scores'
// product to the product with V, becomes one MultiHeadAttention, which
// onnx-gomlx lowers to GoMLX's FusedScaledDotProductAttention (see
// attnFuse; embed/kernels runs it). Elsewhere, the attention scores'
// division by √(head size) moves onto the query, before the product (see
// scaleMove). (An attention mask is no longer expanded to the scores'
// shape: mnemo's Add executor reads a [batch, 1, 1, seq] mask row by row,
// and skips it when it is all −0, as an unpadded batch's is.)
//
// The rewrite is exact but for the attention: the same products and sums,
// in the same order per output element as a matrix product. Scaling the
// query before the product, or the fused attention's own order, rounds
// differently (by about one ulp of a score); the golden tests hold the
// engine to 1e-4, this package's tests to float32 rounding on small
// models.
package onnxrewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Version names the rewrite's output, for caches of rewritten models:
// bump it whenever Rewrite's output changes.
const Version = "mm2d-gelu-ext-qscale-attn-v7"

// ONNX field numbers (onnx.proto3).
const (
	modelGraph = 7

	graphNode        = 1
	graphInitializer = 5
	graphOut         = 12

	valueInfoNameField = 1

	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDomain    = 7

	attrName   = 1
	attrF      = 2
	attrI      = 3
	attrTensor = 5
	attrInts   = 8
	attrType   = 20

	attrTypeFloat = 1
	attrTypeInt   = 2
	attrTypeInts  = 7

	tensorDims         = 1
	tensorDataType     = 2
	tensorFloatData    = 4
	tensorExternalData = 13
	tensorDataLocation = 14
	tensorName         = 8
	tensorRawData      = 9

	tensorFloat = 1
	tensorInt64 = 7
)

type pbNode struct {
	raw     []byte
	name    string
	opType  string
	inputs  []string
	outputs []string
	scalar  float64 // value of a float32 scalar Constant
	isConst bool    // a Constant node holding a float32 scalar
}

type pbInit struct {
	dims []int64
}

// Rewrite returns model with its linear layers rewritten as described in
// the package documentation, and how many MatMuls it rewrote. With none to
// rewrite it returns model itself and 0. A model that is not valid
// protobuf, or has no graph, is an error; Rewrite never panics.
func Rewrite(model []byte) ([]byte, int, error) {
	out, _, n, err := rewrite(model, false)
	return out, n, err
}

// ExternalDataFile is the name, in the rewritten model's folder, of the
// file RewriteExternal moves the large weights to: onnx-gomlx then reads
// them straight into the GoMLX tensors, instead of holding the whole file,
// its parsed copy and the tensors at once during a load (peak RSS about
// three times the weights).
const ExternalDataFile = "model.onnx_data"

// ExternalThreshold is the size in bytes above which RewriteExternal moves
// an initializer's raw data to ExternalDataFile.
const ExternalThreshold = 40_000

// RewriteExternal is Rewrite, also moving every initializer with more than
// ExternalThreshold bytes of raw data to ExternalDataFile (when there is a
// MatMul to rewrite; with none, it returns model, nil and 0, like
// Rewrite); the returned model must be saved beside that file. That
// includes the Q/K/V weights, which stops onnx-gomlx's QKV fusion: it
// concatenates them from the protos at parse time, keeping the
// concatenation, its tensor and the three unused originals (30 MB for
// MiniLM) at the load's RSS peak. Three GEMMs of width N cost about what
// one of width 3N does (docs/perf.md).
//
// The external data comes back as chunks that point into model (and
// padding): the first load on a machine writes them out one by one rather
// than holding a second copy of the weights (90 MB for MiniLM) at its RSS
// peak. model must not change until the data is written.
func RewriteExternal(model []byte) ([]byte, *ExternalData, int, error) {
	return rewrite(model, true)
}

func rewrite(model []byte, external bool) ([]byte, *ExternalData, int, error) {
	// Split the model into the bytes before, of, and after the graph field.
	var graph []byte
	var pre, post []byte
	off := 0
	err := forEachField(model, "ONNX model", func(num protowire.Number, typ protowire.Type, v, field []byte) error {
		if num == modelGraph && typ == protowire.BytesType {
			graph, pre, post = v, model[:off], model[off+len(field):]
		}
		off += len(field)
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if graph == nil {
		return nil, nil, 0, errors.New("ONNX model has no graph")
	}

	// Parse nodes and initializer shapes; keep every other field as bytes.
	var nodes []pbNode
	var others [][]byte // non-node graph fields, in order
	inits := map[string]pbInit{}
	graphOutputs := map[string]bool{}
	err = forEachField(graph, "ONNX graph", func(num protowire.Number, typ protowire.Type, v, field []byte) error {
		switch {
		case num == graphNode && typ == protowire.BytesType:
			nd, err := parseNode(v)
			if err != nil {
				return err
			}
			nodes = append(nodes, nd)
		case num == graphInitializer && typ == protowire.BytesType:
			name, dims := parseTensorHeader(v)
			inits[name] = pbInit{dims: dims}
			others = append(others, field)
		case num == graphOut && typ == protowire.BytesType:
			graphOutputs[valueInfoName(v)] = true
			others = append(others, field)
		default:
			others = append(others, field)
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, err
	}

	consumers := map[string][]int{}
	for i, nd := range nodes {
		for _, in := range nd.inputs {
			consumers[in] = append(consumers[in], i)
		}
	}

	type plan struct {
		k, n     int64
		a        string
		addIdx   int  // bias Add node after the MatMul, or -1
		gelu     bool // the Add feeds an exact (erf) GELU, replaced by one Gelu node
		finalOut string
	}
	skip := map[int]bool{}    // nodes of replaced GELU chains
	plans := map[int]*plan{}  // MatMul node index → plan
	afterAdd := map[int]int{} // Add node index → MatMul node index
	for i, nd := range nodes {
		if nd.opType != "MatMul" || len(nd.inputs) != 2 || len(nd.outputs) != 1 {
			continue
		}
		w, ok := inits[nd.inputs[1]]
		if !ok || len(w.dims) != 2 {
			continue
		}
		if _, isInit := inits[nd.inputs[0]]; isInit {
			continue
		}
		if rewritten(nodes, nd.inputs[0]) {
			continue // already 2-D: the model was rewritten before
		}
		p := &plan{k: w.dims[0], n: w.dims[1], a: nd.inputs[0], addIdx: -1, finalOut: nd.outputs[0]}
		if cs := consumers[nd.outputs[0]]; len(cs) == 1 {
			add := nodes[cs[0]]
			if add.opType == "Add" && len(add.inputs) == 2 && len(add.outputs) == 1 {
				other := add.inputs[0]
				if other == nd.outputs[0] {
					other = add.inputs[1]
				}
				if bias, ok := inits[other]; ok && len(bias.dims) == 1 && bias.dims[0] == p.n {
					p.addIdx = cs[0]
					p.finalOut = add.outputs[0]
					afterAdd[cs[0]] = i
					if chain, y, ok := matchErfGelu(nodes, consumers, add.outputs[0]); ok {
						p.gelu, p.finalOut = true, y
						for _, c := range chain {
							skip[c] = true
						}
					}
				}
			}
		}
		plans[i] = p
	}
	if len(plans) == 0 {
		return model, nil, 0, nil
	}

	// The attention scale: Div(MatMul(Q, Kᵀ), c) becomes MatMul(Div(Q, c),
	// Kᵀ). The scores are [batch, heads, seq, seq] and Q is [batch, heads,
	// seq, head size]: at 256 tokens and a head size of 32 the division
	// touches 8× fewer values (it was 2% of an 8 × 256 pass). Only for a
	// product of two activations whose one consumer is that Div, by a
	// scalar from an initializer or a Constant node, feeding the Softmax
	// (directly or through the mask's Add). The Constant, when it comes
	// after the MatMul, is emitted before it instead (it has no inputs).
	type scaleMove struct {
		div      int    // the Div node
		c        string // the divisor
		constIdx int    // its Constant node, or -1 (an initializer)
	}
	scaleMoves := map[int]scaleMove{} // MatMul node → its move
	hoisted := map[int]bool{}         // Constant nodes emitted early
	for i, nd := range nodes {
		if nd.opType != "MatMul" || len(nd.inputs) != 2 || len(nd.outputs) != 1 || plans[i] != nil {
			continue
		}
		if _, ok := inits[nd.inputs[0]]; ok {
			continue
		}
		if _, ok := inits[nd.inputs[1]]; ok {
			continue
		}
		cs := consumers[nd.outputs[0]]
		if len(cs) != 1 {
			continue
		}
		div := nodes[cs[0]]
		if div.opType != "Div" || len(div.inputs) != 2 || len(div.outputs) != 1 || div.inputs[0] != nd.outputs[0] || !feedsSoftmax(nodes, consumers, div.outputs[0]) {
			continue
		}
		c := div.inputs[1]
		mv := scaleMove{div: cs[0], c: c, constIdx: -1}
		if in, ok := inits[c]; ok {
			if !scalarDims(in.dims) {
				continue
			}
		} else {
			ps := producers(nodes, c)
			if len(ps) != 1 || nodes[ps[0]].opType != "Constant" || len(nodes[ps[0]].inputs) != 0 || !nodes[ps[0]].isConst {
				continue
			}
			if ps[0] > i {
				mv.constIdx = ps[0]
			}
		}
		scaleMoves[i] = mv
		if mv.constIdx >= 0 {
			hoisted[mv.constIdx] = true
		}
	}
	// Attention, fused: MatMul(Q, Kᵀ) → Div(·, c) → [Add(·, mask)] →
	// Softmax(axis −1) → MatMul(·, V), with Q and V from rank-4 Transposes
	// and Kᵀ a Transpose with perm [0, 2, 3, 1] (BERT's) or [0, 1, 3, 2],
	// becomes one com.microsoft MultiHeadAttention on [batch, heads, seq,
	// head size] operands, which onnx-gomlx lowers to GoMLX's
	// FusedScaledDotProductAttention (embed/kernels runs it a block of
	// query rows at a time, the scores staying in the cache). K is
	// transposed with perm [0, 2, 1, 3] instead; the mask is expanded to
	// [batch, 1, seq, kv], the dense per-head form simplego's own executor
	// indexes. Emitted at the second MatMul, where every operand exists.
	type attnFuse struct {
		q, kSrc, v, mask, out string
		kPerm0231             bool
		scale                 float32
	}
	attn := map[int]attnFuse{} // second MatMul → the fused attention
	attnSkip := map[int]bool{} // the chain's other nodes
	for i, nd := range nodes {
		mv, ok := scaleMoves[i]
		if !ok {
			continue
		}
		c, ok := constScalar(nodes, inits, mv.c)
		if !ok || c == 0 {
			continue
		}
		if !fromTranspose4(nodes, nd.inputs[0], nil) {
			continue
		}
		kt := producers(nodes, nd.inputs[1])
		if len(kt) != 1 {
			continue
		}
		ktn := nodes[kt[0]]
		perm := nodeInts(ktn.raw, "perm")
		f := attnFuse{q: nd.inputs[0], scale: float32(1 / c)}
		switch {
		case ktn.opType != "Transpose" || len(ktn.inputs) != 1:
			continue
		case slices.Equal(perm, []int64{0, 2, 3, 1}):
			f.kSrc, f.kPerm0231 = ktn.inputs[0], true
		case slices.Equal(perm, []int64{0, 1, 3, 2}):
			f.kSrc = ktn.inputs[0]
		default:
			continue
		}
		chain := []int{i, mv.div}
		cur := nodes[mv.div].outputs[0]
		next := soleConsumer(nodes, consumers, cur)
		if next >= 0 && nodes[next].opType == "Add" && len(nodes[next].inputs) == 2 && len(nodes[next].outputs) == 1 {
			add := nodes[next]
			f.mask = add.inputs[0]
			if f.mask == cur {
				f.mask = add.inputs[1]
			}
			if _, isInit := inits[f.mask]; isInit || f.mask == cur {
				continue
			}
			chain = append(chain, next)
			cur = add.outputs[0]
			next = soleConsumer(nodes, consumers, cur)
		}
		if next < 0 || nodes[next].opType != "Softmax" || len(nodes[next].outputs) != 1 {
			continue
		}
		if ax, ok := nodeInt(nodes[next].raw, "axis"); !ok || ax != -1 {
			continue
		}
		chain = append(chain, next)
		cur = nodes[next].outputs[0]
		mm2 := soleConsumer(nodes, consumers, cur)
		if mm2 < 0 || nodes[mm2].opType != "MatMul" || len(nodes[mm2].inputs) != 2 || len(nodes[mm2].outputs) != 1 || nodes[mm2].inputs[0] != cur {
			continue
		}
		f.v, f.out = nodes[mm2].inputs[1], nodes[mm2].outputs[0]
		if !fromTranspose4(nodes, f.v, nil) {
			continue
		}
		exposed := false
		for _, j := range chain {
			for _, o := range nodes[j].outputs {
				exposed = exposed || graphOutputs[o]
			}
		}
		if exposed {
			continue
		}
		attn[mm2] = f
		for _, j := range chain {
			attnSkip[j] = true
		}
		delete(scaleMoves, i)
		if mv.constIdx >= 0 {
			delete(hoisted, mv.constIdx) // stays where it is, unused
		}
		if len(consumers[nd.inputs[1]]) == 1 {
			attnSkip[kt[0]] = true
		}
	}

	movedDiv := map[int]bool{}
	for _, mv := range scaleMoves {
		movedDiv[mv.div] = true
	}

	// Emit the new node list.
	var newInits [][]byte
	haveInit := map[string]bool{}
	constI64 := func(name string, vals ...int64) string {
		if !haveInit[name] {
			haveInit[name] = true
			newInits = append(newInits, encodeInt64Tensor(name, vals))
		}
		return name
	}
	flat := map[string]string{}   // A → A reshaped to [-1, K]
	prefix := map[string]string{} // A → shape of A without its last axis
	var out [][]byte
	emit := func(raw []byte) { out = append(out, raw) }
	uniq := 0
	name := func(base string) string {
		uniq++
		return fmt.Sprintf("%s%d_%s", namePrefix, uniq, base)
	}
	for i, nd := range nodes {
		p, isMM := plans[i]
		if !isMM {
			if mm, ok := afterAdd[i]; ok {
				// The bias Add, now on 2-D data, then the reshape back.
				pm := plans[mm]
				nodeOut := pm.finalOut + "__mnemo2d"
				ins := make([]string, len(nd.inputs))
				for j, in := range nd.inputs {
					ins[j] = in
					if in == nodes[mm].outputs[0] {
						ins[j] = nodes[mm].outputs[0] + "__mnemo2d"
					}
				}
				emit(encodeNode(name("add"), "Add", ins, []string{nodeOut}, nil))
				if pm.gelu {
					// MatMul → Add(bias) → Gelu: onnx-gomlx fuses this into one
					// FusedDense (GEMM, bias and GELU in place).
					g := pm.finalOut + "__mnemo2d_gelu"
					emit(encodeNode(name("gelu"), "Gelu", []string{nodeOut}, []string{g}, nil))
					nodeOut = g
				}
				emit(encodeNode(name("unflatten"), "Reshape", []string{nodeOut, backShape(pm.a, pm.n, prefix, constI64, emit, name)}, []string{pm.finalOut}, nil))
				continue
			}
			if skip[i] || attnSkip[i] {
				continue
			}
			if f, ok := attn[i]; ok {
				k := f.kSrc
				if f.kPerm0231 {
					k = name("k_bhsd")
					emit(encodeNodeAttrs(name("k_heads_first"), "Transpose", []string{f.kSrc}, []string{k}, encodeIntsAttr("perm", 0, 2, 1, 3)))
				}
				ins := []string{f.q, k, f.v}
				if f.mask != "" {
					ins = append(ins, expandMask(f.mask, f.q, constI64, emit, name))
				}
				mha := encodeNodeAttrs(name("attention"), "MultiHeadAttention", ins, []string{f.out}, encodeFloatAttr("scale", f.scale))
				mha = protowire.AppendTag(mha, nodeDomain, protowire.BytesType)
				emit(protowire.AppendString(mha, "com.microsoft"))
				continue
			}
			if hoisted[i] || movedDiv[i] {
				continue // emitted at its MatMul
			}
			if mv, ok := scaleMoves[i]; ok {
				if mv.constIdx >= 0 {
					emit(nodes[mv.constIdx].raw)
				}
				q := name("q_scaled")
				emit(encodeNode(name("scale_q"), "Div", []string{nd.inputs[0], mv.c}, []string{q}, nil))
				emit(encodeNode(name("scores"), "MatMul", []string{q, nd.inputs[1]}, nodes[mv.div].outputs, nil))
				continue
			}
			emit(nd.raw)
			continue
		}
		a2d, ok := flat[p.a]
		if !ok {
			a2d = name("flat")
			emit(encodeNode(name("flatten"), "Reshape", []string{p.a, constI64(fmt.Sprintf("mnemo_shape_m1_%d", p.k), -1, p.k)}, []string{a2d}, nil))
			flat[p.a] = a2d
		}
		mmOut := nd.outputs[0] + "__mnemo2d"
		emit(encodeNode(name("matmul"), "MatMul", []string{a2d, nd.inputs[1]}, []string{mmOut}, nil))
		if p.addIdx < 0 {
			emit(encodeNode(name("unflatten"), "Reshape", []string{mmOut, backShape(p.a, p.n, prefix, constI64, emit, name)}, []string{nd.outputs[0]}, nil))
		}
	}

	// Re-encode: graph = nodes, then the other fields, then our constants.
	// Sized up front: regrowing slices of this size is most of the cost.
	g := make([]byte, 0, len(graph)+len(out)*64+4096)
	for _, raw := range out {
		g = protowire.AppendTag(g, graphNode, protowire.BytesType)
		g = protowire.AppendBytes(g, raw)
	}
	var data *ExternalData
	if external {
		data = &ExternalData{}
	}
	for _, f := range others {
		if external {
			if t, ok := externalize(f, data); ok {
				g = append(g, t...)
				continue
			}
		}
		g = append(g, f...)
	}
	for _, t := range newInits {
		g = protowire.AppendTag(g, graphInitializer, protowire.BytesType)
		g = protowire.AppendBytes(g, t)
	}
	res := make([]byte, 0, len(pre)+len(g)+len(post)+16)
	res = append(res, pre...)
	res = protowire.AppendTag(res, modelGraph, protowire.BytesType)
	res = protowire.AppendBytes(res, g)
	res = append(res, post...)
	return res, data, len(plans), nil
}

// backShape emits (once per A) the nodes computing A's shape without its
// last axis, and returns the name of that shape with n appended.
func backShape(a string, n int64, prefix map[string]string, constI64 func(string, ...int64) string,
	emit func([]byte), name func(string) string) string {
	pre, ok := prefix[a]
	if !ok {
		s := name("shape")
		emit(encodeNode(name("shape_op"), "Shape", []string{a}, []string{s}, nil))
		pre = name("lead")
		emit(encodeNode(name("slice"), "Slice", []string{s, constI64("mnemo_i64_0", 0), constI64("mnemo_i64_m1", -1)}, []string{pre}, nil))
		prefix[a] = pre
	}
	target := name("target")
	emit(encodeNode(name("concat"), "Concat", []string{pre, constI64(fmt.Sprintf("mnemo_i64_%d", n), n)}, []string{target},
		map[string]int64{"axis": 0}))
	return target
}

func parseNode(b []byte) (pbNode, error) {
	nd := pbNode{raw: b}
	err := forEachField(b, "ONNX node", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case nodeInput:
			nd.inputs = append(nd.inputs, string(v))
		case nodeOutput:
			nd.outputs = append(nd.outputs, string(v))
		case nodeName:
			nd.name = string(v)
		case nodeOpType:
			nd.opType = string(v)
		case nodeAttribute:
			if x, ok := attrScalar(v); ok {
				nd.scalar, nd.isConst = x, true
			}
		}
		return nil
	})
	if err != nil {
		return nd, err
	}
	if nd.opType != "Constant" {
		nd.isConst = false
	}
	return nd, nil
}

// attrScalar reads a "value" attribute holding a float32 scalar tensor.
func attrScalar(a []byte) (float64, bool) {
	var name string
	var t []byte
	err := forEachField(a, "", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if typ == protowire.BytesType && num == attrName {
			name = string(v)
		} else if typ == protowire.BytesType && num == attrTensor {
			t = v
		}
		return nil
	})
	if err != nil || name != "value" || t == nil {
		return 0, false
	}
	var dtype uint64
	var raw []byte
	var floats []float32
	dims := 0
	err = forEachField(t, "", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		switch {
		case num == tensorDims:
			dims++
		case num == tensorDataType && typ == protowire.VarintType:
			dtype, _ = protowire.ConsumeVarint(v)
		case num == tensorRawData && typ == protowire.BytesType:
			raw = v
		case num == tensorFloatData && typ == protowire.Fixed32Type:
			u, _ := protowire.ConsumeFixed32(v)
			floats = append(floats, math.Float32frombits(u))
		case num == tensorFloatData && typ == protowire.BytesType:
			for len(v) >= 4 {
				floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(v)))
				v = v[4:]
			}
		}
		return nil
	})
	if err != nil {
		return 0, false
	}
	if dtype != tensorFloat || dims != 0 {
		return 0, false
	}
	switch {
	case len(raw) == 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(raw))), true
	case len(floats) == 1:
		return float64(floats[0]), true
	}
	return 0, false
}

// parseTensorHeader reads a TensorProto's name and dims, skipping its data.
func parseTensorHeader(b []byte) (name string, dims []int64) {
	_ = forEachField(b, "", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		switch {
		case num == tensorName && typ == protowire.BytesType:
			name = string(v)
		case num == tensorDims:
			dims = appendVarints(dims, typ, v)
		}
		return nil
	})
	return
}

// forEachField calls f with each field of the protobuf message b, in
// order: its number, its wire type, v (the contents of a length-delimited
// field, the encoded value of any other, for protowire.ConsumeVarint and
// the like) and the whole field, tag included. It stops at the first
// error f returns, or at a malformed field: an error that says so, after
// what.
func forEachField(b []byte, what string, f func(num protowire.Number, typ protowire.Type, v, field []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errors.New(what + ": bad protobuf tag")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return errors.New(what + ": bad protobuf field")
		}
		v := b[n : n+m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if err := f(num, typ, v, b[:n+m]); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}

func encodeNode(name, op string, inputs, outputs []string, intAttrs map[string]int64) []byte {
	var b []byte
	for _, in := range inputs {
		b = protowire.AppendTag(b, nodeInput, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	for _, o := range outputs {
		b = protowire.AppendTag(b, nodeOutput, protowire.BytesType)
		b = protowire.AppendString(b, o)
	}
	b = protowire.AppendTag(b, nodeName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, nodeOpType, protowire.BytesType)
	b = protowire.AppendString(b, op)
	for k, v := range intAttrs {
		b = protowire.AppendTag(b, nodeAttribute, protowire.BytesType)
		b = protowire.AppendBytes(b, encodeIntAttr(k, v))
	}
	return b
}

// encodeIntAttr is an AttributeProto holding an integer.
func encodeIntAttr(name string, v int64) []byte {
	var a []byte
	a = protowire.AppendTag(a, attrName, protowire.BytesType)
	a = protowire.AppendString(a, name)
	a = protowire.AppendTag(a, attrI, protowire.VarintType)
	a = protowire.AppendVarint(a, uint64(v))
	a = protowire.AppendTag(a, attrType, protowire.VarintType)
	return protowire.AppendVarint(a, attrTypeInt)
}

func encodeInt64Tensor(name string, vals []int64) []byte {
	var b []byte
	b = protowire.AppendTag(b, tensorDims, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(len(vals)))
	b = protowire.AppendTag(b, tensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, tensorInt64)
	b = protowire.AppendTag(b, tensorName, protowire.BytesType)
	b = protowire.AppendString(b, name)
	raw := make([]byte, 0, 8*len(vals))
	for _, v := range vals {
		u := uint64(v)
		raw = append(raw, byte(u), byte(u>>8), byte(u>>16), byte(u>>24), byte(u>>32), byte(u>>40), byte(u>>48), byte(u>>56))
	}
	b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
	b = protowire.AppendBytes(b, raw)
	return b
}

// matchErfGelu matches the exact GELU as PyTorch exports it,
// y = Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5) (either operand order),
// starting at x; it returns the chain's node indexes and y.
func matchErfGelu(nodes []pbNode, consumers map[string][]int, x string) (chain []int, y string, ok bool) {
	constOf := func(name string) (float64, bool) {
		for _, nd := range nodes {
			if nd.isConst && len(nd.outputs) == 1 && nd.outputs[0] == name {
				return nd.scalar, true
			}
		}
		return 0, false
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }
	other := func(nd pbNode, in string) string {
		if len(nd.inputs) != 2 {
			return ""
		}
		if nd.inputs[0] == in {
			return nd.inputs[1]
		}
		if nd.inputs[1] == in {
			return nd.inputs[0]
		}
		return ""
	}
	sole := func(out string) (int, bool) {
		cs := consumers[out]
		if len(cs) != 1 {
			return 0, false
		}
		return cs[0], true
	}
	cs := consumers[x]
	if len(cs) != 2 {
		return nil, "", false
	}
	div, mul := cs[0], cs[1]
	if nodes[div].opType != "Div" {
		div, mul = mul, div
	}
	d, m := nodes[div], nodes[mul]
	if d.opType != "Div" || m.opType != "Mul" || len(d.inputs) != 2 || d.inputs[0] != x || len(d.outputs) != 1 {
		return nil, "", false
	}
	if c, ok := constOf(d.inputs[1]); !ok || !near(c, math.Sqrt2) {
		return nil, "", false
	}
	erf, ok := sole(d.outputs[0])
	if !ok || nodes[erf].opType != "Erf" || len(nodes[erf].outputs) != 1 {
		return nil, "", false
	}
	add1, ok := sole(nodes[erf].outputs[0])
	if !ok || nodes[add1].opType != "Add" || len(nodes[add1].outputs) != 1 {
		return nil, "", false
	}
	if c, ok := constOf(other(nodes[add1], nodes[erf].outputs[0])); !ok || c != 1 {
		return nil, "", false
	}
	if m2, ok := sole(nodes[add1].outputs[0]); !ok || m2 != mul || other(m, nodes[add1].outputs[0]) != x || len(m.outputs) != 1 {
		return nil, "", false
	}
	half, ok := sole(m.outputs[0])
	if !ok || nodes[half].opType != "Mul" || len(nodes[half].outputs) != 1 {
		return nil, "", false
	}
	if c, ok := constOf(other(nodes[half], m.outputs[0])); !ok || c != 0.5 {
		return nil, "", false
	}
	return []int{div, erf, add1, mul, half}, nodes[half].outputs[0], true
}

// ExternalData is the contents of ExternalDataFile: chunks of the
// original model's bytes (and alignment padding), written in order.
type ExternalData struct {
	chunks [][]byte
	size   int
}

// add appends raw, 64-byte aligned, and returns its offset.
func (d *ExternalData) add(raw []byte) int {
	if pad := (64 - d.size%64) % 64; pad > 0 {
		d.chunks = append(d.chunks, make([]byte, pad))
		d.size += pad
	}
	off := d.size
	d.chunks = append(d.chunks, raw)
	d.size += len(raw)
	return off
}

// Size is the file's length in bytes.
func (d *ExternalData) Size() int {
	if d == nil {
		return 0
	}
	return d.size
}

// WriteTo writes the file's contents to w.
func (d *ExternalData) WriteTo(w io.Writer) (int64, error) {
	var n int64
	if d == nil {
		return 0, nil
	}
	for _, c := range d.chunks {
		k, err := w.Write(c)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// externalize rewrites one graph field, if it is a large initializer with
// raw data, as a TensorProto pointing at its bytes added (64-byte
// aligned) to data.
func externalize(field []byte, data *ExternalData) ([]byte, bool) {
	num, typ, n := protowire.ConsumeTag(field)
	if num != graphInitializer || typ != protowire.BytesType || n < 0 {
		return nil, false
	}
	t, _ := protowire.ConsumeBytes(field[n:])
	var raw []byte
	var rest []byte // every field but raw_data
	errExternal := errors.New("already external")
	err := forEachField(t, "", func(num protowire.Number, typ protowire.Type, v, field []byte) error {
		switch {
		case num == tensorRawData && typ == protowire.BytesType:
			raw = v
		case num == tensorDataLocation || num == tensorExternalData:
			return errExternal
		default:
			rest = append(rest, field...)
		}
		return nil
	})
	if err != nil {
		return nil, false // malformed, or already external
	}
	if len(raw) <= ExternalThreshold {
		return nil, false
	}
	off := data.add(raw)
	entry := func(k, v string) []byte {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendString(e, k)
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		e = protowire.AppendString(e, v)
		return e
	}
	for _, kv := range [][2]string{{"location", ExternalDataFile}, {"offset", fmt.Sprint(off)}, {"length", fmt.Sprint(len(raw))}} {
		rest = protowire.AppendTag(rest, tensorExternalData, protowire.BytesType)
		rest = protowire.AppendBytes(rest, entry(kv[0], kv[1]))
	}
	rest = protowire.AppendTag(rest, tensorDataLocation, protowire.VarintType)
	rest = protowire.AppendVarint(rest, 1) // EXTERNAL
	var out []byte
	out = protowire.AppendTag(out, graphInitializer, protowire.BytesType)
	out = protowire.AppendBytes(out, rest)
	return out, true
}

// namePrefix starts the name of every node and value the rewrite adds.
const namePrefix = "mnemo_rw"

// rewritten reports whether a is the output of a flattening Reshape the
// rewrite added: rewriting a rewritten model changes nothing.
func rewritten(nodes []pbNode, a string) bool {
	for _, i := range producers(nodes, a) {
		if nodes[i].opType == "Reshape" && strings.HasPrefix(nodes[i].name, namePrefix) {
			return true
		}
	}
	return false
}

// producers returns the indexes of the nodes that output name.
func producers(nodes []pbNode, name string) []int {
	var ps []int
	for i, nd := range nodes {
		for _, o := range nd.outputs {
			if o == name {
				ps = append(ps, i)
			}
		}
	}
	return ps
}

// feedsSoftmax reports whether v reaches a Softmax directly or through one
// Add (the attention mask).
func feedsSoftmax(nodes []pbNode, consumers map[string][]int, v string) bool {
	for _, c := range consumers[v] {
		switch nodes[c].opType {
		case "Softmax":
			return true
		case "Add":
			for _, c2 := range consumers[nodes[c].outputs[0]] {
				if nodes[c2].opType == "Softmax" {
					return true
				}
			}
		}
	}
	return false
}

// scalarDims reports whether a tensor of these dimensions holds one value.
func scalarDims(dims []int64) bool {
	for _, d := range dims {
		if d != 1 {
			return false
		}
	}
	return true
}

// expandMask emits the nodes expanding an attention mask (e.g. BERT's
// [batch, 1, 1, kv]) to [batch, 1, seq, kv], seq being the query's
// axis 2, and returns the expanded mask's name.
func expandMask(mask, q string, constI64 func(string, ...int64) string, emit func([]byte), name func(string) string) string {
	shape := name("q_shape")
	emit(encodeNode(name("q_shape_op"), "Shape", []string{q}, []string{shape}, nil))
	seq := name("q_seq")
	emit(encodeNode(name("q_seq_op"), "Slice", []string{shape, constI64("mnemo_i64_2", 2), constI64("mnemo_i64_3", 3)}, []string{seq}, nil))
	target := name("mask_target")
	emit(encodeNode(name("mask_target_op"), "Concat", []string{constI64("mnemo_i64_1_1", 1, 1), seq, constI64("mnemo_i64_1", 1)}, []string{target},
		map[string]int64{"axis": 0}))
	out := name("mask_rows")
	emit(encodeNode(name("expand_mask"), "Expand", []string{mask, target}, []string{out}, nil))
	return out
}

// fromTranspose4 reports whether v is the output of a Transpose with a
// rank-4 perm (perm, when not nil, also matching).
func fromTranspose4(nodes []pbNode, v string, perm []int64) bool {
	ps := producers(nodes, v)
	if len(ps) != 1 || nodes[ps[0]].opType != "Transpose" {
		return false
	}
	p := nodeInts(nodes[ps[0]].raw, "perm")
	return len(p) == 4 && (perm == nil || slices.Equal(p, perm))
}

// constScalar is the value of a scalar float32 initializer or Constant
// node.
func constScalar(nodes []pbNode, inits map[string]pbInit, name string) (float64, bool) {
	if _, ok := inits[name]; ok {
		return 0, false // its value is not parsed here
	}
	ps := producers(nodes, name)
	if len(ps) != 1 || !nodes[ps[0]].isConst {
		return 0, false
	}
	return nodes[ps[0]].scalar, true
}

// soleConsumer is the one node reading v, or −1.
func soleConsumer(nodes []pbNode, consumers map[string][]int, v string) int {
	if cs := consumers[v]; len(cs) == 1 {
		return cs[0]
	}
	return -1
}

// nodeAttr returns the bytes of a node's attribute called name (an
// AttributeProto), or nil.
func nodeAttr(raw []byte, name string) []byte {
	var attr []byte
	_ = forEachField(raw, "", func(num protowire.Number, typ protowire.Type, a, _ []byte) error {
		if num != nodeAttribute || typ != protowire.BytesType {
			return nil
		}
		_ = forEachField(a, "", func(num protowire.Number, typ protowire.Type, f, _ []byte) error {
			if num == attrName && typ == protowire.BytesType && string(f) == name {
				attr = a
			}
			return nil
		})
		return nil
	})
	return attr
}

// nodeInt reads the integer attribute name of a node.
func nodeInt(raw []byte, name string) (v int64, found bool) {
	_ = forEachField(nodeAttr(raw, name), "", func(num protowire.Number, typ protowire.Type, f, _ []byte) error {
		if num == attrI && typ == protowire.VarintType {
			u, _ := protowire.ConsumeVarint(f)
			v, found = int64(u), true
		}
		return nil
	})
	return v, found
}

// nodeInts reads the integer-list attribute name of a node.
func nodeInts(raw []byte, name string) (vals []int64) {
	_ = forEachField(nodeAttr(raw, name), "", func(num protowire.Number, typ protowire.Type, f, _ []byte) error {
		if num == attrInts {
			vals = appendVarints(vals, typ, f)
		}
		return nil
	})
	return vals
}

// appendVarints appends a repeated integer field's values: one varint, or
// a packed run of them.
func appendVarints(dst []int64, typ protowire.Type, f []byte) []int64 {
	switch typ {
	case protowire.VarintType:
		u, _ := protowire.ConsumeVarint(f)
		dst = append(dst, int64(u))
	case protowire.BytesType:
		for len(f) > 0 {
			u, k := protowire.ConsumeVarint(f)
			if k < 0 {
				break
			}
			dst = append(dst, int64(u))
			f = f[k:]
		}
	}
	return dst
}

// valueInfoName is a ValueInfoProto's name.
func valueInfoName(b []byte) string {
	var n string
	_ = forEachField(b, "", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if num == valueInfoNameField && typ == protowire.BytesType {
			n = string(v)
		}
		return nil
	})
	return n
}

// encodeNodeAttrs is encodeNode with attributes already encoded.
func encodeNodeAttrs(name, op string, inputs, outputs []string, attrs ...[]byte) []byte {
	b := encodeNode(name, op, inputs, outputs, nil)
	for _, a := range attrs {
		b = protowire.AppendTag(b, nodeAttribute, protowire.BytesType)
		b = protowire.AppendBytes(b, a)
	}
	return b
}

// encodeIntsAttr is an AttributeProto holding a list of integers.
func encodeIntsAttr(name string, vs ...int64) []byte {
	var a []byte
	a = protowire.AppendTag(a, attrName, protowire.BytesType)
	a = protowire.AppendString(a, name)
	for _, v := range vs {
		a = protowire.AppendTag(a, attrInts, protowire.VarintType)
		a = protowire.AppendVarint(a, uint64(v))
	}
	a = protowire.AppendTag(a, attrType, protowire.VarintType)
	return protowire.AppendVarint(a, attrTypeInts)
}

// encodeFloatAttr is an AttributeProto holding a float.
func encodeFloatAttr(name string, v float32) []byte {
	var a []byte
	a = protowire.AppendTag(a, attrName, protowire.BytesType)
	a = protowire.AppendString(a, name)
	a = protowire.AppendTag(a, attrF, protowire.Fixed32Type)
	a = protowire.AppendFixed32(a, math.Float32bits(v))
	a = protowire.AppendTag(a, attrType, protowire.VarintType)
	return protowire.AppendVarint(a, attrTypeFloat)
}
