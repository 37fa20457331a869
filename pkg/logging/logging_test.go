package logging

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWritesStderrAndFile(t *testing.T) {
	var buf bytes.Buffer
	path := filepath.Join(t.TempDir(), "logs", "mnemo.log")
	l, closeFn := New(Options{Level: "info", Path: path, Stderr: &buf, Process: "test"})
	l.Debug("hidden")
	l.Info("model loaded", "ms", 12)
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{buf.String(), string(data)} {
		if !strings.Contains(out, "model loaded") || strings.Contains(out, "hidden") || !strings.Contains(out, "test") {
			t.Fatalf("unexpected log output: %q", out)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("log file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestRotatesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), MaxFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, closeFn := New(Options{Path: path})
	defer closeFn()
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Fatalf("expected rotated file: %v", err)
	}
}
