//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
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

// runBinary runs the real binary (mnemoBinary) with stdout on a
// pseudo-terminal or into a pipe, and returns stdout; stderr goes to the
// test log.
func runBinary(t *testing.T, bin string, onTTY bool, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	var out func() string
	if onTTY {
		var tty *os.File
		tty, out = openPTY(t)
		cmd.Stdout = tty
	} else {
		var buf bytes.Buffer
		cmd.Stdout = &buf
		out = buf.String
	}
	if err := cmd.Run(); err != nil {
		t.Logf("mnemo %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.ReplaceAll(out(), "\r\n", "\n")
}

// Status marks (doctor, install) are coloured symbols on a terminal,
// symbols without colour under NO_COLOR, and plain words off a terminal —
// run as the real binary, its stdout a pseudo-terminal or a pipe.
func TestMarksOnTerminalOnly(t *testing.T) {
	installEnv(t, true) // a fake claude CLI, a throwaway HOME
	cliEnv(t, "")
	os.Unsetenv("NO_COLOR")
	t.Setenv("TERM", "xterm")
	bin := mnemoBinary(t, t.TempDir())
	const (
		green = "\x1b[32m✔\x1b[0m"
		red   = "\x1b[31m✘\x1b[0m"
	)

	out := runBinary(t, bin, true, "doctor", "--skip-model")
	if !strings.Contains(out, green+" home ") || !strings.Contains(out, red+" claude-mcp ") || !strings.Contains(out, "→ run: mnemo install") {
		t.Errorf("doctor on a terminal: no coloured marks:\n%q", out)
	}
	if out := runBinary(t, bin, true, "install"); !strings.Contains(out, green+" hooks: ") || !strings.Contains(out, green+" MCP: ran claude mcp add") {
		t.Errorf("install on a terminal: no coloured marks:\n%q", out)
	}

	// Off a terminal: words at the start of the line, no symbol, no escape.
	plain := func(what, out string, want ...string) {
		t.Helper()
		if strings.ContainsAny(out, "✔✘→•\x1b") {
			t.Errorf("%s into a pipe has symbols or escape codes:\n%s", what, out)
		}
		for _, w := range want {
			if !strings.Contains("\n"+out, "\n"+w) {
				t.Errorf("%s into a pipe lacks a line starting %q:\n%s", what, w, out)
			}
		}
	}
	plain("doctor", runBinary(t, bin, false, "doctor", "--skip-model"), "ok   home ", "ok   claude-mcp ", "warn model ")
	plain("install", runBinary(t, bin, false, "install"), "ok   hooks: ", "ok   MCP: mnemo already registered")
	plain("install --dry-run", runBinary(t, bin, false, "uninstall", "--dry-run"), "info dry run: would write ", "info dry run: would run ")
	t.Setenv("NO_COLOR", "1")
	plain("doctor with NO_COLOR", runBinary(t, bin, false, "doctor", "--skip-model"), "ok   home ")

	// NO_COLOR on a terminal: the symbols, uncoloured. An empty NO_COLOR
	// is not set (no-color.org).
	if out := runBinary(t, bin, true, "doctor", "--skip-model"); strings.Contains(out, "\x1b[") || !strings.Contains(out, "\n✔ claude-mcp ") {
		t.Errorf("NO_COLOR: doctor on a terminal:\n%q", out)
	}
	t.Setenv("NO_COLOR", "")
	if out := runBinary(t, bin, true, "doctor", "--skip-model"); !strings.Contains(out, green+" claude-mcp ") {
		t.Errorf("empty NO_COLOR turned colours off:\n%q", out)
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
