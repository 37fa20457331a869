package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/storemove"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// setMoveFault arms the helper process (TestMainHelperProcess) with
// MNEMO_TEST_MOVE_FAULT: "copy" makes a move copy (as between file
// systems); "kill:STEP" (with copy) kills the process with SIGKILL at that
// step of the move.
func setMoveFault(v string) {
	for _, f := range strings.Split(v, ",") {
		switch {
		case f == "copy":
			storemove.TestForceCopy = true
		case strings.HasPrefix(f, "kill:"):
			at := strings.TrimPrefix(f, "kill:")
			storemove.TestStep = func(step string) {
				if step == at {
					if p, err := os.FindProcess(os.Getpid()); err == nil {
						p.Kill() // SIGKILL: no deferred clean-up runs
					}
					select {}
				}
			}
		}
	}
}

// moveWorld is a user whose store is still in the legacy folder
// (~/.local/share/mnemo) while XDG_DATA_HOME names another: the platform's
// data dir on Linux, as ~/Library/Application Support is on macOS.
type moveWorld struct {
	legacy, target string
}

func newMoveWorld(t *testing.T, n int) moveWorld {
	t.Helper()
	root := t.TempDir()
	t.Setenv("HOME", root)
	t.Setenv("XDG_DATA_HOME", filepath.Join(root, "xdg"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("MNEMO_HOME", "")
	t.Setenv("MNEMO_CONFIG", "")
	t.Setenv("MNEMO_STORE", "")
	t.Setenv("MNEMO_CACHE", filepath.Join(root, "cache"))
	t.Setenv("MNEMO_OFFLINE", "1")
	t.Setenv("MNEMO_LOG_LEVEL", "info")
	t.Setenv("MNEMO_TEST_MOVE_FAULT", "")
	w := moveWorld{legacy: filepath.Join(root, ".local", "share", "mnemo"), target: filepath.Join(root, "xdg", "mnemo")}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(w.legacy, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m := memory.Memory{Content: fmt.Sprintf("legacy memory %d about zebra%d", i, i), Project: memory.GlobalProject, Source: memory.SourceCLI}
		if _, err := st.Put(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(w.legacy, "logs"), 0o700)
	os.WriteFile(filepath.Join(w.legacy, "logs", "mnemo.log"), []byte(`{"msg":"an earlier version's log"}`+"\n"), 0o600)
	return w
}

// listAll is `mnemo list --all --json` through a separate process: the
// contents of the memories it sees.
func listAll(t *testing.T) []string {
	t.Helper()
	r := mnemoExec(t, "", "list", "--all", "--limit", "200", "--json")
	if r.code != 0 {
		t.Fatalf("mnemo list: %s", r)
	}
	var got []string
	for _, m := range jsonLines[struct{ Content string }](t, r.stdout) {
		got = append(got, m.Content)
	}
	return got
}

func (w moveWorld) logMentions(t *testing.T, dir, s string) int {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(dir, "logs", "mnemo.log"))
	return strings.Count(string(b), s)
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// The store moves on the first start: list and recall through the real
// binary see every memory, from the new place; the old folder is gone.
func TestStoreMovesToPlatformFolder(t *testing.T) {
	for _, fault := range []string{"", "copy"} {
		t.Run("fault="+fault, func(t *testing.T) {
			w := newMoveWorld(t, 40)
			t.Setenv("MNEMO_TEST_MOVE_FAULT", fault)
			if got := listAll(t); len(got) != 40 {
				t.Fatalf("list after the move: %d memories, want 40", len(got))
			}
			if !storemove.HasStore(w.target) || exists(w.legacy) {
				t.Fatalf("store in target: %v; legacy folder still there: %v", storemove.HasStore(w.target), exists(w.legacy))
			}
			if n := w.logMentions(t, w.target, "moved the store to this system's data folder"); n != 1 {
				t.Errorf("the move is logged %d times, want once", n)
			}
			if w.logMentions(t, w.target, "an earlier version's log") != 1 {
				t.Error("the earlier log did not move with the store")
			}
			t.Setenv("MNEMO_MODEL", testmodels.Dir(t, testmodels.BertTiny))
			r := mnemoExec(t, "", "recall", "zebra17", "--mode", "keyword", "--all", "--json")
			if r.code != 0 || !strings.Contains(r.stdout, "legacy memory 17 about zebra17") {
				t.Fatalf("recall after the move: %s", r)
			}
			if n := w.logMentions(t, w.target, "moved the store"); n != 1 {
				t.Errorf("after more starts the move is logged %d times, want once", n)
			}
		})
	}
}

// Several processes start at once: exactly one moves the store, the others
// wait for it and use the result; none loses a memory.
func TestStoreMoveConcurrentStarts(t *testing.T) {
	for _, fault := range []string{"", "copy"} {
		t.Run("fault="+fault, func(t *testing.T) {
			w := newMoveWorld(t, 30)
			t.Setenv("MNEMO_TEST_MOVE_FAULT", fault)
			// A big old log keeps a copying move busy while the others start.
			big := make([]byte, 48<<20)
			if err := os.WriteFile(filepath.Join(w.legacy, "logs", "mnemo.log.1"), big, 0o600); err != nil {
				t.Fatal(err)
			}
			const procs = 8
			cmds := make([]*exec.Cmd, procs)
			outs := make([]*strings.Builder, procs)
			for i := range cmds {
				cmds[i] = exec.Command(os.Args[0], "-test.run=^TestMainHelperProcess$", "--", "list", "--all", "--limit", "200", "--json")
				cmds[i].Env = append(os.Environ(), "MNEMO_MAIN_HELPER=1")
				outs[i] = &strings.Builder{}
				cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
			}
			for _, c := range cmds {
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
			}
			for i, c := range cmds {
				if err := c.Wait(); err != nil {
					t.Fatalf("process %d: %v\n%s", i, err, outs[i])
				}
				if n := strings.Count(outs[i].String(), `"content"`); n != 30 {
					t.Errorf("process %d listed %d memories, want 30:\n%s", i, n, outs[i])
				}
			}
			if n := w.logMentions(t, w.target, "moved the store"); n != 1 {
				t.Errorf("%d processes moved the store, want exactly 1", n)
			}
			if got := listAll(t); len(got) != 30 || exists(w.legacy) {
				t.Errorf("after: %d memories, legacy folder there: %v", len(got), exists(w.legacy))
			}
		})
	}
}

// A process killed at any step of a move (SIGKILL: no clean-up runs)
// leaves a store with every memory, and the next start finishes or redoes
// the move.
func TestStoreMoveInterrupted(t *testing.T) {
	steps := []string{"rename:probed", "rename:renamed", "probed", "copying", "copied", "synced", "verified", "noted", "merged", "committed", "trashed", "removed"}
	for _, at := range steps {
		t.Run(strings.ReplaceAll(at, ":", "-"), func(t *testing.T) {
			fault := "copy"
			if a, ok := strings.CutPrefix(at, "rename:"); ok {
				at, fault = a, ""
			}
			w := newMoveWorld(t, 20)
			if at == "merged" {
				// The platform folder exists without a store (logs of a
				// command run there): the copy merges into it.
				os.MkdirAll(filepath.Join(w.target, "logs"), 0o700)
			}
			t.Setenv("MNEMO_TEST_MOVE_FAULT", fault+",kill:"+at)
			r := mnemoExec(t, "", "list", "--all", "--json")
			if r.code == 0 {
				t.Fatalf("the process was not killed at %s: %s", at, r)
			}
			// Right after the kill, the store opens with every memory in
			// one of the two places.
			where := w.legacy
			if storemove.HasStore(w.target) {
				where = w.target
			}
			if n := countIn(t, where); n != 20 {
				t.Fatalf("killed at %s: %d memories in %s, want 20", at, n, where)
			}
			t.Setenv("MNEMO_TEST_MOVE_FAULT", fault)
			if got := listAll(t); len(got) != 20 {
				t.Fatalf("killed at %s, next start: %d memories, want 20", at, len(got))
			}
			if !storemove.HasStore(w.target) {
				t.Fatalf("killed at %s: the next start did not move the store", at)
			}
			for _, p := range []string{w.legacy, storemove.TrashPath(w.legacy), filepath.Join(filepath.Dir(w.target), ".mnemo.moving")} {
				if exists(p) {
					t.Errorf("killed at %s: %s is still there after the next start", at, p)
				}
			}
		})
	}
}

// countIn counts the memories of the store in dir, opened as mnemo opens it.
func countIn(t *testing.T, dir string) int {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, err := st.List(context.Background(), memory.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// While another process has the legacy store open (a running mnemo, of any
// version: here this test process), nothing moves: the store is used where
// it is, and moves at the first start once it is closed.
func TestStoreMoveWaitsForOpenStore(t *testing.T) {
	for _, fault := range []string{"", "copy"} {
		t.Run("fault="+fault, func(t *testing.T) {
			w := newMoveWorld(t, 10)
			t.Setenv("MNEMO_TEST_MOVE_FAULT", fault)
			st, err := sqlite.Open(context.Background(), filepath.Join(w.legacy, "mnemo.db"))
			if err != nil {
				t.Fatal(err)
			}
			m := memory.Memory{Content: "written by the running process", Project: memory.GlobalProject, Source: memory.SourceMCP}
			if _, err := st.Put(context.Background(), &m); err != nil {
				t.Fatal(err)
			}
			if got := listAll(t); len(got) != 11 {
				t.Fatalf("list with the store open elsewhere: %d memories, want 11", len(got))
			}
			if storemove.HasStore(w.target) || !storemove.HasStore(w.legacy) {
				t.Fatal("the store moved while another process had it open")
			}
			if w.logMentions(t, w.legacy, "stays in the legacy data folder") != 1 {
				t.Error("the log does not say why the store stayed")
			}
			r := mnemoExec(t, "", "doctor", "--json", "--skip-model")
			var rep struct {
				Checks []struct{ Name, Summary string }
			}
			json.Unmarshal([]byte(r.stdout), &rep)
			found := false
			for _, c := range rep.Checks {
				found = found || (c.Name == "legacy store" && strings.Contains(c.Summary, "has the store open"))
			}
			if !found {
				t.Errorf("doctor does not say the legacy store is in use: %s", r)
			}
			st.Close()
			if got := listAll(t); len(got) != 11 {
				t.Fatalf("list once closed: %d memories, want 11", len(got))
			}
			if !storemove.HasStore(w.target) || exists(w.legacy) {
				t.Fatal("the store did not move once closed")
			}
		})
	}
}

// A running server that has the legacy store open (as an older mnemo serve
// that knows no other place does: here MNEMO_HOME names the legacy folder,
// and it takes no move lock) keeps it from moving; once it exits, the next
// start moves the store with what the server wrote.
func TestStoreMoveWaitsForRunningServer(t *testing.T) {
	w := newMoveWorld(t, 10)
	t.Setenv("MNEMO_MODEL", testmodels.Dir(t, testmodels.BertTiny))
	t.Setenv("MNEMO_HOME", w.legacy)
	cmd, stdin, stdout, stderr := startServeProcess(t)
	t.Setenv("MNEMO_HOME", "")
	call := func(id int, content string) {
		t.Helper()
		fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"remember","arguments":{"content":%q}}}`+"\n", id, content)
		for {
			line, err := stdout.ReadBytes('\n')
			if err != nil {
				t.Fatalf("server stdout: %v\nstderr:\n%s", err, stderr)
			}
			if strings.Contains(string(line), fmt.Sprintf(`"id":%d`, id)) {
				if strings.Contains(string(line), `"isError":true`) {
					t.Fatalf("remember: %s", line)
				}
				return
			}
		}
	}
	if _, err := fmt.Fprint(stdin, serveInit); err != nil {
		t.Fatal(err)
	}
	call(1, "remembered by the running server before")
	if got := listAll(t); len(got) != 11 {
		t.Fatalf("list while a server has the store open: %d memories, want 11", len(got))
	}
	if storemove.HasStore(w.target) || !storemove.HasStore(w.legacy) {
		t.Fatal("the store moved while a running server had it open")
	}
	call(2, "remembered by the running server after")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, stderr)
	}
	got := listAll(t)
	if len(got) != 12 || !storemove.HasStore(w.target) || exists(w.legacy) {
		t.Fatalf("after the server exited: %d memories (want 12), moved: %v", len(got), storemove.HasStore(w.target))
	}
}

// A hook is a start like any other: the first one moves the store, and
// answers from the new place.
func TestStoreMoveByHook(t *testing.T) {
	w := newMoveWorld(t, 10)
	proj := t.TempDir()
	r := mnemoExec(t, `{"prompt":"what about zebra3?","cwd":"`+proj+`","hook_event_name":"UserPromptSubmit"}`, "hook", "user-prompt-submit")
	if r.code != 0 {
		t.Fatalf("hook: %s", r)
	}
	if !storemove.HasStore(w.target) || exists(w.legacy) {
		t.Fatalf("the hook did not move the store: %s", r)
	}
	if w.logMentions(t, w.target, "moved the store") != 1 {
		t.Error("the hook did not log the move")
	}
	if !strings.Contains(r.stdout, "legacy memory 3 about zebra3") {
		t.Errorf("the hook did not inject the moved memory: %s", r)
	}
	if got := listAll(t); len(got) != 10 {
		t.Errorf("%d memories after the hook's move, want 10", len(got))
	}
}

// mnemo serve moves the store at its start, before it answers, and writes
// to the new place.
func TestStoreMoveByServe(t *testing.T) {
	w := newMoveWorld(t, 10)
	t.Setenv("MNEMO_MODEL", testmodels.Dir(t, testmodels.BertTiny))
	cmd, stdin, stdout, stderr := startServeProcess(t)
	fmt.Fprint(stdin, serveInit)
	fmt.Fprintf(stdin, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"remember","arguments":{"content":"remembered by the new server"}}}`+"\n")
	for {
		line, err := stdout.ReadBytes('\n')
		if err != nil {
			t.Fatalf("server stdout: %v\nstderr:\n%s", err, stderr)
		}
		if strings.Contains(string(line), `"id":1`) {
			break
		}
	}
	if !storemove.HasStore(w.target) || exists(w.legacy) {
		t.Fatalf("serve did not move the store\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "moved the store to this system's data folder") {
		t.Errorf("serve's log on stderr does not tell of the move:\n%s", stderr)
	}
	stdin.Close()
	cmd.Wait()
	if n := countIn(t, w.target); n != 11 {
		t.Errorf("%d memories in the new place, want 11", n)
	}
}
