package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// serveEnv gives a serve test its own data dir and the small test model.
func serveEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("MNEMO_HOME", home)
	t.Setenv("MNEMO_CACHE", filepath.Join(home, "cache"))
	t.Setenv("MNEMO_MODEL", testmodels.Dir(t, testmodels.BertTiny))
	t.Setenv("MNEMO_OFFLINE", "1")
	return home
}

const serveInit = `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"serve-test","version":"0"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
`

// rpcLines decodes every line of a server's stdout, failing on anything that
// is not a JSON-RPC message: stdout carries protocol bytes only.
func rpcLines(t *testing.T, out []byte) map[string]map[string]any {
	t.Helper()
	byID := map[string]map[string]any{}
	for _, line := range bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil || m["jsonrpc"] != "2.0" {
			t.Fatalf("stdout line is not a JSON-RPC message: %q", line)
		}
		if id, ok := m["id"]; ok {
			byID[fmt.Sprint(id)] = m
		}
	}
	return byID
}

// stdin EOF is a clean exit (0) after every request read has been answered.
func TestServeEOFExitsCleanly(t *testing.T) {
	serveEnv(t)
	in := serveInit +
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remember","arguments":{"content":"serve test fact"}}}` + "\n" +
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"forget","arguments":{"id":"01HZY3G7Q5E2M8R9T0V1W2X3Y4"}}}` + "\n" +
		// The stateless path (protocol 2026-07-28) is served too.
		`{"jsonrpc":"2.0","id":4,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"t","version":"0"}}}}` + "\n"
	var out, errb bytes.Buffer
	code := run([]string{"serve"}, &runEnv{stdin: strings.NewReader(in), stdout: &out, stderr: &errb})
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errb.String())
	}
	msgs := rpcLines(t, out.Bytes())
	if r, _ := msgs["init"]["result"].(map[string]any); r == nil || r["instructions"] == nil {
		t.Fatalf("initialize: %v", msgs["init"])
	}
	tools, _ := msgs["1"]["result"].(map[string]any)["tools"].([]any)
	if len(tools) != 8 {
		t.Errorf("tools/list: %d tools", len(tools))
	}
	if r, _ := msgs["2"]["result"].(map[string]any); r == nil || r["isError"] == true {
		t.Errorf("remember: %v", msgs["2"])
	}
	if r, _ := msgs["3"]["result"].(map[string]any); r == nil || r["isError"] != true {
		t.Errorf("forget of an unknown id: want a tool error, got %v", msgs["3"])
	}

	if r, _ := msgs["4"]["result"].(map[string]any); r == nil || r["supportedVersions"] == nil || r["instructions"] == nil {
		t.Errorf("server/discover: %v", msgs["4"])
	}

	// The memory was committed: a fresh process sees it.
	var lo, le bytes.Buffer
	if code := run([]string{"list", "--all", "--json"}, &runEnv{stdin: strings.NewReader(""), stdout: &lo, stderr: &le}); code != 0 {
		t.Fatalf("list: exit %d: %s", code, le.String())
	}
	if !strings.Contains(lo.String(), "serve test fact") {
		t.Errorf("memory not in the store after serve exited: %s", lo.String())
	}
}

// A store that cannot be opened does not stop the handshake; tool calls
// report the cause as a tool error the user sees.
func TestServeBrokenStoreIsToolError(t *testing.T) {
	home := serveEnv(t)
	if err := os.MkdirAll(filepath.Join(home, "mnemo.db", "not-a-file"), 0o700); err != nil {
		t.Fatal(err)
	}
	in := serveInit +
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"remember","arguments":{"content":"x"}}}` + "\n"
	var out, errb bytes.Buffer
	if code := run([]string{"serve"}, &runEnv{stdin: strings.NewReader(in), stdout: &out, stderr: &errb}); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	msgs := rpcLines(t, out.Bytes())
	if msgs["init"]["result"] == nil || msgs["1"]["result"] == nil {
		t.Fatalf("handshake with a broken store: %v", msgs)
	}
	r, _ := msgs["2"]["result"].(map[string]any)
	if r == nil || r["isError"] != true || !strings.Contains(fmt.Sprint(r["content"]), "unavailable") {
		t.Fatalf("remember with a broken store: want a tool error naming the cause, got %v", msgs["2"])
	}
}

func TestServeRejectsArguments(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"serve", "extra"}, &runEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}); code != 2 {
		t.Fatalf("exit %d, want 2 (usage)", code)
	}
	if out.Len() != 0 {
		t.Errorf("usage error wrote to stdout: %q", out.String())
	}
}

// A bad MNEMO_MODEL_WAIT stops serve before it speaks, naming the variable.
func TestServeRefusesBadModelWait(t *testing.T) {
	t.Setenv("MNEMO_HOME", t.TempDir())
	t.Setenv("MNEMO_MODEL_WAIT", "soon")
	var out, errb bytes.Buffer
	if code := run([]string{"serve"}, &runEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}); code != 1 ||
		!strings.Contains(errb.String(), "MNEMO_MODEL_WAIT") || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// TestServeHelperProcess is not a test: the subprocess tests below run the
