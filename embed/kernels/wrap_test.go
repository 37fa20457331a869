package kernels

import (
	"testing"
	"unsafe"

	"github.com/gomlx/gomlx/backends/simplego"
)

// A wrapped buffer is the caller's memory, with the shape asked for;
// lengths that do not make the shape are refused.
func TestWrapFloat32(t *testing.T) {
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	data := []float32{1, 2, 3, 4, 5, 6}
	buf, err := WrapFloat32(b, data, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := b.BufferData(buf)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := flat.([]float32)
	if !ok || len(got) != 6 || unsafe.SliceData(got) != unsafe.SliceData(data) {
		t.Fatalf("buffer data %v is not the wrapped slice", flat)
	}
	shape, err := b.BufferShape(buf)
	if err != nil || shape.Rank() != 2 || shape.Dimensions[0] != 2 || shape.Dimensions[1] != 3 {
		t.Fatalf("shape %s, %v", shape, err)
	}
	// simplego finalizes it as one of its own (marked in use).
	if err := b.BufferFinalize(buf); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if _, err := WrapFloat32(b, data, 4, 2); err == nil {
		t.Fatal("6 values wrapped as 4 × 2")
	}
}
