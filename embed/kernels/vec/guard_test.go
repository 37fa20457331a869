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
	pg := syscall.Getpagesize()
	data := (n*4 + pg - 1) / pg * pg
	mem, err := syscall.Mmap(-1, 0, data+pg, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[data:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	s = unsafe.Slice((*float32)(unsafe.Pointer(&mem[data-n*4])), n)
	return s, func() { syscall.Munmap(mem) }
}
