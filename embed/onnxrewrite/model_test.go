package onnxrewrite

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Test models are hand-encoded ONNX protobuf (onnx.proto3 field numbers),
// as the rewrite itself reads and writes them.

// ONNX fields only the tests write.
const (
	modelIRVersion   = 1
	modelOpsetImport = 8
	opsetVersion     = 2
	graphName        = 2
	graphInput       = 11
	graphOutput      = 12
	valueName        = 1
	valueType        = 2
	typeTensor       = 1
	tensorElemType   = 1
	tensorShape      = 2
	shapeDim         = 1
	dimValue         = 1
	dimParam         = 2
	attrTypeTensor   = 4
	attrTypeFloat    = 1
	attrF            = 2
)

// testModel collects the parts of a one-graph ONNX model.
type testModel struct {
	nodes, inits, inputs, outputs [][]byte
	uniq                          int
}

func (m *testModel) node(op string, ins, outs []string, attrs ...[]byte) {
	m.uniq++
	b := encodeNode(fmt.Sprintf("%s_%d", op, m.uniq), op, ins, outs, nil)
	for _, a := range attrs {
		b = protowire.AppendTag(b, nodeAttribute, protowire.BytesType)
		b = protowire.AppendBytes(b, a)
	}
	m.nodes = append(m.nodes, b)
}

// constant adds a Constant node holding a float32 scalar.
func (m *testModel) constant(out string, v float32) {
	m.node("Constant", nil, []string{out}, attrTensorValue(floatTensor("", nil, []float32{v})))
}

func (m *testModel) init(name string, dims []int64, vals []float32) {
	m.inits = append(m.inits, floatTensor(name, dims, vals))
}

// input and output declare a float32 graph value; a dim is an int
// (fixed) or a string (named, dynamic).
func (m *testModel) input(name string, dims ...any) {
	m.inputs = append(m.inputs, valueInfo(name, dims))
}
func (m *testModel) output(name string, dims ...any) {
	m.outputs = append(m.outputs, valueInfo(name, dims))
}

func (m *testModel) bytes() []byte {
	var g []byte
	for _, n := range m.nodes {
		g = protowire.AppendTag(g, graphNode, protowire.BytesType)
		g = protowire.AppendBytes(g, n)
	}
	g = protowire.AppendTag(g, graphName, protowire.BytesType)
	g = protowire.AppendString(g, "test")
	for _, t := range m.inits {
		g = protowire.AppendTag(g, graphInitializer, protowire.BytesType)
		g = protowire.AppendBytes(g, t)
	}
	for _, v := range m.inputs {
		g = protowire.AppendTag(g, graphInput, protowire.BytesType)
		g = protowire.AppendBytes(g, v)
	}
	for _, v := range m.outputs {
		g = protowire.AppendTag(g, graphOutput, protowire.BytesType)
		g = protowire.AppendBytes(g, v)
	}
	var b []byte
	b = protowire.AppendTag(b, modelIRVersion, protowire.VarintType)
	b = protowire.AppendVarint(b, 8)
	var op []byte
	op = protowire.AppendTag(op, opsetVersion, protowire.VarintType)
	op = protowire.AppendVarint(op, 14)
	b = protowire.AppendTag(b, modelOpsetImport, protowire.BytesType)
	b = protowire.AppendBytes(b, op)
	b = protowire.AppendTag(b, modelGraph, protowire.BytesType)
	b = protowire.AppendBytes(b, g)
	return b
}

func floatTensor(name string, dims []int64, vals []float32) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, tensorDims, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, tensorDataType, protowire.VarintType)
	b = protowire.AppendVarint(b, tensorFloat)
	if name != "" {
		b = protowire.AppendTag(b, tensorName, protowire.BytesType)
		b = protowire.AppendString(b, name)
	}
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	b = protowire.AppendTag(b, tensorRawData, protowire.BytesType)
	return protowire.AppendBytes(b, raw)
}

func attrTensorValue(t []byte) []byte {
	var a []byte
	a = protowire.AppendTag(a, attrName, protowire.BytesType)
	a = protowire.AppendString(a, "value")
	a = protowire.AppendTag(a, attrTensor, protowire.BytesType)
	a = protowire.AppendBytes(a, t)
	a = protowire.AppendTag(a, attrType, protowire.VarintType)
	return protowire.AppendVarint(a, attrTypeTensor)
}

func attrInt(name string, v int64) []byte {
	var a []byte
	a = protowire.AppendTag(a, attrName, protowire.BytesType)
	a = protowire.AppendString(a, name)
	a = protowire.AppendTag(a, attrI, protowire.VarintType)
	a = protowire.AppendVarint(a, uint64(v))
	a = protowire.AppendTag(a, attrType, protowire.VarintType)
	return protowire.AppendVarint(a, attrTypeInt)
}

