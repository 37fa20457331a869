//go:build unix

package logging

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogFileNotFollowedThroughSymlink: a mnemo.log that is a symlink (to a
// file another user chose) is never written through; the log file is
// disabled with a message that says why.
func TestLogFileNotFollowedThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("untouched\n"), 0o600)
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o700)
	path := filepath.Join(logs, "mnemo.log")
	os.Symlink(victim, path)
	var stderr bytes.Buffer
	l, closeLog := New(Options{Path: path, Stderr: &stderr})
	l.Info("secret line")
	closeLog()
	if b, _ := os.ReadFile(victim); string(b) != "untouched\n" {
		t.Fatalf("log written through the symlink: %q", b)
	}
	if !strings.Contains(stderr.String(), "log file disabled") || !strings.Contains(stderr.String(), "symlink") {
		t.Errorf("stderr: %q", stderr.String())
	}

	// A log dir that others may write to is refused too.
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o700)
	os.Chmod(open, 0o777)
	stderr.Reset()
	_, closeLog = New(Options{Path: filepath.Join(open, "mnemo.log"), Stderr: &stderr})
	closeLog()
	if _, err := os.Stat(filepath.Join(open, "mnemo.log")); err == nil || !strings.Contains(stderr.String(), "writable by others") {
		t.Errorf("log created in a world-writable dir: %q", stderr.String())
	}
}
