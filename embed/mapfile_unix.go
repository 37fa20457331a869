//go:build unix

package embed

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFloats maps n float32 values of f, starting at byte off, into memory
// and returns them with the function that unmaps them. The mapping is
// private and copy-on-write: pages are read from the file (and shared
// with every other process mapping it) until written, which nothing is
// meant to do; a write would only change this process's copy.
func mapFloats(f *os.File, off int64, n int) ([]float32, func() error, error) {
	if off < 0 || off%4 != 0 || n <= 0 {
		return nil, nil, fmt.Errorf("cannot map %d floats at offset %d", n, off)
	}
	page := int64(os.Getpagesize())
	start := off - off%page
	length := int(off-start) + 4*n
	mem, err := unix.Mmap(int(f.Fd()), start, length, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	data := unsafe.Slice((*float32)(unsafe.Pointer(&mem[off-start])), n)
	return data, func() error { return unix.Munmap(mem) }, nil
}

// mapsWeights: weights can be mapped on this platform (tests).
const mapsWeights = true
