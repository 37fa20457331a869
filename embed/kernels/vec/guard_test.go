//go:build linux || darwin

package vec

import (
	"syscall"
	"testing"
	"unsafe"
)

// pageGuarded returns n float32s that end exactly where an inaccessible
// page begins, so touching one element past the end faults; free unmaps
// it.
func pageGuarded(t *testing.T, n int) (s []float32, free func()) {
	t.Helper()
	return pageGuardedOf[float32](t, n)
}

// pageGuardedOf is pageGuarded for any element type.
func pageGuardedOf[T any](t *testing.T, n int) (s []T, free func()) {
	t.Helper()
	var z T
	size := int(unsafe.Sizeof(z))
	pg := syscall.Getpagesize()
	data := (n*size + pg - 1) / pg * pg
	mem, err := syscall.Mmap(-1, 0, data+pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[data:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	s = unsafe.Slice((*T)(unsafe.Pointer(&mem[data-n*size])), n)
	return s, func() { syscall.Munmap(mem) }
}
