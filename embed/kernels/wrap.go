package kernels

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// WrapFloat32 returns a simplego buffer of the given dimensions whose
// storage is data itself, not a copy. The engine uses it to give the
// model its word-embedding table straight from a file mapping (embed's
// mapfile_unix.go): simplego has no public way to adopt memory, so the
// buffer's unexported fields are set here, through offsets reflect finds
// and checks by name and type.
//
// simplego puts a finalized buffer back in its backend's pool, from where
// a later op of the same size could take it as output, so data must stay
// valid until the backend itself is finalized (after which the pool is
// never used again). It fails when b is not simplego or the buffer's
// layout is not the one expected.
func WrapFloat32(b backends.Backend, data []float32, dims ...int) (backends.Buffer, error) {
	if _, ok := b.(*simplego.Backend); !ok {
		return nil, fmt.Errorf("backend %T is not simplego", b)
	}
	shape := shapes.Make(dtypes.Float32, dims...)
	if !shape.Ok() || shape.Size() != len(data) {
		return nil, fmt.Errorf("%d values do not make a %s buffer", len(data), shape)
	}
	layout, err := bufferFields()
	if err != nil {
		return nil, err
	}
	buf := new(simplego.Buffer)
	p := unsafe.Pointer(buf)
	*(*shapes.Shape)(unsafe.Add(p, layout.shape)) = shape
	*(*bool)(unsafe.Add(p, layout.inUse)) = true // as simplego's getBuffer marks a buffer it hands out
	*(*any)(unsafe.Add(p, layout.flat)) = data
	return buf, nil
}

type bufferLayout struct{ shape, inUse, flat uintptr }

// bufferFields finds simplego.Buffer's shape, inUse and flat fields, and
// checks that they are all the struct holds, so that no field is left
// unset.
func bufferFields() (bufferLayout, error) {
	t := reflect.TypeFor[simplego.Buffer]()
	var l bufferLayout
	for _, f := range []struct {
		name string
		typ  reflect.Type
		off  *uintptr
	}{
		{"shape", reflect.TypeFor[shapes.Shape](), &l.shape},
		{"inUse", reflect.TypeFor[bool](), &l.inUse},
		{"flat", reflect.TypeFor[any](), &l.flat},
	} {
		sf, ok := t.FieldByName(f.name)
		if !ok || sf.Type != f.typ || len(sf.Index) != 1 {
			return l, fmt.Errorf("simplego.Buffer.%s is not a %s", f.name, f.typ)
		}
		*f.off = sf.Offset
	}
	if t.NumField() != 3 {
		return l, fmt.Errorf("simplego.Buffer has %d fields, not shape, inUse and flat", t.NumField())
	}
	return l, nil
}
