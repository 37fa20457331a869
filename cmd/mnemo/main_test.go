package main

import (
	"github.com/mnemo-mcp/mnemo/internal/testfs"
	"os"
	"path/filepath"
	"testing"
)

// TestMain runs a copy of the test binary named mnemo as the real mnemo
// (its own arguments, streams and exit status), so that a test can run
// what `mnemo install` writes into Claude Code's settings — the absolute
// path of the running binary — the way Claude Code runs it.
func TestMain(m *testing.M) {
	if b := filepath.Base(os.Args[0]); b == "mnemo" || b == "mnemo.exe" {
		os.Exit(run(os.Args[1:], &runEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
	}
	os.Exit(m.Run())
}

// mnemoBinary puts this test binary at dir/mnemo (a hard link, or a copy
// across file systems), where TestMain makes it behave as mnemo.
func mnemoBinary(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "mnemo")
	if err := os.Link(self, bin); err == nil {
		return bin
	}
	testfs.CopyExecutable(t, self, bin)
	return bin
}
