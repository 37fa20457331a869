package claudecode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// existing is a settings.json with other hooks, settings and unknown fields.
const existing = `{
  "model": "opus",
  "permissions": {"allow": ["Bash(git status)"], "deny": []},
  "hooks": {
    "PreToolUse": [
      {"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/local/bin/guard.sh", "timeout": 3}]}
    ],
    "UserPromptSubmit": [
      {"hooks": [{"type": "command", "command": "echo hi", "statusMessage": "saying hi"}]}
    ]
  },
  "futureField": {"nested": [1, 2.50, "x<y"]},
  "env": {"FOO": "bar"}
}
`

func setup(t *testing.T) Setup {
	t.Helper()
	return Setup{Scope: "user", Home: t.TempDir(), Exe: "/opt/mnemo/bin/mnemo"}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return m
}

func TestMergeKeepsOtherSettingsAndIsIdempotent(t *testing.T) {
	s := setup(t)
	s.Capture = true
	out, changed, err := MergeHooks([]byte(existing), s.Hooks(), "mnemo")
	if err != nil || !changed {
		t.Fatalf("merge: changed=%v err=%v", changed, err)
	}
	got := decode(t, out)
	orig := decode(t, []byte(existing))
	for _, k := range []string{"model", "permissions", "futureField", "env"} {
		if !reflect.DeepEqual(got[k], orig[k]) {
			t.Errorf("%s changed: %v → %v", k, orig[k], got[k])
		}
	}
	// Key order is the user's.
	if i, j := bytes.Index(out, []byte(`"model"`)), bytes.Index(out, []byte(`"env"`)); i > j {
		t.Errorf("key order changed:\n%s", out)
	}
	hooks := got["hooks"].(map[string]any)
	if !reflect.DeepEqual(hooks["PreToolUse"], orig["hooks"].(map[string]any)["PreToolUse"]) {
		t.Errorf("PreToolUse hook changed: %v", hooks["PreToolUse"])
	}
	ups := hooks["UserPromptSubmit"].([]any)
	if len(ups) != 2 {
		t.Fatalf("UserPromptSubmit groups = %v, want the user's and mnemo's", ups)
	}
	mine := ups[1].(map[string]any)["hooks"].([]any)[0].(map[string]any)
	if mine["command"] != "/opt/mnemo/bin/mnemo hook user-prompt-submit" || mine["type"] != "command" || mine["timeout"] != float64(DefaultHookTimeout) {
		t.Errorf("mnemo entry = %v", mine)
	}
	for _, ev := range []string{"SessionStart", "SessionEnd", "PreCompact"} {
		if _, ok := hooks[ev]; !ok {
			t.Errorf("no %s hook", ev)
		}
	}
	if !strings.Contains(string(out), "hook --capture session-end") {
		t.Errorf("capture hook lacks --capture:\n%s", out)
	}

	again, changed, err := MergeHooks(out, s.Hooks(), "mnemo")
	if err != nil || changed || !bytes.Equal(again, out) {
		t.Fatalf("second merge changed=%v err=%v:\n%s", changed, err, again)
	}

	// Without capture, a re-install drops the capture hooks again.
	s.Capture = false
	noCap, changed, err := MergeHooks(out, s.Hooks(), "mnemo")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	h := decode(t, noCap)["hooks"].(map[string]any)
	if _, ok := h["SessionEnd"]; ok {
		t.Errorf("SessionEnd kept without capture")
	}

	// A moved binary updates the entry in place rather than adding one.
	s.Exe = "/home/u/go/bin/mnemo"
	moved, _, err := MergeHooks(noCap, s.Hooks(), "mnemo")
	if err != nil {
		t.Fatal(err)
	}
	cmds, _ := InstalledHooks(moved, "mnemo")
	if len(cmds["UserPromptSubmit"]) != 1 || cmds["UserPromptSubmit"][0] != "/home/u/go/bin/mnemo hook user-prompt-submit" {
		t.Errorf("after move: %v", cmds)
	}

	// Remove returns the original settings.
	removed, changed, err := RemoveHooks(moved, "mnemo")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if !reflect.DeepEqual(decode(t, removed), orig) {
		t.Errorf("uninstall did not restore the settings:\n%s", removed)
	}
	if _, changed, _ := RemoveHooks(removed, "mnemo"); changed {
		t.Error("second remove changed something")
	}
}

