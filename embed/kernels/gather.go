package kernels

import (
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// gatherExec: the embedding lookup, a Gather of whole rows of a float32
// [V, D] table by integer ids (XLA's general Gather with start index map
// [0], axis 0 collapsed, slices [1, D]). simplego's general executor
// walks every element through index iterators; here a row is one copy.
// Ids out of range are clamped, as XLA's Gather clamps start indices.
func gatherExec(prev executor) executor {
	return func(b *simplego.Backend, n *simplego.Node, in []*simplego.Buffer, owned []bool) (*simplego.Buffer, error) {
		if len(in) != 2 {
			return prev(b, n, in, owned)
		}
		table, ts, ok := f32(b, in[0])
		os := nodeShape(n)
		if !ok || ts.Rank() != 2 || os.Rank() == 0 {
			return prev(b, n, in, owned)
		}
		rows, d := ts.Dimensions[0], ts.Dimensions[1]
		data := nodeData(n)
		ivAxis, okA := intField(data, "indexVectorAxis")
		sim, okB := intsField(data, "startIndexMap")
		csa, okC := intsField(data, "collapsedSlicesAxes")
		ss, okD := intsField(data, "sliceSizes")
		ooa, okE := intsField(data, "offsetOutputAxes")
		if !okA || !okB || !okC || !okD || !okE || rows == 0 || d == 0 ||
			!slices.Equal(sim, []int{0}) || !slices.Equal(csa, []int{0}) || !slices.Equal(ss, []int{1, d}) ||
			!slices.Equal(ooa, []int{os.Rank() - 1}) ||
			os.Dimensions[os.Rank()-1] != d {
			return prev(b, n, in, owned)
		}
		flat, err := b.BufferData(in[1])
		if err != nil {
			return prev(b, n, in, owned)
		}
		is, err := b.BufferShape(in[1])
		if err != nil {
			return prev(b, n, in, owned)
		}
		// One id per output row: the index vector axis is the last (of
		// size 1) or implicit.
		if !(ivAxis == is.Rank() || (ivAxis == is.Rank()-1 && is.Dimensions[ivAxis] == 1)) || is.Size()*d != os.Size() {
			return prev(b, n, in, owned)
		}
		var id func(i int) int
		switch ids := flat.(type) {
		case []int64:
			id = func(i int) int { return int(ids[i]) }
		case []int32:
			id = func(i int) int { return int(ids[i]) }
		default:
			return prev(b, n, in, owned)
		}
		out, y, err := output(b, os, in, owned)
		if err != nil {
			return nil, err
		}
		hit(backends.OpTypeGather)
		for i := range is.Size() {
			r := min(max(id(i), 0), rows-1)
			copy(y[i*d:(i+1)*d], table[r*d:(r+1)*d])
		}
		return out, nil
	}
}

// intsField reads an []int field of the struct data points to.
func intsField(data any, name string) ([]int, bool) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Slice || f.Type().Elem().Kind() != reflect.Int {
		return nil, false
	}
	out := make([]int, f.Len())
	for i := range out {
		out[i] = int(f.Index(i).Int())
	}
	return out, true
}