func valueInfo(name string, dims []any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch d := d.(type) {
		case int:
			dim = protowire.AppendTag(dim, dimValue, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		case string:
			dim = protowire.AppendTag(dim, dimParam, protowire.BytesType)
			dim = protowire.AppendString(dim, d)
		}
		shape = protowire.AppendTag(shape, shapeDim, protowire.BytesType)
		shape = protowire.AppendBytes(shape, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, tensorElemType, protowire.VarintType)
	tt = protowire.AppendVarint(tt, tensorFloat)
	tt = protowire.AppendTag(tt, tensorShape, protowire.BytesType)
	tt = protowire.AppendBytes(tt, shape)
	var typ []byte
	typ = protowire.AppendTag(typ, typeTensor, protowire.BytesType)
	typ = protowire.AppendBytes(typ, tt)
	var v []byte
	v = protowire.AppendTag(v, valueName, protowire.BytesType)
	v = protowire.AppendString(v, name)
	v = protowire.AppendTag(v, valueType, protowire.BytesType)
	return protowire.AppendBytes(v, typ)
}

// decoded is what the tests read back from a (rewritten) model.
type decoded struct {
	nodes []pbNode
	inits map[string]decodedTensor
}

type decodedTensor struct {
	dims     []int64
	int64s   []int64 // raw data of an INT64 tensor
	rawLen   int
	raw      []byte
	external map[string]string // external_data entries
}

func decodeModel(t *testing.T, model []byte) decoded {
	t.Helper()
	d := decoded{inits: map[string]decodedTensor{}}
	var graph []byte
	forFields(t, model, func(num protowire.Number, v []byte) {
		if num == modelGraph {
			graph = v
		}
	})
	forFields(t, graph, func(num protowire.Number, v []byte) {
		switch num {
		case graphNode:
			nd, err := parseNode(v)
			if err != nil {
				t.Fatal(err)
			}
			d.nodes = append(d.nodes, nd)
		case graphInitializer:
			var dt decodedTensor
			var name string
			var dtype uint64
			var raw []byte
			forFields(t, v, func(num protowire.Number, f []byte) {
				switch num {
				case tensorName:
					name = string(f)
				case tensorRawData:
					raw = f
				case tensorExternalData:
					var k, val string
					forFields(t, f, func(num protowire.Number, s []byte) {
						if num == 1 {
							k = string(s)
						} else if num == 2 {
							val = string(s)
						}
					})
					if dt.external == nil {
						dt.external = map[string]string{}
					}
					dt.external[k] = val
				}
			})
			_, dt.dims = parseTensorHeader(v)
			forVarints(v, tensorDataType, func(x uint64) { dtype = x })
			dt.rawLen, dt.raw = len(raw), raw
			if dtype == tensorInt64 {
				for len(raw) >= 8 {
					dt.int64s = append(dt.int64s, int64(binary.LittleEndian.Uint64(raw)))
					raw = raw[8:]
				}
			}
			d.inits[name] = dt
		}
	})
	return d
}

// forFields calls f with each length-delimited field of b.
func forFields(t *testing.T, b []byte, f func(protowire.Number, []byte)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal("bad tag")
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			t.Fatal("bad field")
		}
		if typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[n:])
			f(num, v)
		}
		b = b[n+m:]
	}
}

func forVarints(b []byte, want protowire.Number, f func(uint64)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if num == want && typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(b[n:])
			f(v)
		}
		b = b[n+m:]
	}
}

// intAttrs reads a node's integer attributes.
func intAttrs(t *testing.T, nd pbNode) map[string]int64 {
	attrs := map[string]int64{}
	forFields(t, nd.raw, func(num protowire.Number, a []byte) {
		if num != nodeAttribute {
			return
		}
		var name string
		forFields(t, a, func(num protowire.Number, v []byte) {
			if num == attrName {
				name = string(v)
			}
		})
		forVarints(a, attrI, func(x uint64) { attrs[name] = int64(x) })
	})
	return attrs
}

func (d decoded) ops() []string {
	var ops []string
	for _, n := range d.nodes {
		ops = append(ops, n.opType)
	}
	return ops
}

// producer returns the node that outputs name.
func (d decoded) producer(t *testing.T, name string) pbNode {
	t.Helper()
	for _, n := range d.nodes {
		for _, o := range n.outputs {
			if o == name {
				return n
			}
		}
	}
	t.Fatalf("nothing produces %q", name)
	return pbNode{}
}