func TestMergeIntoEmptyAndRemoveAll(t *testing.T) {
	s := setup(t)
	for _, in := range []string{"", "{}", "\xef\xbb\xbf{}", `{"hooks": null}`} {
		out, changed, err := MergeHooks([]byte(in), s.Hooks(), "mnemo")
		if err != nil || !changed {
			t.Fatalf("%q: changed=%v err=%v", in, changed, err)
		}
		cmds, _ := InstalledHooks(out, "mnemo")
		if len(cmds) != 2 {
			t.Errorf("%q: installed %v", in, cmds)
		}
		removed, _, err := RemoveHooks(out, "mnemo")
		if err != nil {
			t.Fatal(err)
		}
		if m := decode(t, removed); len(m) != 0 && in != `{"hooks": null}` {
			t.Errorf("%q: left %s", in, removed)
		}
	}
}

func TestMergeRejectsBrokenSettings(t *testing.T) {
	s := setup(t)
	for _, in := range []string{`{"hooks": `, `[1]`, `{"hooks": []}`, `{"hooks": {"UserPromptSubmit": {}}}`, `{} x`} {
		if _, _, err := MergeHooks([]byte(in), s.Hooks(), "mnemo"); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestIsMnemoHook(t *testing.T) {
	for cmd, want := range map[string]bool{
		"/opt/mnemo hook user-prompt-submit":                true,
		"'/my dir/mnemo' hook --capture session-end":        true,
		"mnemo hook SessionStart":                           true,
		"/x/mnemo.test hook pre-compact":                    true, // the installing binary's own name
		"/x/mnemo serve":                                    false,
		"/x/mnemo hook":                                     false,
		"/x/other hook user-prompt-submit":                  false,
		"echo mnemo hook user-prompt-submit":                false,
		"/x/mnemo hook notify":                              false,
		"/x/mnemo-wrapper.sh hook user-prompt-submit":       false,
		`"/Applications/My Tools/mnemo" hook session-start`: true,
	} {
		if got := IsMnemoHook(cmd, "mnemo.test"); got != want {
			t.Errorf("IsMnemoHook(%q) = %v", cmd, got)
		}
	}
	if q := HookCommand("/my dir/it's/mnemo", "session-start", false, nil); !IsMnemoHook(q, "") || shellWords(q)[0] != "/my dir/it's/mnemo" {
		t.Errorf("quoted command %q does not round-trip", q)
	}
	// Settings in front of the binary are read past, not taken for it.
	for cmd, want := range map[string]bool{
		"MNEMO_HOME=/d /x/mnemo hook session-start":                     true,
		"MNEMO_HOME='/a b' MNEMO_MODEL=m '/x y/mnemo' hook pre-compact": true,
		"MNEMO_HOME=/d /x/other hook session-start":                     false,
		"MNEMO_HOME=/d":                     false,
		"1X=/d /x/mnemo hook session-start": false, // not an assignment: the program is 1X=/d
	} {
		if got := IsMnemoHook(cmd, ""); got != want {
			t.Errorf("IsMnemoHook(%q) = %v", cmd, got)
		}
	}
	if got := HookExe("MNEMO_HOME='/a b' '/x y/mnemo' hook pre-compact"); got != "/x y/mnemo" {
		t.Errorf("HookExe = %q", got)
	}
}

// nastyValues are settings that break or inject into a carelessly quoted
// command line.
var nastyValues = map[string]string{
	"MNEMO_HOME":  "/tmp/my data/it's \"quoted\" $HOME `touch injected` $(touch injected2); touch injected3",
	"MNEMO_MODEL": "a'b''c\\d\n$((1+1))",
	"MNEMO_CACHE": "~/cache * ?",
	"MNEMO_EMPTY": "",
}

// The hook command carries the settings through sh exactly: a stand-in
// binary in a directory with an awkward name prints its environment and
// arguments, run the way Claude Code runs hooks (sh -c).
func TestHookCommandEnvThroughShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := filepath.Join(t.TempDir(), "bin dir 'x' $PATH `y`")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "mnemo")
	script := "#!/bin/sh\nfor k in MNEMO_HOME MNEMO_MODEL MNEMO_CACHE MNEMO_EMPTY; do eval \"printf '%s=[%s]\\n' \\\"\\$k\\\" \\\"\\${$k-unset}\\\"\"; done\nprintf 'args=[%s]\\n' \"$*\"\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmdLine := HookCommand(exe, "session-end", true, nastyValues)
	if !IsMnemoHook(cmdLine, "") || HookExe(cmdLine) != exe {
		t.Fatalf("%q is not recognised as mnemo's hook", cmdLine)
	}
	work := t.TempDir()
	cmd := exec.Command(sh, "-c", cmdLine)
	cmd.Dir = work
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "MNEMO_HOME=/wrong"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh -c %q: %v\n%s", cmdLine, err, out)
	}
	var want strings.Builder
	for _, k := range []string{"MNEMO_HOME", "MNEMO_MODEL", "MNEMO_CACHE", "MNEMO_EMPTY"} {
		want.WriteString(k + "=[" + nastyValues[k] + "]\n")
	}
	want.WriteString("args=[hook --capture session-end]\n")
	if string(out) != want.String() {
		t.Errorf("sh -c %q printed\n%s\nwant\n%s", cmdLine, out, want.String())
	}
	if m, _ := filepath.Glob(filepath.Join(work, "injected*")); len(m) > 0 {
		t.Errorf("the command line ran injected commands: %v", m)
	}
}

