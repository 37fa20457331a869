// Package testfs holds file helpers shared by tests on every platform.
package testfs

import (
	"io"
	"os"
	"testing"
)

// CopyExecutable copies the file from to a new executable (mode 0755) at
// to, failing the test on error. Tests copy their own binary to run it
// under another name or from another folder.
func CopyExecutable(t testing.TB, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
