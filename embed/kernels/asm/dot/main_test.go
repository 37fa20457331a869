package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCurrent: the committed vec/dot_amd64.s and dot_amd64.go are what
// this generator produces (CI runs it: edit the generator, then
// go generate ./embed/kernels/vec/).
func TestCurrent(t *testing.T) {
	dir := t.TempDir()
	s, stubs := filepath.Join(dir, "dot_amd64.s"), filepath.Join(dir, "dot_amd64.go")
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
		// The first line names the command and its paths.
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
