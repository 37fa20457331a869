package embed

import (
	"reflect"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	gomlxcontext "github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/mnemo-mcp/mnemo/embed/kernels"
)

// packMatmulWeights packs, in place, every weight in names (the ones the
// graph uses only as the right operand of MatMul, matmulOnlyWeights) into the layout mnemo's GEMM
// streams fastest (kernels.PackWeight), and returns the function
// that unregisters them all; it must run before the weights are freed.
// The caller guarantees that every such MatMul reaches that GEMM: the
// rewritten graph (2-D products) on the packgemm backend config.
func packMatmulWeights(names map[string]bool, ctx *gomlxcontext.Context, b backends.Backend) (release func(), packed int) {
	var releases []func()
	release = func() {
		for _, r := range releases {
			r()
		}
	}
	if len(names) == 0 {
		return release, 0
	}
	defer kernels.ReleasePackScratch()
	for v := range ctx.IterVariables() {
		if !names[v.Name()] {
			continue
		}
		t, err := v.Value()
		if err != nil || t == nil || t.DType() != dtypes.Float32 || t.Rank() != 2 {
			continue
		}
		// The buffer the graph reads, not a host copy of it.
		buf, err := t.Buffer(b, 0)
		if err != nil {
			continue
		}
		flat, err := b.BufferData(buf)
		if err != nil {
			continue
		}
		w, ok := flat.([]float32)
		if !ok {
			continue
		}
		dims := t.Shape().Dimensions
		if r, ok := kernels.PackWeight(w, dims[0], dims[1]); ok {
			releases = append(releases, r)
			packed++
		}
	}
	return release, packed
}

// matmulOnlyWeights returns the GoMLX variable names of the initializers
// that the parsed ONNX graph (onnx-gomlx's internal type, hence
// reflection) uses as MatMul's second input and nowhere else. Nil if
// the layout is not the one expected.
func matmulOnlyWeights(model any) (names map[string]bool) {
	defer func() {
		if recover() != nil {
			names = nil
		}
	}()
	g, ok := onnxGraph(model)
	if !ok {
		return nil
	}
	inits := map[string]bool{}
	for i, list := 0, g.FieldByName("Initializer"); i < list.Len(); i++ {
		inits[list.Index(i).Elem().FieldByName("Name").String()] = true
	}
	rhs, other := map[string]bool{}, map[string]bool{}
	for i, nodes := 0, g.FieldByName("Node"); i < nodes.Len(); i++ {
		n := nodes.Index(i).Elem()
		// A subgraph (If, Loop, Scan) could name a weight where this scan
		// does not look: pack nothing.
		for j, attrs := 0, n.FieldByName("Attribute"); j < attrs.Len(); j++ {
			a := attrs.Index(j).Elem()
			if g := a.FieldByName("G"); (g.Kind() == reflect.Pointer && !g.IsNil()) || a.FieldByName("Graphs").Len() > 0 {
				return nil
			}
		}
		op := n.FieldByName("OpType").String()
		in := n.FieldByName("Input")
		for j := range in.Len() {
			name := in.Index(j).String()
			if !inits[name] {
				continue
			}
			if op == "MatMul" && j == 1 {
				rhs[name] = true
			} else {
				other[name] = true
			}
		}
	}
	// An initializer that is also a graph output is left alone.
	for i, outs := 0, g.FieldByName("Output"); i < outs.Len(); i++ {
		other[outs.Index(i).Elem().FieldByName("Name").String()] = true
	}
	names = map[string]bool{}
	for name := range rhs {
		if !other[name] {
			names[strings.ReplaceAll(name, gomlxcontext.ScopeSeparator, "|")] = true
		}
	}
	return names
}
