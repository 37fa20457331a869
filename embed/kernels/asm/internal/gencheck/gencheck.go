// Package gencheck holds what the avo generators share: the check that an
// AVX2 function uses no AVX-512 register, and the test that the committed
// output is what a generator produces.
package gencheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// CheckAVX2 fails if register allocation gave an AVX2 function in the
// assembly file at path a register only AVX-512 has (X16–X31, Y16–Y31, Z,
// K): it would fault on the CPUs the AVX2 path is for. An empty path or
// "-" (standard output) is not checked.
func CheckAVX2(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	evex := regexp.MustCompile(`\b([XY](1[6-9]|2[0-9]|3[01])|Z[0-9]+|K[0-7])\b`)
	var fn string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "TEXT ") {
			fn = line
			continue
		}
		if strings.Contains(fn, "AVX2(SB)") && evex.MatchString(line) {
			return fmt.Errorf("%s uses an AVX-512 register: %s", fn, strings.TrimSpace(line))
		}
	}
	return nil
}

// Current runs the generator in the current directory (go run .) and
// fails t unless its output equals the committed vec/<base>.s and
// vec/<base>.go, first lines (the command and its paths) aside. CI runs
// it: edit a generator, then go generate ./embed/kernels/vec/.
func Current(t *testing.T, base string) {
	t.Helper()
	dir := t.TempDir()
	s, stubs := filepath.Join(dir, base+".s"), filepath.Join(dir, base+".go")
	cmd := exec.Command("go", "run", ".", "-out", s, "-stubs", stubs, "-pkg", "vec")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, out)
	}
	for _, f := range []string{s, stubs} {
		got, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "vec", filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(afterLine(got), afterLine(want)) {
			t.Errorf("vec/%s is stale: run go generate ./embed/kernels/vec/", filepath.Base(f))
		}
	}
}

func afterLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}
