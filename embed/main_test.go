package embed

import (
	"fmt"
	"os"
	"testing"
)

// TestMain caps the kernel level for the whole test process when
// MNEMO_TEST_KERNELS names one (make test-kernels runs the engine's tests
// once per level). The engine reads no environment itself: Options.Kernels
// is how a program chooses, and the first engine of a process decides.
func TestMain(m *testing.M) {
	if level := os.Getenv("MNEMO_TEST_KERNELS"); level != "" {
		if _, err := installKernels(level, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}
