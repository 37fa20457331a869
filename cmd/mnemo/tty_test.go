//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal: the terminal end to give a command
// as stdout or stderr, and a function returning what it has written.
func openPTY(t *testing.T) (tty *os.File, output func() string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 4096)
		for {
			k, err := m.Read(b)
			mu.Lock()
			buf.Write(b[:k])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
			m.Close()
		}
	})
	return s, func() string {
		if !closed {
			closed = true
			s.Close() // the reader sees EIO once the terminal end is closed
			<-done
			m.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

// runOnTTY runs mnemo in-process with stdout or stderr on a terminal.
func runOnTTY(t *testing.T, stdoutTTY bool, args ...string) (code int, ttyOut, other string) {
	t.Helper()
	tty, output := openPTY(t)
	var buf bytes.Buffer
	env := &runEnv{stdin: strings.NewReader(""), stdout: &buf, stderr: tty}
	if stdoutTTY {
		env.stdout, env.stderr = tty, &buf
	}
	code = run(args, env)
	return code, output(), buf.String()
}

// Colours on a terminal only, and never with NO_COLOR.
func TestColoursOnTerminalOnly(t *testing.T) {
	cliEnv(t, "")
	t.Setenv("NO_COLOR", "")
	os.Unsetenv("NO_COLOR")
	t.Setenv("TERM", "xterm")
	const green = "\x1b[32m✔"
	_, out, _ := runOnTTY(t, true, "doctor", "--skip-model")
	if !strings.Contains(out, green) {
		t.Errorf("doctor on a terminal has no colour:\n%q", out)
	}
	if r := mnemoCLI(t, "", "doctor", "--skip-model"); strings.Contains(r.stdout, "\x1b[") || !strings.Contains(r.stdout, "✔") {
		t.Errorf("doctor into a pipe has escape codes:\n%q", r.stdout)
	}
	t.Setenv("NO_COLOR", "1")
	if _, out, _ := runOnTTY(t, true, "doctor", "--skip-model"); strings.Contains(out, "\x1b[") {
		t.Errorf("NO_COLOR: doctor still colours:\n%q", out)
	}
}

// Long commands show progress on stderr when it is a terminal, and
// nothing of it when stderr is a pipe or a log.
func TestProgressOnTerminalOnly(t *testing.T) {
	embedEnv(t)
	t.Setenv("MNEMO_BENCH_SCALE", "0.01")
	code, errOut, out := runOnTTY(t, false, "bench", "--json")
	if code != 0 || !strings.Contains(errOut, "bench: scenario q12 (1 of 4)") || !strings.Contains(errOut, "\r\x1b[K") {
		t.Errorf("bench on a terminal: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "scenario q12 (") {
		t.Errorf("progress on stdout: %q", out)
	}
	code, _, errPipe := runCLI("", "bench", "--json")
	if code != 0 || strings.Contains(errPipe, "bench: scenario") {
		t.Errorf("bench with stderr a pipe shows progress: %q", errPipe)
	}
}
