package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/project"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// hookEnv gives a hook test its own data dir; the project comes from the
// hook input's cwd, as it does under Claude Code.
func hookEnv(t *testing.T) (home string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("MNEMO_HOME", home)
	t.Setenv("MNEMO_CACHE", filepath.Join(home, "cache"))
	t.Setenv("MNEMO_MODEL", filepath.Join(home, "no-model-here"))
	t.Setenv("MNEMO_OFFLINE", "1")
	t.Setenv("MNEMO_LOG_LEVEL", "info")
	t.Setenv("MNEMO_HOOK_BUDGET", "30s") // generous: a shared 2-core CI box
	t.Setenv("MNEMO_HOOK_CAPTURE", "")
	t.Setenv("MNEMO_HOOK_WARM", "")
	t.Setenv("MNEMO_HOOK_MIN_SIMILARITY", "")
	t.Setenv("MNEMO_HOOK_LOCAL_MODEL", "")
	t.Setenv("CLAUDE_PROJECT_DIR", "")
	return home
}

// hookRun runs `mnemo hook args…` in-process.
func hookRun(t *testing.T, stdin []byte, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"hook"}, args...), &runEnv{stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errb})
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hooks", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withTranscript points a fixture's transcript_path at the transcript fixture.
func withTranscript(t *testing.T, b []byte) []byte {
	t.Helper()
	tr, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "hooks", "transcript.jsonl"))
	q, _ := json.Marshal(tr)
	return bytes.Replace(b, []byte(`"TRANSCRIPT"`), q, 1)
}

func logText(t *testing.T, home string) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(home, "logs", "mnemo.log"))
	return string(b)
}

// hookContext decodes the hook's stdout; "" when it printed nothing.
func hookContext(t *testing.T, r cliResult, event string) string {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("hook must exit 0 quietly: %s", r)
	}
	if r.stdout == "" {
		return ""
	}
	var o struct {
		HookSpecificOutput struct {
			HookEventName     string `json:"hookEventName"`
			AdditionalContext string `json:"additionalContext"`
		} `json:"hookSpecificOutput"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &o); err != nil {
		t.Fatalf("stdout is not hook JSON: %v\n%s", err, r.stdout)
	}
	if o.HookSpecificOutput.HookEventName != event || o.HookSpecificOutput.AdditionalContext == "" {
		t.Fatalf("unexpected hook output %s", r.stdout)
	}
	return o.HookSpecificOutput.AdditionalContext
}

// TestHookFixturesFailOpen runs every fixture through every event with an
// empty data dir and no model: whatever happens, exit 0 and nothing on
// stdout or stderr. Bad input leaves one line in the log.
func TestHookFixturesFailOpen(t *testing.T) {
	huge := map[string]any{"hook_event_name": "UserPromptSubmit", "cwd": t.TempDir(), "prompt": strings.Repeat("why does the build fail on arm64? ", 25000)}
	hugeJSON, _ := json.Marshal(huge) // ~850 KB: accepted, query shortened
	oversize := append([]byte(`{"prompt":"`), bytes.Repeat([]byte("x"), 1<<20)...)
	oversize = append(oversize, `"}`...)

	inputs := map[string][]byte{
		"user-prompt-submit": fixture(t, "user-prompt-submit.json"),
		"session-start":      fixture(t, "session-start.json"),
		"session-end":        withTranscript(t, fixture(t, "session-end.json")),
		"pre-compact":        withTranscript(t, fixture(t, "pre-compact.json")),
		"malformed":          fixture(t, "malformed.json"),
		"empty":              fixture(t, "empty.json"),
		"wrong-type":         fixture(t, "wrong-type.json"),
		"unknown-event":      fixture(t, "unknown-event.json"),
		"huge-prompt":        hugeJSON,
		"oversize":           oversize,
	}
	bad := map[string]bool{"malformed": true, "empty": true, "wrong-type": true, "oversize": true}
	events := []string{"user-prompt-submit", "session-start", "session-end", "pre-compact", "UserPromptSubmit", "SessionStart"}
	for name, in := range inputs {
		for _, ev := range events {
			t.Run(name+"/"+ev, func(t *testing.T) {
				home := hookEnv(t)
				r := hookRun(t, in, ev)
				if r.code != 0 || r.stdout != "" || r.stderr != "" {
					t.Fatalf("want exit 0 and silence: %s", r)
				}
				if bad[name] && !strings.Contains(logText(t, home), "hook failed open") {
					t.Errorf("no log line for bad input; log:\n%s", logText(t, home))
				}
			})
		}
	}
	// Unknown events and argument mistakes fail open too (exit 2 would
	// block the prompt in Claude Code).
	for _, args := range [][]string{{"notification"}, {"post-tool-use"}, {}, {"user-prompt-submit", "extra"}} {
		home := hookEnv(t)
		r := hookRun(t, fixture(t, "unknown-event.json"), args...)
		if r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Fatalf("hook %v: %s", args, r)
		}
		if !strings.Contains(logText(t, home), "hook failed open") {
			t.Errorf("hook %v: no log line", args)
		}
	}
}

