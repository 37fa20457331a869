package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/claudecode"
	"github.com/mnemo-mcp/mnemo/internal/marks"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

type nopRecaller struct{}

func (nopRecaller) Recall(context.Context, service.RecallRequest) (service.RecallResult, error) {
	return service.RecallResult{}, nil
}

// world is a temporary installation: data dir, user home, project.
type world struct {
	o    Options
	home string
}

func newWorld(t *testing.T, model string) world {
	t.Helper()
	d, err := os.MkdirTemp("", "md") // short: the warm socket lives under it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	cfg := config.Config{Home: filepath.Join(d, "data"), Model: model, CacheDir: filepath.Join(d, "cache"), Offline: true}
	os.MkdirAll(cfg.Home, 0o700)
	home := filepath.Join(d, "home")
	os.MkdirAll(home, 0o700)
	exe, _ := os.Executable() // hook commands must name an existing binary
	return world{home: home, o: Options{Config: cfg, Exe: exe, UserHome: home, ProjectDir: filepath.Join(d, "proj")}}
}

func (w world) seed(t *testing.T, model string, n int, withVector bool) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), w.o.Config.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 0; i < n; i++ {
		m := &memory.Memory{Content: "note " + string(rune('a'+i)), Project: "p1", Source: memory.SourceCLI}
		if withVector {
			m.Vector, m.Model, m.Dims = []float32{1, 0}, model, 2
		}
		if _, err := st.Put(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func (w world) install(t *testing.T) {
	t.Helper()
	s := claudecode.Setup{Scope: "user", Home: w.home, Exe: w.o.Exe}
	out, _, err := claudecode.MergeHooks(nil, s.Hooks(), filepath.Base(w.o.Exe))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(w.home, ".claude"), 0o700)
	os.WriteFile(s.SettingsPath(), out, 0o600)
	reg, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{"mnemo": map[string]any{"command": "mnemo", "args": []string{"serve"}}}})
	os.WriteFile(filepath.Join(w.home, ".claude.json"), reg, 0o600)
}

func check(t *testing.T, r Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, r.Checks)
	return Check{}
}

