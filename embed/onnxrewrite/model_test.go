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
		b = appendField(b, nodeAttribute, a)
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
	g := appendField(nil, graphName, "test")
	for _, part := range []struct {
		num    protowire.Number
		fields [][]byte
	}{{graphNode, m.nodes}, {graphInitializer, m.inits}, {graphInput, m.inputs}, {graphOutput, m.outputs}} {
		for _, f := range part.fields {
			g = appendField(g, part.num, f)
		}
	}
	b := appendField(nil, modelIRVersion, 8)
	b = appendField(b, modelOpsetImport, appendField(nil, opsetVersion, 14))
	return appendField(b, modelGraph, g)
}

func floatTensor(name string, dims []int64, vals []float32) []byte {
	var b []byte
	for _, d := range dims {
		b = appendField(b, tensorDims, int(d))
	}
	b = appendField(b, tensorDataType, tensorFloat)
	if name != "" {
		b = appendField(b, tensorName, name)
	}
	raw := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return appendField(b, tensorRawData, raw)
}

func attrTensorValue(t []byte) []byte {
	a := appendField(appendField(nil, attrName, "value"), attrTensor, t)
	return appendField(a, attrType, attrTypeTensor)
}

func valueInfo(name string, dims []any) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		if v, ok := d.(int); ok {
			dim = appendField(dim, dimValue, v)
		} else {
			dim = appendField(dim, dimParam, d.(string))
		}
		shape = appendField(shape, shapeDim, dim)
	}
	tt := appendField(appendField(nil, tensorElemType, tensorFloat), tensorShape, shape)
	typ := appendField(nil, typeTensor, tt)
	return appendField(appendField(nil, valueName, name), valueType, typ)
}

// appendField appends field num holding v: an int (varint), a string, or
// a []byte (a nested message).
func appendField(b []byte, num protowire.Number, v any) []byte {
	switch v := v.(type) {
	case int:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v))
	case string:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, v)
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v.([]byte))
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
	err := forEachField(b, "test", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if typ == protowire.BytesType {
			f(num, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// forVarints calls f with each varint field want of b.
func forVarints(b []byte, want protowire.Number, f func(uint64)) {
	_ = forEachField(b, "test", func(num protowire.Number, typ protowire.Type, v, _ []byte) error {
		if num == want && typ == protowire.VarintType {
			x, _ := protowire.ConsumeVarint(v)
			f(x)
		}
		return nil
	})
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