// Install with other settings replaces mnemo's entries (the settings are
// part of the command, not a second hook); uninstall finds them whatever
// the settings; other hooks stay.
func TestMergeReplacesHooksWithOtherSettings(t *testing.T) {
	s := setup(t)
	s.Env = map[string]string{"MNEMO_HOME": "/data one"}
	out, _, err := MergeHooks([]byte(existing), s.Hooks(), "mnemo")
	if err != nil {
		t.Fatal(err)
	}
	s.Env = map[string]string{"MNEMO_HOME": "/data two", "MNEMO_MODEL": "/m"}
	out, changed, err := MergeHooks(out, s.Hooks(), "mnemo")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	cmds, _ := InstalledHooks(out, "mnemo")
	want := map[string][]string{
		"UserPromptSubmit": {"MNEMO_HOME='/data two' MNEMO_MODEL=/m /opt/mnemo/bin/mnemo hook user-prompt-submit"},
		"SessionStart":     {"MNEMO_HOME='/data two' MNEMO_MODEL=/m /opt/mnemo/bin/mnemo hook session-start"},
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("hooks after a re-install with other settings: %v", cmds)
	}
	if h := decode(t, out)["hooks"].(map[string]any); len(h["UserPromptSubmit"].([]any)) != 2 {
		t.Errorf("UserPromptSubmit: want the user's group and mnemo's, got %v", h["UserPromptSubmit"])
	}
	removed, _, err := RemoveHooks(out, "mnemo")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(decode(t, removed), decode(t, []byte(existing))) {
		t.Errorf("uninstall left:\n%s", removed)
	}
	s.Env = map[string]string{"MNEMO HOME": "x"}
	if err := s.Validate(); err == nil {
		t.Error("an environment name sh cannot assign was accepted")
	}
}

// fakeClaude records claude CLI invocations and edits the config file the
// way `claude mcp add/remove` does.
type fakeClaude struct {
	calls [][]string
	dirs  []string
	s     Setup
}