func TestHealthyInstall(t *testing.T) {
	model := testmodels.Dir(t, testmodels.BertTiny)
	w := newWorld(t, model)
	w.seed(t, "bert-tiny-synthetic", 3, true)
	w.install(t)
	// An error and a warning in the log.
	os.MkdirAll(filepath.Dir(w.o.Config.LogPath()), 0o700)
	os.WriteFile(w.o.Config.LogPath(), []byte(`{"time":"2026-05-01T10:00:00Z","level":"WARN","msg":"hook failed open","err":"x"}
not json
{"time":"2026-05-01T10:00:01Z","level":"ERROR","msg":"search failed","proc":"serve","err":"disk I/O error"}
`), 0o600)
	// A running server with a warm socket (this process).
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- warm.Serve(ctx, warm.Dir(w.o.Config.Home), nopRecaller{}, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 500; i++ {
		if _, err := os.Stat(warm.SocketPath(warm.Dir(w.o.Config.Home), os.Getpid())); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	r := Run(context.Background(), w.o)
	if !r.OK {
		t.Fatalf("report not OK: %+v", r.Checks)
	}
	if !r.Model.Found || r.Model.Dims != 128 || len(r.Model.SHA256) != 64 || r.Model.Verified {
		t.Errorf("model = %+v", r.Model)
	}
	s := r.Store
	if s.JournalMode != "wal" || s.Integrity != "ok" || s.Total != 3 || s.ByProject["p1"] != 3 || s.ByModel["bert-tiny-synthetic"] != 3 || s.NeedReembed != 0 {
		t.Errorf("store = %+v", s)
	}
	if len(r.LogErrors) != 1 || r.LogErrors[0].Err != "disk I/O error" || check(t, r, "log").Status != Warn {
		t.Errorf("log errors = %+v", r.LogErrors)
	}
	found := false
	for _, p := range r.Processes {
		if p.PID == os.Getpid() && p.Warm {
			found = true
		}
	}
	if !found {
		t.Errorf("warm server not listed: %+v", r.Processes)
	}
	if c := check(t, r, "engine"); c.Summary == "" || c.Summary != r.Model.Kernels {
		t.Errorf("engine check = %+v, model kernels %q", c, r.Model.Kernels)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	for _, want := range []string{"\nok   model ", "\nok   store ", "\nok   claude-mcp ", "\nok   claude-hooks ", "\nwarn log ", "All good."} {
		if !strings.Contains("\n"+b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
	// On a terminal: symbols, coloured unless NO_COLOR (marks.For decides).
	b.Reset()
	r.WriteTextStyle(&b, marks.Colour)
	for _, want := range []string{"\x1b[32m✔\x1b[0m model ", "\x1b[33m!\x1b[0m log "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("coloured report lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	r.WriteTextStyle(&b, marks.Symbols)
	if !strings.Contains(b.String(), "✔ model ") || strings.Contains(b.String(), "\x1b") {
		t.Errorf("report with symbols:\n%s", b.String())
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

func TestNeedsUser(t *testing.T) {
	w := newWorld(t, filepath.Join(os.TempDir(), "no-such-model-dir"))
	w.seed(t, "other-model", 2, true)
	w.seed(t, "", 0, false)
	r := Run(context.Background(), w.o)
	if r.OK {
		t.Fatalf("report OK without model and Claude Code set-up: %+v", r.Checks)
	}
	for _, name := range []string{"model", "claude-mcp", "claude-hooks"} {
		if c := check(t, r, name); c.Status != Fail || c.Fix == "" {
			t.Errorf("%s = %+v, want a failure with a fix", name, c)
		}
	}
	if c := check(t, r, "vectors"); c.Status != Warn || r.Store.NeedReembed != 2 {
		t.Errorf("vectors = %+v (need %d)", c, r.Store.NeedReembed)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	// Plain words, greppable, the fix aligned under the summary.
	if !strings.Contains(b.String(), "\nFAIL claude-mcp    mnemo is not registered") || !strings.Contains(b.String(), "\n                   -> run: mnemo install\n") ||
		!strings.Contains(b.String(), "(FAIL above)") || strings.ContainsAny(b.String(), "✔✘→\x1b") {
		t.Errorf("text report:\n%s", b.String())
	}
	b.Reset()
	r.WriteTextStyle(&b, marks.Symbols)
	if !strings.Contains(b.String(), "\n✘ claude-mcp    mnemo is not registered") || !strings.Contains(b.String(), "\n                → run: mnemo install\n") || !strings.Contains(b.String(), "(✘ above)") {
		t.Errorf("text report with symbols:\n%s", b.String())
	}
}

func TestCorruptStore(t *testing.T) {
	w := newWorld(t, "")
	w.o.SkipModel = true
	os.WriteFile(w.o.Config.DBPath(), bytes.Repeat([]byte("not a database "), 1000), 0o600)
	r := Run(context.Background(), w.o)
	if c := check(t, r, "store"); c.Status != Fail {
		t.Fatalf("store check on garbage = %+v", c)
	}
}

func TestExpectedModelID(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{
		dir:                                      filepath.Base(dir),
		"sentence-transformers/all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
		"sentence-transformers/all-MiniLM-L6-v2@main": "sentence-transformers/all-MiniLM-L6-v2",
		"org/m@v2": "org/m@v2",
	} {
		if got := expectedModelID(in); got != want {
			t.Errorf("expectedModelID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBadVectorRows: doctor finds vectors whose size differs from the other
// vectors of their model (what an unchecked import stored) and vectors that
// cannot be read as finite numbers, and says how to fix them.
func TestBadVectorRows(t *testing.T) {
	w := newWorld(t, "")
	w.o.SkipModel = true
	w.seed(t, "m", 3, true) // 2-dim vectors of m
	st, err := sqlite.Open(context.Background(), w.o.Config.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	odd := &memory.Memory{Content: "three dims", Project: "p1", Source: memory.SourceImport, Vector: []float32{0.6, 0.8, 0}, Model: "m", Dims: 3}
	if _, err := st.Put(context.Background(), odd); err != nil {
		t.Fatal(err)
	}
	// A NaN written behind the store's back (older versions, other tools).
	nan := []byte{0, 0, 0xc0, 0x7f, 0, 0, 0, 0}
	if _, err := st.DB().Exec(`UPDATE memories SET vector = ? WHERE content = 'note a'`, nan); err != nil {
		t.Fatal(err)
	}
	st.Close()

	r := Run(context.Background(), w.o)
	var found []string
	for _, c := range r.Checks {
		if c.Name == "vectors" {
			found = append(found, c.Summary+" → "+c.Fix)
		}
	}
	all := strings.Join(found, "\n")
	if !strings.Contains(all, "model m has vectors of several sizes (3 × 2 dims, 1 × 3 dims)") ||
		!strings.Contains(all, "1 stored vectors cannot be used") || !strings.Contains(all, "value 0 is NaN") ||
		strings.Count(all, "mnemo reembed") < 2 {
		t.Fatalf("vectors checks:\n%s", all)
	}
	if len(r.Store.BadVectors) != 1 || r.Store.MixedDims["m"][3] != 1 {
		t.Errorf("store report: %+v", r.Store)
	}
}

// TestUnsafeHome: doctor fails a data dir that others may write to, as
// every other command refuses it.
func TestUnsafeHome(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	w := newWorld(t, "")
	w.o.SkipModel = true
	if c := check(t, Run(context.Background(), w.o), "home"); c.Status != OK {
		t.Fatalf("private home: %+v", c)
	}
	os.Chmod(w.o.Config.Home, 0o777)
	c := check(t, Run(context.Background(), w.o), "home")
	if c.Status != Fail || !strings.Contains(c.Summary, "writable by others") || !strings.Contains(c.Summary, "chmod 700 "+w.o.Config.Home) {
		t.Fatalf("world-writable home: %+v", c)
	}
}

// With MNEMO_STORE set, doctor checks the store it names through the same
// opener every command uses (issue 17 #1: it used to check only SQLite and
// warn). Any memory.Store stands in for PostgreSQL here.
func TestConfiguredStoreIsChecked(t *testing.T) {
	w := newWorld(t, "m/odel")
	w.o.SkipModel = true
	w.o.Config.Store = "postgres://user:secret@db.example/mnemo"
	w.seed(t, "m/odel", 3, true)
	w.o.OpenStore = func(ctx context.Context) (memory.Store, error) { return sqlite.Open(ctx, w.o.Config.DBPath()) }
	r := Run(context.Background(), w.o)
	if c := check(t, r, "store"); c.Status != OK || !strings.Contains(c.Summary, "3 memories in 1 projects") || strings.Contains(c.Summary, "secret") {
		t.Fatalf("store check = %+v", c)
	}
	if r.Store.Total != 3 || r.Store.Path != "(MNEMO_STORE)" {
		t.Fatalf("store report = %+v", r.Store)
	}
	w.o.OpenStore = func(context.Context) (memory.Store, error) { return nil, errors.New("connection refused") }
	if c := check(t, Run(context.Background(), w.o), "store"); c.Status != Fail || !strings.Contains(c.Summary, "connection refused") {
		t.Fatalf("store check, server down = %+v", c)
	}
}

// Doctor says whether a store remains in the legacy ~/.local/share/mnemo and
// why: not moved yet (in use, or at the next start), or not used.
func TestLegacyStore(t *testing.T) {
	w := newWorld(t, "")
	w.o.SkipModel = true
	legacy := filepath.Join(w.home, ".local", "share", "mnemo")
	platform := filepath.Join(w.home, "xdg", "mnemo")
	has := func(r Report) bool {
		for _, c := range r.Checks {
			if c.Name == "legacy store" {
				return true
			}
		}
		return false
	}
	w.o.Config.LegacyHome, w.o.Config.PlatformHome = legacy, platform
	if r := Run(context.Background(), w.o); has(r) {
		t.Fatalf("no legacy store: %+v", r.Checks)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(legacy, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Not moved yet, because a process has it open.
	w.o.Config.Home, w.o.Config.MoveTo = legacy, platform
	c := check(t, Run(context.Background(), w.o), "legacy store")
	if c.Status != Warn || !strings.Contains(c.Summary, "not yet moved to "+platform) || !strings.Contains(c.Summary, "has the store open") {
		t.Errorf("in use: %+v", c)
	}
	st.Close()
	c = check(t, Run(context.Background(), w.o), "legacy store")
	if !strings.Contains(c.Summary, "the next mnemo start moves it") {
		t.Errorf("free: %+v", c)
	}
	// Not used: the platform's folder has its own store, or MNEMO_HOME.
	w.o.Config.Home, w.o.Config.MoveTo = platform, ""
	c = check(t, Run(context.Background(), w.o), "legacy store")
	if !strings.Contains(c.Summary, "not used: "+platform+" has its own store") {
		t.Errorf("both: %+v", c)
	}
	w.o.Config.Home = filepath.Join(w.home, "elsewhere")
	c = check(t, Run(context.Background(), w.o), "legacy store")
	if !strings.Contains(c.Summary, "MNEMO_HOME is "+w.o.Config.Home) {
		t.Errorf("MNEMO_HOME: %+v", c)
	}
}

// writeRegistration writes ~/.claude.json with mnemo registered at user
// scope with env, and, when local is non-nil, at local scope of the
// project with local.
func (w world) writeRegistration(t *testing.T, env, local map[string]string) {
	t.Helper()
	doc := map[string]any{"mcpServers": map[string]any{"mnemo": map[string]any{"command": w.o.Exe, "args": []string{"serve"}, "env": env}}}
	if local != nil {
		doc["projects"] = map[string]any{w.o.ProjectDir: map[string]any{"mcpServers": map[string]any{"mnemo": map[string]any{"command": w.o.Exe, "args": []string{"serve"}, "env": local}}}}
	}
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(filepath.Join(w.home, ".claude.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (w world) writeHooks(t *testing.T, env map[string]string) {
	t.Helper()
	s := claudecode.Setup{Scope: "user", Home: w.home, Exe: w.o.Exe, Env: env}
	out, _, err := claudecode.MergeHooks(nil, s.Hooks(), filepath.Base(w.o.Exe))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(w.home, ".claude"), 0o700)
	if err := os.WriteFile(s.SettingsPath(), out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// The hooks and the MCP registration carry the same MNEMO_* settings
// after an install; when one of them is changed apart, doctor warns with
// the fix, names the variables and never prints a credential.
func TestClaudeEnvMismatch(t *testing.T) {
	const pw = "hunter2-Pa55"
	w := newWorld(t, filepath.Join(os.TempDir(), "no-such-model-dir"))
	w.o.SkipModel = true
	store := "postgres://ann:" + pw + "@db.example.com/mnemo"
	env := map[string]string{"MNEMO_MODEL": "/models/a", "MNEMO_STORE": store}
	w.writeHooks(t, env)
	w.writeRegistration(t, env, nil)
	r := Run(context.Background(), w.o)
	if c := check(t, r, "claude-env"); c.Status != OK {
		t.Fatalf("same settings: %+v", c)
	}

	// The server re-registered by hand with another model.
	w.writeRegistration(t, map[string]string{"MNEMO_MODEL": "/models/b", "MNEMO_STORE": store, "MNEMO_OFFLINE": "1"}, nil)
	r = Run(context.Background(), w.o)
	c := check(t, r, "claude-env")
	if c.Status != Warn || !strings.Contains(c.Summary, "MNEMO_MODEL differs") || !strings.Contains(c.Summary, "MNEMO_OFFLINE set only for the server") ||
		strings.Contains(c.Summary, "MNEMO_STORE") || !strings.HasPrefix(c.Fix, "run: mnemo install ") {
		t.Errorf("mismatch: %+v", c)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	js, _ := json.Marshal(r)
	if !strings.Contains(b.String(), "\nwarn claude-env ") {
		t.Errorf("text report without the warning:\n%s", b.String())
	}
	for what, out := range map[string]string{"text": b.String(), "json": string(js)} {
		if strings.Contains(out, pw) {
			t.Errorf("the %s report shows the store's password:\n%s", what, out)
		}
	}

	// A local-scope registration of the project wins over the user one:
	// hooks that match it but not the user's are compared with the user's
	// own scope first, then with what runs here.
	w.writeRegistration(t, env, map[string]string{"MNEMO_MODEL": "/models/c"})
	r = Run(context.Background(), w.o)
	if c := check(t, r, "claude-env"); c.Status != Warn || !strings.Contains(c.Summary, "local scope") || !strings.Contains(c.Summary, "MNEMO_MODEL differs") {
		t.Errorf("local registration: %+v", c)
	}
}

// A credential in the project's files meant to be committed (written by
// hand, or by an older install) is warned about, without showing it.
func TestCommittedCredentials(t *testing.T) {
	const pw = "hunter2-Pa55"
	w := newWorld(t, filepath.Join(os.TempDir(), "no-such-model-dir"))
	w.o.SkipModel = true
	w.install(t)
	r := Run(context.Background(), w.o)
	for _, c := range r.Checks {
		if c.Name == "claude-secrets" {
			t.Fatalf("no project files, yet %+v", c)
		}
	}
	os.MkdirAll(w.o.ProjectDir, 0o700)
	mcp := filepath.Join(w.o.ProjectDir, ".mcp.json")
	b, _ := json.Marshal(map[string]any{"mcpServers": map[string]any{"mnemo": map[string]any{"command": w.o.Exe, "args": []string{"serve"},
		"env": map[string]string{"MNEMO_STORE": "postgres://ann:" + pw + "@db/mnemo", "MNEMO_MODEL": "/m"}}}})
	if err := os.WriteFile(mcp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r = Run(context.Background(), w.o)
	c := check(t, r, "claude-secrets")
	if c.Status != Warn || !strings.Contains(c.Summary, "MNEMO_STORE in "+mcp) || strings.Contains(c.Summary, "MNEMO_MODEL") ||
		!strings.Contains(c.Fix, "MNEMO_STORE= mnemo install --scope project") {
		t.Errorf("claude-secrets = %+v", c)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	js, _ := json.Marshal(r)
	if strings.Contains(text.String()+string(js), pw) {
		t.Errorf("the report shows the password:\n%s\n%s", text.String(), js)
	}
}
