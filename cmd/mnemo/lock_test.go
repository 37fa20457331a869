package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/locktest"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/spool"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// lockWait is how long a test holds the write lock waiting for a reader to
// answer before calling it stuck. The readers must answer while the lock is
// held; this is only the point where a test gives up, not a speed limit.
const lockWait = 40 * time.Second

// storedMemory reads one memory straight from the store file.
func storedMemory(t *testing.T, home, id string) memory.Memory {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(home, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// whileLocked runs fn in the background and returns its result if it
// finishes while the lock is still held; it fails the test (after releasing
// the lock) if fn is still waiting after lockWait.
func whileLocked[T any](t *testing.T, release func(), what string, fn func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(lockWait):
		release()
		<-ch
		t.Fatalf("%s was still waiting for the write lock another process held after %s", what, lockWait)
		panic("unreachable")
	}
}

// Issue 13 #1: the CLI recall, the MCP recall (serve) and the
// user-prompt-submit hook all answer while another process holds the
// store's write lock, and the use of what they returned is recorded once it
// is released (by the server itself, or from the spool by the next writer).
func TestRecallPathsAnswerWhileStoreLocked(t *testing.T) {
	home := cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	t.Setenv("MNEMO_HOOK_BUDGET", "5s")
	t.Setenv("MNEMO_HOOK_WARM", "0")
	t.Setenv("MNEMO_MODEL_WAIT", "0")
	const fact = "the staging database listens on port 5433 behind the bastion host"
	rem := jsonLines[service.RememberResult](t, mustCLI(t, "", "remember", fact, "--project", memory.GlobalProject, "--json").stdout)
	id := rem[0].ID
	db := filepath.Join(home, "mnemo.db")

	accessed := func() time.Time { return storedMemory(t, home, id).AccessedAt }
	last := accessed()
	recorded := func(path string) {
		t.Helper()
		now := accessed()
		if !now.After(last) {
			t.Fatalf("%s: the use was not recorded after the lock was released (accessed_at %v, before %v)", path, now, last)
		}
		last = now
	}
	tick := func() { time.Sleep(5 * time.Millisecond) } // accessed_at is in ms

	t.Run("cli", func(t *testing.T) {
		tick()
		release := locktest.Hold(t, db)
		r := whileLocked(t, release, "mnemo recall", func() cliResult {
			return mnemoCLI(t, "", "recall", "staging database port", "--mode", "keyword", "--json")
		})
		if r.code != 0 || !strings.Contains(r.stdout, id) {
			t.Fatalf("recall under a held lock: %s", r)
		}
		if accessed().After(last) {
			t.Fatal("use recorded while the lock was held?")
		}
		release()
		mustCLI(t, "", "remember", "a later write stores what was spooled") // a writing process
		recorded("cli")
	})

	t.Run("hook", func(t *testing.T) {
		tick()
		work := filepath.Join(home, "work", "projA")
		os.MkdirAll(work, 0o700)
		release := locktest.Hold(t, db)
		r := whileLocked(t, release, "the user-prompt-submit hook", func() cliResult {
			return hookRun(t, promptInput(t, work, "which port does the staging database listen on?"), "user-prompt-submit")
		})
		if got := hookContext(t, r, "UserPromptSubmit"); !strings.Contains(got, "5433") {
			t.Fatalf("hook injected nothing under a held lock:\n%s\nlog:\n%s", got, logText(t, home))
		}
		release()
		mnemoCLI(t, "", "forget", id[:25]+"Z") // any writing command (the id is unknown: exit 1)
		recorded("hook")
	})

	t.Run("mcp", func(t *testing.T) {
		tick()
		stdinR, stdinW := io.Pipe()
		stdoutR, stdoutW := io.Pipe()
		done := make(chan int, 1)
		go func() {
			var errb bytes.Buffer
			done <- run([]string{"serve"}, &runEnv{stdin: stdinR, stdout: stdoutW, stderr: &errb})
			stdoutW.Close()
		}()
		lines := bufio.NewScanner(stdoutR)
		lines.Buffer(make([]byte, 1<<20), 1<<20)
		io.WriteString(stdinW, serveInit)
		if !lines.Scan() {
			t.Fatal("no initialize answer")
		}
		release := locktest.Hold(t, db)
		resp := whileLocked(t, release, "the MCP recall", func() string {
			io.WriteString(stdinW, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"recall","arguments":{"query":"staging database port"}}}`+"\n")
			for lines.Scan() {
				var m map[string]any
				if json.Unmarshal(lines.Bytes(), &m) == nil && m["id"] == float64(7) {
					return lines.Text()
				}
			}
			return ""
		})
		if !strings.Contains(resp, id) || strings.Contains(resp, `"isError":true`) {
			t.Fatalf("MCP recall under a held lock: %s", resp)
		}
		release()
		stdinW.Close()
		go io.Copy(io.Discard, stdoutR)
		if code := <-done; code != 0 {
			t.Fatalf("serve exit %d", code)
		}
		recorded("mcp")
	})
}

// Issue 13 #9: a capture hook that meets a held write lock spools its notes
// (a fsynced 0600 file under MNEMO_HOME); the next writing process stores
// them; nothing is lost and nothing stored twice, however often the spool
// and the hook run again.
func TestCaptureSpoolsWhileStoreLocked(t *testing.T) {
	home := hookEnv(t)
	t.Setenv("MNEMO_HOOK_BUDGET", "1s")
	mustCLI(t, "", "remember", "an existing memory", "--project", memory.GlobalProject) // the store exists
	work := filepath.Join(home, "work", "projS")
	os.MkdirAll(work, 0o700)
	tr, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "hooks", "transcript.jsonl"))
	end, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": work, "transcript_path": tr, "hook_event_name": "SessionEnd", "reason": "other"})
	notes := []string{"the CI machine has only 2 cores", "Deploys happen on Tuesdays after the standup."}

	release := locktest.Hold(t, filepath.Join(home, "mnemo.db"))
	if r := hookRun(t, end, "--capture", "session-end"); r.code != 0 || r.stdout != "" {
		t.Fatalf("capture: %s", r)
	}
	files, _ := spool.Pending(spool.Dir(home))
	if len(files) != 1 {
		t.Fatalf("want one spool file while the store is locked, got %v\nlog:\n%s", files, logText(t, home))
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("spool file mode: %v %v", fi.Mode(), err)
	}
	release()

	count := func() map[string]int {
		n := map[string]int{}
		for _, m := range jsonLines[memoryJSON](t, mustCLI(t, "", "list", "--all", "--json", "--limit", "200").stdout) {
			n[m.Content]++
		}
		return n
	}
	mustCLI(t, "", "remember", "a later write", "--project", memory.GlobalProject) // stores the spool
	for range 2 {                                                                  // the hook again (no lock now), and another writer
		if r := hookRun(t, end, "--capture", "session-end"); r.code != 0 {
			t.Fatalf("capture: %s", r)
		}
		mustCLI(t, "", "remember", "a later write", "--project", memory.GlobalProject)
	}
	got := count()
	for _, n := range notes {
		if got[n] != 1 {
			t.Errorf("note %q stored %d times, want 1 (all: %v)\nlog:\n%s", n, got[n], got, logText(t, home))
		}
	}
	if files, _ := spool.Pending(spool.Dir(home)); len(files) != 0 {
		t.Errorf("spool not emptied: %v", files)
	}
}

// Issue 13 #3: a store that cannot be opened when serve starts is not a
// permanent failure: once the cause is gone, the next tool call works,
// without restarting the server.
func TestServeRetriesFailedStoreOpen(t *testing.T) {
	home := serveEnv(t)
	t.Setenv("MNEMO_MODEL_WAIT", "0")
	blocker := filepath.Join(home, "mnemo.db") // a directory where the file must be
	if err := os.MkdirAll(filepath.Join(blocker, "not-a-file"), 0o700); err != nil {
		t.Fatal(err)
	}
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var errb bytes.Buffer
		done <- run([]string{"serve"}, &runEnv{stdin: stdinR, stdout: stdoutW, stderr: &errb})
		stdoutW.Close()
	}()
	lines := bufio.NewScanner(stdoutR)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	call := func(id int, content string) string {
		t.Helper()
		fmt.Fprintf(stdinW, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"remember","arguments":{"content":%q}}}`+"\n", id, content)
		for lines.Scan() {
			var m map[string]any
			if json.Unmarshal(lines.Bytes(), &m) == nil && m["id"] == float64(id) {
				return lines.Text()
			}
		}
		t.Fatal("serve stopped answering")
		return ""
	}
	io.WriteString(stdinW, serveInit)
	lines.Scan()
	if r := call(1, "while the store is broken"); !strings.Contains(r, `"isError":true`) || !strings.Contains(r, "unavailable") {
		t.Fatalf("remember with a broken store: %s", r)
	}
	if err := os.RemoveAll(blocker); err != nil { // the cause goes away
		t.Fatal(err)
	}
	if r := call(2, "after the store was fixed"); strings.Contains(r, `"isError":true`) {
		t.Fatalf("remember after the cause was fixed still fails: %s", r)
	}
	stdinW.Close()
	go io.Copy(io.Discard, stdoutR)
	if code := <-done; code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	if r := mustCLI(t, "", "list", "--all"); !strings.Contains(r.stdout, "after the store was fixed") {
		t.Fatalf("memory not stored: %s", r)
	}
}

// On a box so busy that a capture hook's input arrives after its budget is
// spent, the notes are still kept (spooled, then stored by the next writer):
// found by `make soak` on PostgreSQL at load average 30.
func TestCaptureKeepsNotesWhenInputIsLate(t *testing.T) {
	home := hookEnv(t)
	t.Setenv("MNEMO_HOOK_BUDGET", "300ms")
	work := filepath.Join(home, "work", "projL")
	os.MkdirAll(work, 0o700)
	tr, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "hooks", "transcript.jsonl"))
	end, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": work, "transcript_path": tr, "hook_event_name": "SessionEnd", "reason": "other"})
	pr, pw := io.Pipe()
	go func() {
		time.Sleep(600 * time.Millisecond) // twice the budget
		pw.Write(end)
		pw.Close()
	}()
	var out, errb bytes.Buffer
	if code := run([]string{"hook", "--capture", "session-end"}, &runEnv{stdin: pr, stdout: &out, stderr: &errb}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	mustCLI(t, "", "remember", "a later write", "--project", memory.GlobalProject) // stores the spool
	got := mustCLI(t, "", "list", "--all", "--json", "--limit", "200").stdout
	for _, n := range []string{"the CI machine has only 2 cores", "Deploys happen on Tuesdays after the standup."} {
		if strings.Count(got, n) != 1 {
			t.Errorf("note %q not kept once:\n%s\nlog:\n%s", n, got, logText(t, home))
		}
	}
}

// A captured note with a credential is redacted before it is spooled: the
// token never reaches the spool file, and the stored memory is the one
// Remember would have stored (so a replay is a duplicate, not a second copy).
func TestCaptureSpoolRedactsSecrets(t *testing.T) {
	home := hookEnv(t)
	t.Setenv("MNEMO_HOOK_BUDGET", "1s")
	mustCLI(t, "", "remember", "an existing memory", "--project", memory.GlobalProject)
	work := filepath.Join(home, "work", "projR")
	os.MkdirAll(work, 0o700)
	const token = "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl398Zpkpm"
	line, _ := json.Marshal(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": "remember: the deploy bot uses " + token + " for pushes"}})
	tr := filepath.Join(home, "transcript.jsonl")
	os.WriteFile(tr, append(line, '\n'), 0o600)
	end, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": work, "transcript_path": tr, "hook_event_name": "SessionEnd", "reason": "other"})

	release := locktest.Hold(t, filepath.Join(home, "mnemo.db"))
	if r := hookRun(t, end, "--capture", "session-end"); r.code != 0 {
		t.Fatalf("capture: %s", r)
	}
	files, _ := spool.Pending(spool.Dir(home))
	if len(files) != 1 {
		t.Fatalf("want one spool file, got %v", files)
	}
	if b, _ := os.ReadFile(files[0]); bytes.Contains(b, []byte(token)) || !bytes.Contains(b, []byte("[REDACTED:")) {
		t.Fatalf("spool file holds the credential or no redaction marker:\n%s", b)
	}
	release()
	mustCLI(t, "", "remember", "a later write", "--project", memory.GlobalProject)
	if r := hookRun(t, end, "--capture", "session-end"); r.code != 0 { // again, stored directly this time
		t.Fatalf("capture: %s", r)
	}
	got := mustCLI(t, "", "list", "--all", "--json").stdout
	if strings.Contains(got, token) || strings.Count(got, "the deploy bot uses [REDACTED:") != 1 {
		t.Fatalf("want the redacted note stored once:\n%s", got)
	}
}