func TestHookDebugLogsToStderr(t *testing.T) {
	hookEnv(t)
	t.Setenv("MNEMO_LOG_LEVEL", "debug")
	r := hookRun(t, fixture(t, "malformed.json"), "user-prompt-submit")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "hook failed open") {
		t.Fatalf("debug level should explain on stderr: %s", r)
	}
}

// seedApp opens the store with the seeded MiniLM model and stores mems in
// the project of dir.
func seedApp(t *testing.T, dir string, mems ...string) *app.App {
	t.Helper()
	t.Setenv("MNEMO_MODEL", testmodels.Dir(t, testmodels.MiniLM))
	ctx := context.Background()
	a, err := app.Open(ctx, app.Options{Stderr: os.Stderr, Process: "test", Source: memory.SourceCLI, Model: app.ModelSync, StderrLevel: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.ModelErr(); err != nil {
		t.Fatalf("model: %v", err)
	}
	proj := project.Detect(os.Getenv, dir)
	for _, m := range mems {
		res, err := a.Svc.Remember(ctx, service.RememberRequest{Content: m, Project: proj})
		if err != nil || !res.Embedded {
			t.Fatalf("remember %q: %+v %v", m, res, err)
		}
	}
	return a
}

func promptInput(t *testing.T, cwd, prompt string) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": cwd, "hook_event_name": "UserPromptSubmit", "prompt": prompt})
	return b
}

const (
	memStock  = "The stock market fell sharply on Tuesday."
	memDoctor = "The doctor prescribed antibiotics for the infection."
)

// TestHookPromptWarmSocket: with a running server (warm model) the hook
// injects a memory related in meaning but not in words, and stays silent
// for an unrelated prompt. Pairs from ../shared/models/README.md: cosine
// 0.835 (related) vs 0.03–0.2 (unrelated) with minilm-l6-synthetic.
func TestHookPromptWarmSocket(t *testing.T) {
	home := hookEnv(t)
	work := filepath.Join(home, "work", "projW")
	os.MkdirAll(work, 0o700)
	a := seedApp(t, work, memStock, memDoctor)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- warm.Serve(ctx, warm.Dir(home), a.Svc, a.Log) }()
	t.Cleanup(func() { cancel(); <-done })
	waitSocket(t, home)

	ctxText := hookContext(t, hookRun(t, promptInput(t, work, "Shares dropped steeply on Wall Street after the announcement."), "user-prompt-submit"), "UserPromptSubmit")
	if !strings.Contains(ctxText, memStock) || strings.Contains(ctxText, memDoctor) {
		t.Fatalf("warm recall should inject only the stock memory:\n%s", ctxText)
	}
	if !strings.Contains(ctxText, "<mnemo-memories project=") || !strings.Contains(ctxText, "just now") {
		t.Errorf("context lacks delimiters or age:\n%s", ctxText)
	}
	if got := hookContext(t, hookRun(t, promptInput(t, work, "He plays guitar in a rock band."), "user-prompt-submit"), "UserPromptSubmit"); got != "" {
		t.Fatalf("unrelated prompt injected:\n%s", got)
	}

	// The same paraphrase without a server is a keyword search, which
	// shares no word with the memory: silent rather than wrong.
	t.Setenv("MNEMO_HOOK_WARM", "0")
	if got := hookContext(t, hookRun(t, promptInput(t, work, "Shares dropped steeply on Wall Street after the announcement."), "user-prompt-submit"), "UserPromptSubmit"); got != "" {
		t.Fatalf("keyword fallback injected a memory with no shared word:\n%s", got)
	}
}

func waitSocket(t *testing.T, home string) {
	t.Helper()
	path := warm.SocketPath(warm.Dir(home), os.Getpid())
	for i := 0; i < 1000; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("warm socket %s never appeared", path)
}