// test binary as `mnemo serve` through it, to deliver real signals.
func TestServeHelperProcess(t *testing.T) {
	if os.Getenv("MNEMO_SERVE_HELPER") != "1" {
		t.Skip("helper process for the serve subprocess tests")
	}
	os.Exit(run([]string{"serve"}, &runEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

func startServeProcess(t *testing.T) (*exec.Cmd, io.WriteCloser, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeHelperProcess$")
	cmd.Env = append(os.Environ(), "MNEMO_SERVE_HELPER=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, stdin, bufio.NewReader(stdout), &stderr
}

// SIGTERM while remembers are in flight: every remember the server had read
// is answered and committed, and the process exits 0.
func TestServeSIGTERMCommitsWritesInFlight(t *testing.T) {
	serveEnv(t)
	cmd, stdin, stdout, stderr := startServeProcess(t)
	const n = 40
	var batch strings.Builder
	batch.WriteString(serveInit)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&batch, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"remember","arguments":{"content":"sigterm fact %d %s"}}}`+"\n", 100+i, i, strings.Repeat("padding ", 2000))
	}
	// The ping comes after the remembers: once it is answered, the server has
	// read every remember (input is read in order), and most are still queued
	// or running when SIGTERM arrives.
	batch.WriteString(`{"jsonrpc":"2.0","id":"ping","method":"ping"}` + "\n")
	if _, err := io.WriteString(stdin, batch.String()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for {
		line, err := stdout.ReadBytes('\n')
		out.Write(line)
		if err != nil {
			t.Fatalf("stdout closed before the ping answer: %v\nstderr:\n%s", err, stderr.String())
		}
		if bytes.Contains(line, []byte(`"id":"ping"`)) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout) // until the server closes stdout
	out.Write(rest)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit after SIGTERM: %v (code %d)\nstderr:\n%s", err, code, stderr.String())
	}
	t.Log(grepLines(stderr.String(), "shutting down"))
	msgs := rpcLines(t, out.Bytes())
	for i := 0; i < n; i++ {
		if r, _ := msgs[fmt.Sprint(100+i)]["result"].(map[string]any); r == nil || r["isError"] == true {
			t.Errorf("remember %d: not answered before exit: %v", i, msgs[fmt.Sprint(100+i)])
		}
	}
	var lo, le bytes.Buffer
	if code := run([]string{"list", "--all", "--json", "--limit", "200"}, &runEnv{stdin: strings.NewReader(""), stdout: &lo, stderr: &le}); code != 0 {
		t.Fatalf("list: exit %d: %s", code, le.String())
	}
	if got := strings.Count(lo.String(), "sigterm fact"); got != n {
		t.Fatalf("%d of %d remembers committed after SIGTERM", got, n)
	}
}

// Closing stdin on a real process: exit 0, stdout carries protocol only.
func TestServeProcessEOF(t *testing.T) {
	serveEnv(t)
	cmd, stdin, stdout, stderr := startServeProcess(t)
	io.WriteString(stdin, serveInit+`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"recall","arguments":{"query":"anything"}}}`+"\n")
	stdin.Close()
	out, _ := io.ReadAll(stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit on stdin EOF: %v\nstderr:\n%s", err, stderr.String())
	}
	msgs := rpcLines(t, out)
	if msgs["1"] == nil {
		t.Fatalf("recall not answered: %s", out)
	}
	if !strings.Contains(stderr.String(), "serving MCP") {
		t.Errorf("logs should go to stderr: %s", stderr.String())
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// An orphaned server exits on its own: its parent (a shell standing in for
// a crashed client) exits while our end of its stdin stays open.
func TestServeExitsWhenParentDies(t *testing.T) {
	serveEnv(t)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinW.Close()
	logf := filepath.Join(t.TempDir(), "serve.err")
	// (An asynchronous command's stdin is /dev/null unless redirected.)
	// The shell waits until the server is serving (it has read its parent
	// pid by then), prints its pid and exits, orphaning it.
	sh := exec.Command("sh", "-c", `exec 3<&0; "$0" -test.run='^TestServeHelperProcess$' <&3 >/dev/null 2>"$1" & pid=$!
until grep -q "serving MCP" "$1" 2>/dev/null; do sleep 0.05; done; echo $pid`, os.Args[0], logf)
	sh.Env = append(os.Environ(), "MNEMO_SERVE_HELPER=1")
	sh.Stdin = stdinR
	out, err := sh.Output() // the shell exits at once, orphaning the server
	stdinR.Close()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(out), &pid); err != nil {
		t.Fatalf("server pid: %q", out)
	}
	t.Cleanup(func() { // os.Process.Kill, not syscall.Kill: the tests vet on Windows too
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	})
	// Gone (or a zombie nobody reaps) within a few poll intervals; the
	// deadline only guards against a hang.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		exited := err == nil && len(strings.Fields(string(stat))) > 2 && strings.Fields(string(stat))[2] == "Z" // a zombie until reaped
		if err != nil {
			if _, err := os.Stat("/proc/self/stat"); err != nil {
				t.Skip("no /proc on this system")
			}
			exited = true // exited and reaped
		}
		if exited {
			logs, _ := os.ReadFile(logf)
			if !strings.Contains(string(logs), app.ErrParentGone.Error()) {
				t.Fatalf("server exited, but not because its parent died:\n%s", logs)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs, _ := os.ReadFile(logf)
	t.Fatalf("server %d still running a minute after its parent exited:\n%s", pid, logs)
}
