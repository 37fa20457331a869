package kernels

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The one place that reaches into simplego's internals. simplego keeps its
// op executors in an unexported table (filled in its init functions with an
// unexported setNodeExecutor), and looks an executor up there each time a
// node runs, so replacing an entry takes effect for every graph, compiled
// or not. Nodes keep their output shape and op parameters in unexported
// fields. Both are reached here, and only here: the table by a linkname
// directive, the fields through offsets that reflect finds and checks by
// name and type when the package is installed. A GoMLX version that moves
// any of them makes Install fail, and the engine keeps simplego's own
// executors (TestInstalled fails loudly so the upgrade is noticed).
// Buffers are reached through simplego's public API only.

type executor = func(backend *simplego.Backend, node *simplego.Node, inputs []*simplego.Buffer, inputsOwned []bool) (*simplego.Buffer, error)

//go:linkname nodeExecutors github.com/gomlx/gomlx/backends/simplego.nodeExecutors
var nodeExecutors [backends.OpTypeLast]executor

// nodeLayout holds the offsets of simplego.Node's fields used here (opType
// only by the tests, which build nodes).
var nodeLayout struct {
	opType, shape, data uintptr
}

func findNodeLayout() error {
	t := reflect.TypeFor[simplego.Node]()
	field := func(name string, want reflect.Type) (uintptr, error) {
		f, ok := t.FieldByName(name)
		if !ok || f.Type != want || len(f.Index) != 1 {
			return 0, fmt.Errorf("simplego.Node.%s is not a %s", name, want)
		}
		return f.Offset, nil
	}
	var err, e error
	nodeLayout.opType, e = field("opType", reflect.TypeFor[backends.OpType]())
	err = errors.Join(err, e)
	nodeLayout.shape, e = field("shape", reflect.TypeFor[shapes.Shape]())
	err = errors.Join(err, e)
	nodeLayout.data, e = field("data", reflect.TypeFor[any]())
	return errors.Join(err, e)
}

// nodeShape is the node's output shape.
func nodeShape(n *simplego.Node) shapes.Shape {
	return *(*shapes.Shape)(unsafe.Add(unsafe.Pointer(n), nodeLayout.shape))
}

// nodeData is the op's parameters (e.g. *nodeFusedSoftmax, []int axes).
func nodeData(n *simplego.Node) any {
	return *(*any)(unsafe.Add(unsafe.Pointer(n), nodeLayout.data))
}

// intField reads an integer field of the struct that data points to (the
// op parameter structs are unexported); ok is false when it has no such
// field.
func intField(data any, name string) (int, bool) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || !f.CanInt() {
		return 0, false
	}
	return int(f.Int()), true
}

// f32 returns a float32 buffer's data and shape; ok is false for any
// other dtype.
func f32(b *simplego.Backend, buf *simplego.Buffer) ([]float32, shapes.Shape, bool) {
	flat, err := b.BufferData(buf)
	if err != nil {
		return nil, shapes.Shape{}, false
	}
	s, ok := flat.([]float32)
	if !ok {
		return nil, shapes.Shape{}, false
	}
	shape, err := b.BufferShape(buf)
	if err != nil || shape.Size() != len(s) {
		return nil, shapes.Shape{}, false
	}
	return s, shape, true
}

// output returns the buffer an op writes its result of shape s into:
// an input the executor owns with that very shape (simplego's convention:
// its slot in inputs is set to nil so it is not freed), else a fresh one
// from the backend's pool.
func output(b *simplego.Backend, s shapes.Shape, inputs []*simplego.Buffer, owned []bool, candidates ...int) (*simplego.Buffer, []float32, error) {
	for _, i := range candidates {
		if i < len(owned) && owned[i] && inputs[i] != nil {
			if data, shape, ok := f32(b, inputs[i]); ok && shape.Equal(s) {
				buf := inputs[i]
				inputs[i] = nil
				return buf, data, nil
			}
		}
	}
	buf := b.NewBuffer(s)
	if buf == nil {
		return nil, nil, errors.New("simplego backend finalized")
	}
	data, _, ok := f32(b, buf)
	if !ok {
		return nil, nil, fmt.Errorf("new %s buffer is not float32", s)
	}
	return buf, data, nil
}