func (f *fakeClaude) run(ctx context.Context, dir string, argv []string) ([]byte, error) {
	f.calls = append(f.calls, argv)
	f.dirs = append(f.dirs, dir)
	path := f.s.MCPConfigPath()
	doc := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &doc)
	}
	servers, _ := doc["mcpServers"].(map[string]any)
	if servers == nil {
		servers = map[string]any{}
	}
	switch argv[2] {
	case "add":
		servers[ServerName] = map[string]any{"type": "stdio", "command": argv[len(argv)-2], "args": []string{argv[len(argv)-1]}}
	case "remove":
		delete(servers, ServerName)
	}
	doc["mcpServers"] = servers
	b, _ := json.Marshal(doc)
	return nil, os.WriteFile(path, b, 0o600)
}

func TestInstallUninstall(t *testing.T) {
	s := setup(t)
	path := s.SettingsPath()
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(existing), 0o644); err != nil {
		t.Fatal(err)
	}
	fc := &fakeClaude{s: s}
	var out bytes.Buffer
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	o := Options{Claude: "/usr/bin/claude", Run: fc.run, Out: &out, Now: func() time.Time { return now }}

	// Dry run changes nothing and runs nothing.
	dry := o
	dry.DryRun = true
	if err := Install(context.Background(), s, dry); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != existing || len(fc.calls) != 0 {
		t.Fatalf("dry run changed the settings or ran claude: %v", fc.calls)
	}
	if !strings.Contains(out.String(), "would run (in "+s.Home+"): claude mcp add --scope user mnemo -- /opt/mnemo/bin/mnemo serve") {
		t.Errorf("dry run output:\n%s", out.String())
	}

	if err := Install(context.Background(), s, o); err != nil {
		t.Fatal(err)
	}
	backup := path + ".bak-20260501-100000"
	if b, err := os.ReadFile(backup); err != nil || string(b) != existing {
		t.Fatalf("backup %s: %v", backup, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("settings mode changed to %v", st.Mode().Perm())
	}
	want := []string{"/usr/bin/claude", "mcp", "add", "--scope", "user", "mnemo", "--", "/opt/mnemo/bin/mnemo", "serve"}
	if len(fc.calls) != 1 || !reflect.DeepEqual(fc.calls[0], want) {
		t.Fatalf("claude calls = %v", fc.calls)
	}
	installed, _ := os.ReadFile(path)

	// Re-running is a no-op: no write, no claude call.
	if err := Install(context.Background(), s, o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, installed) || len(fc.calls) != 1 {
		t.Fatalf("second install changed something; calls %v", fc.calls)
	}

	if err := Uninstall(context.Background(), s, o); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !reflect.DeepEqual(decode(t, after), decode(t, []byte(existing))) {
		t.Fatalf("uninstall left:\n%s", after)
	}
	if last := fc.calls[len(fc.calls)-1]; last[2] != "remove" {
		t.Fatalf("uninstall did not run claude mcp remove: %v", fc.calls)
	}

	// Without claude on PATH the exact command is printed, and the
	// install is not done.
	out.Reset()
	o.Claude = ""
	if err := Install(context.Background(), s, o); !errors.Is(err, ErrNoClaude) {
		t.Fatalf("install without claude: %v, want ErrNoClaude", err)
	}
	if !strings.Contains(out.String(), "claude mcp add --scope user mnemo -- /opt/mnemo/bin/mnemo serve") {
		t.Errorf("no command printed:\n%s", out.String())
	}
}

func TestProjectScopePaths(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, ".git"), 0o700)
	sub := filepath.Join(root, "a", "b")
	os.MkdirAll(sub, 0o700)
	if got := ProjectRoot(func(string) string { return "" }, sub); got != root {
		t.Errorf("ProjectRoot = %s, want %s", got, root)
	}
	s := Setup{Scope: "project", ProjectDir: root, Exe: "/x/mnemo"}
	if s.SettingsPath() != filepath.Join(root, ".claude", "settings.json") || s.MCPConfigPath() != filepath.Join(root, ".mcp.json") {
		t.Errorf("paths %s %s", s.SettingsPath(), s.MCPConfigPath())
	}
	if err := (Setup{Scope: "global", Exe: "/x"}).Validate(); err == nil {
		t.Error("bad scope accepted")
	}
}
