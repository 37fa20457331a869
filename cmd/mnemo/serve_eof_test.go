package main

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/locktest"
)

// slowEOF is a stdin that ends after a delay, with nothing read.
type slowEOF struct{ d time.Duration }

func (s slowEOF) Read([]byte) (int, error) { time.Sleep(s.d); return 0, io.EOF }

// `mnemo serve </dev/null` while the runtime is still opening (here: the
// store waits for a lock another process holds) is a clean exit: the open
// it abandons is not an ERROR in the log, which doctor would count.
func TestServeEOFWhileOpeningLogsNoError(t *testing.T) {
	home := serveEnv(t)
	release := locktest.Hold(t, filepath.Join(home, "mnemo.db")) // a new file, locked mid-write
	defer release()
	var out, errb bytes.Buffer
	// Longer than the delay before the open starts without a handshake.
	code := run([]string{"serve"}, &runEnv{stdin: slowEOF{400 * time.Millisecond}, stdout: &out, stderr: &errb})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	release()
	time.Sleep(100 * time.Millisecond)
	if log := logText(t, home); strings.Contains(log, "level=ERROR") {
		t.Errorf("an abandoned open logged an ERROR:\n%s", log)
	}
	if strings.Contains(errb.String(), "ERROR") {
		t.Errorf("stderr: %s", errb.String())
	}
}