// TestHookPromptNoServer: no server running, so the hook answers from the
// store by keyword without loading a model.
func TestHookPromptNoServer(t *testing.T) {
	home := hookEnv(t)
	work := filepath.Join(home, "work", "projK")
	os.MkdirAll(work, 0o700)
	a := seedApp(t, work, memStock, memDoctor)
	a.Close()                                                     // nothing of the seeding process stays around
	t.Setenv("MNEMO_MODEL", filepath.Join(home, "no-model-here")) // prove no model is needed

	ctxText := hookContext(t, hookRun(t, promptInput(t, work, "Which antibiotics did the doctor prescribe?"), "UserPromptSubmit"), "UserPromptSubmit")
	if !strings.Contains(ctxText, memDoctor) || strings.Contains(ctxText, memStock) {
		t.Fatalf("keyword recall should inject only the doctor memory:\n%s", ctxText)
	}
	if got := hookContext(t, hookRun(t, promptInput(t, work, "He plays guitar in a rock band."), "user-prompt-submit"), "UserPromptSubmit"); got != "" {
		t.Fatalf("unrelated prompt injected:\n%s", got)
	}
	// Another project's cwd does not see these memories.
	other := filepath.Join(home, "work", "elsewhere")
	os.MkdirAll(other, 0o700)
	if got := hookContext(t, hookRun(t, promptInput(t, other, "Which antibiotics did the doctor prescribe?"), "user-prompt-submit"), "UserPromptSubmit"); got != "" {
		t.Fatalf("memory of another project injected:\n%s", got)
	}
	if strings.Contains(logText(t, home), "hook failed open") {
		t.Errorf("successful hooks logged a failure:\n%s", logText(t, home))
	}
}

func TestHookSessionStartAndCapture(t *testing.T) {
	home := hookEnv(t)
	work := filepath.Join(home, "work", "projS")
	os.MkdirAll(work, 0o700)
	start, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": work, "hook_event_name": "SessionStart", "source": "startup"})
	if r := hookRun(t, start, "session-start"); r.code != 0 || r.stdout != "" {
		t.Fatalf("empty store: %s", r)
	}

	tr, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "hooks", "transcript.jsonl"))
	end, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": work, "transcript_path": tr, "hook_event_name": "SessionEnd", "reason": "other"})
	if r := hookRun(t, end, "session-end"); r.code != 0 || r.stdout != "" {
		t.Fatalf("capture off: %s", r)
	}
	if r := hookRun(t, start, "session-start"); r.stdout != "" {
		t.Fatalf("capture is off by default but something was stored: %s", r)
	}

	// --capture (what `mnemo install --capture` writes) turns it on; twice
	// stores nothing new.
	for range 2 {
		if r := hookRun(t, end, "--capture", "SessionEnd"); r.code != 0 || r.stdout != "" {
			t.Fatalf("capture: %s", r)
		}
	}
	ctxText := hookContext(t, hookRun(t, start, "SessionStart"), "SessionStart")
	for _, want := range []string{"the CI machine has only 2 cores", "Deploys happen on Tuesdays after the standup."} {
		if strings.Count(ctxText, want) != 1 {
			t.Errorf("digest should list %q once:\n%s", want, ctxText)
		}
	}
	for _, not := range []string{"assistant talking", "tool output", "meta messages"} {
		if strings.Contains(ctxText, not) {
			t.Errorf("captured %q:\n%s", not, ctxText)
		}
	}
	if !strings.Contains(ctxText, "Recent:") {
		t.Errorf("digest without sections:\n%s", ctxText)
	}
}

// A hook switch the hook cannot read is an error like any bad variable: the
// hook fails open (exit 0, nothing injected) and its log names the variable.
// It used to be taken silently as the switch's default (envBool).
func TestHookBadSwitchFailsOpenNamingIt(t *testing.T) {
	for _, name := range []string{"MNEMO_HOOK_LOCAL_MODEL", "MNEMO_HOOK_WARM", "MNEMO_HOOK_MIN_SIMILARITY"} {
		t.Run(name, func(t *testing.T) {
			home := hookEnv(t)
			work := filepath.Join(home, "work", "projB")
			os.MkdirAll(work, 0o700)
			t.Setenv(name, "on")
			r := hookRun(t, promptInput(t, work, "Which antibiotics did the doctor prescribe?"), "user-prompt-submit")
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q: a hook must fail open", r.code, r.stdout)
			}
			if log := logText(t, home); !strings.Contains(log, "hook failed open") || !strings.Contains(log, name) {
				t.Fatalf("the log does not name %s:\n%s", name, log)
			}
		})
	}
}
