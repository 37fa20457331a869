package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// userSettings is an existing ~/.claude/settings.json with other hooks and
// settings that install must keep.
const userSettings = `{
  "theme": "dark",
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/guard"}]}],
    "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "cat ~/notes.md"}]}]
  },
  "unknownFutureSetting": [true, {"x": null}]
}
`

// fakeClaudeScript stands in for the claude CLI: it logs its arguments and
// edits ~/.claude.json the way `claude mcp add/remove --scope user` does,
// or .mcp.json in its working directory for --scope project.
const fakeClaudeScript = `#!/bin/sh
echo "$*" >> "$HOME/claude-calls.log"
file="$HOME/.claude.json"
if [ "$3 $4" = "--scope project" ]; then file=.mcp.json; fi
case "$2" in
add)
	env=""
	while [ "$1" != "--" ]; do
		if [ "$1" = "-e" ]; then env="$env${env:+,}\"${2%%=*}\":\"${2#*=}\""; shift; fi
		shift
	done
	printf '{"mcpServers":{"mnemo":{"type":"stdio","command":"%s","args":["serve"],"env":{%s}}}}' "$2" "$env" > "$file" ;;
remove) printf '{"mcpServers":{}}' > "$file" ;;
esac
`

func installEnv(t *testing.T, withClaude bool) (home string) {
	t.Helper()
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("MNEMO_HOOK_CAPTURE", "")
	t.Setenv("CLAUDE_PROJECT_DIR", "")
	bin := filepath.Join(home, "bin")
	os.MkdirAll(bin, 0o700)
	if withClaude {
		if err := os.WriteFile(filepath.Join(bin, "claude"), []byte(fakeClaudeScript), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+"/usr/bin:/bin")
	dir := filepath.Join(home, ".claude")
	os.MkdirAll(dir, 0o700)
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(userSettings), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

func readJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return m
}

func backups(t *testing.T, home string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(home, ".claude", "settings.json.bak-*"))
	return m
}

func TestInstallUninstallUserScope(t *testing.T) {
	home := installEnv(t, true)
	settings := filepath.Join(home, ".claude", "settings.json")
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)

	// --dry-run changes nothing.
	r := mustCLI(t, "", "install", "--dry-run")
	if b, _ := os.ReadFile(settings); string(b) != userSettings {
		t.Fatalf("--dry-run wrote the settings")
	}
	if _, err := os.Stat(filepath.Join(home, "claude-calls.log")); err == nil {
		t.Fatalf("--dry-run ran claude")
	}
	if !strings.Contains(r.stdout, "would run") || len(backups(t, home)) != 0 {
		t.Fatalf("dry run: %s", r)
	}

	mustCLI(t, "", "install", "--scope", "user")
	got := readJSONFile(t, settings)
	orig := readJSONFile(t, filepath.Join(home, ".claude", "settings.json.bak-"+strings.TrimPrefix(filepath.Base(backups(t, home)[0]), "settings.json.bak-")))
	if !reflect.DeepEqual(orig, mustDecode(t, userSettings)) {
		t.Fatalf("backup is not the original")
	}
	if got["theme"] != "dark" || !reflect.DeepEqual(got["unknownFutureSetting"], orig["unknownFutureSetting"]) {
		t.Errorf("other settings changed: %v", got)
	}
	hooks := got["hooks"].(map[string]any)
	if !reflect.DeepEqual(hooks["PreToolUse"], orig["hooks"].(map[string]any)["PreToolUse"]) {
		t.Errorf("other hooks changed: %v", hooks["PreToolUse"])
	}
	ss := hooks["SessionStart"].([]any)
	ups := hooks["UserPromptSubmit"].([]any)
	if len(ss) != 2 || len(ups) != 1 {
		t.Fatalf("hooks after install: %v", hooks)
	}
	cmd := ups[0].(map[string]any)["hooks"].([]any)[0].(map[string]any)["command"].(string)
	if cmd != exe+" hook user-prompt-submit" && cmd != "'"+exe+"' hook user-prompt-submit" {
		t.Errorf("hook command %q", cmd)
	}
	if _, ok := hooks["SessionEnd"]; ok {
		t.Errorf("capture hooks installed without capture")
	}
	calls, _ := os.ReadFile(filepath.Join(home, "claude-calls.log"))
	if want := "mcp add --scope user mnemo -- " + exe + " serve\n"; string(calls) != want {
		t.Errorf("claude calls = %q, want %q", calls, want)
	}
	installed, _ := os.ReadFile(settings)

	// Idempotent: no change, no new backup, no second registration.
	mustCLI(t, "", "install")
	if b, _ := os.ReadFile(settings); !bytes.Equal(b, installed) || len(backups(t, home)) != 1 {
		t.Fatalf("second install changed the settings or wrote a backup")
	}
	if c, _ := os.ReadFile(filepath.Join(home, "claude-calls.log")); !bytes.Equal(c, calls) {
		t.Fatalf("second install ran claude again: %s", c)
	}

	// Doctor sees the registration and hooks (model skipped: none here).
	t.Setenv("MNEMO_HOME", filepath.Join(home, "data"))
	dr := mnemoCLI(t, "", "doctor", "--json", "--skip-model")
	var rep struct {
		Checks []struct{ Name, Status, Summary string }
	}
	if err := json.Unmarshal([]byte(dr.stdout), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, dr)
	}
	for _, c := range rep.Checks {
		if (c.Name == "claude-mcp" || c.Name == "claude-hooks") && c.Status != "ok" {
			t.Errorf("doctor %s: %s %s", c.Name, c.Status, c.Summary)
		}
	}

	mustCLI(t, "", "uninstall")
	if !reflect.DeepEqual(readJSONFile(t, settings), mustDecode(t, userSettings)) {
		b, _ := os.ReadFile(settings)
		t.Fatalf("uninstall did not restore the settings:\n%s", b)
	}
	if c, _ := os.ReadFile(filepath.Join(home, "claude-calls.log")); !strings.HasSuffix(string(c), "mcp remove --scope user mnemo\n") {
		t.Fatalf("uninstall did not unregister: %s", c)
	}
	// Doctor now says the user must act, with exit status 1.
	if dr := mnemoCLI(t, "", "doctor", "--skip-model"); dr.code != 1 || !strings.Contains(dr.stdout, "\nFAIL claude-mcp ") {
		t.Errorf("doctor after uninstall: %s", dr)
	}
}

// Without the claude CLI, install writes the hooks, prints the command
// that registers the server, and exits 1: the job is not done.
func TestInstallWithoutClaudePrintsCommand(t *testing.T) {
	home := installEnv(t, false)
	r := mnemoCLI(t, "", "install", "--capture")
	if r.code != 1 || !strings.Contains(r.stdout, "claude mcp add --scope user mnemo -- ") || !strings.Contains(r.stderr, "not on PATH") {
		t.Fatalf("want the command printed and exit 1: %s", r)
	}
	hooks := readJSONFile(t, filepath.Join(home, ".claude", "settings.json"))["hooks"].(map[string]any)
	for _, ev := range []string{"SessionEnd", "PreCompact"} {
		if _, ok := hooks[ev]; !ok {
			t.Errorf("--capture did not install %s", ev)
		}
	}
	if r := mnemoCLI(t, "", "install", "--scope", "global"); r.code != 2 {
		t.Errorf("bad scope: %s", r)
	}
}

func TestInstallProjectScope(t *testing.T) {
	home := installEnv(t, true)
	proj := filepath.Join(home, "src", "app")
	os.MkdirAll(filepath.Join(proj, ".git"), 0o700)
	sub := filepath.Join(proj, "internal")
	os.MkdirAll(sub, 0o700)
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	os.Chdir(sub)
	mustCLI(t, "", "install", "--scope", "project")
	if _, err := os.Stat(filepath.Join(proj, ".claude", "settings.json")); err != nil {
		t.Fatalf("project settings not written: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(home, ".claude", "settings.json")); string(b) != userSettings {
		t.Errorf("project install touched user settings")
	}
	calls, _ := os.ReadFile(filepath.Join(home, "claude-calls.log"))
	if !strings.Contains(string(calls), "mcp add --scope project mnemo") {
		t.Errorf("calls: %s", calls)
	}
}

func mustDecode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The MNEMO_* settings in effect at install time go into the registration
// (claude mcp add -e), so the server Claude Code starts uses them; a
// change of them re-registers.
func TestInstallRecordsMnemoEnv(t *testing.T) {
	home := installEnv(t, true)
	t.Setenv("MNEMO_MODEL", "/models/minilm")
	t.Setenv("MNEMO_HOME", filepath.Join(home, "data"))
	t.Setenv("MNEMO_OFFLINE", "")
	r := mustCLI(t, "", "install")
	calls, _ := os.ReadFile(filepath.Join(home, "claude-calls.log"))
	if !strings.Contains(string(calls), "mcp add --scope user mnemo -e MNEMO_HOME="+filepath.Join(home, "data")+" -e MNEMO_MODEL=/models/minilm -- ") {
		t.Fatalf("claude mcp add without the env: %s\n%s", calls, r)
	}
	reg := readJSONFile(t, filepath.Join(home, ".claude.json"))["mcpServers"].(map[string]any)["mnemo"].(map[string]any)
	if env := reg["env"].(map[string]any); env["MNEMO_MODEL"] != "/models/minilm" || env["MNEMO_OFFLINE"] != nil {
		t.Errorf("registered env: %v", env)
	}
	// Same settings: nothing to do. Another model: registered again.
	if r := mustCLI(t, "", "install"); !strings.Contains(r.stdout, "already registered") {
		t.Errorf("second install re-registered: %s", r)
	}
	t.Setenv("MNEMO_MODEL", "/models/other")
	mustCLI(t, "", "install")
	reg = readJSONFile(t, filepath.Join(home, ".claude.json"))["mcpServers"].(map[string]any)["mnemo"].(map[string]any)
	if reg["env"].(map[string]any)["MNEMO_MODEL"] != "/models/other" {
		t.Errorf("changed MNEMO_MODEL not registered: %v", reg)
	}
}

// The hooks install writes carry the install-time MNEMO_* settings: run
// through sh exactly as Claude Code runs a hook command, with none of
// those settings in its environment (and another MNEMO_HOME), the
// UserPromptSubmit hook reads the store install was told about. Every path
// has characters sh would expand or split on, which must neither break the
// command nor run anything.
func TestInstalledHooksCarrySettings(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh: Claude Code runs hook commands through a POSIX shell")
	}
	home := installEnv(t, true)
	hookEnv(t)
	root := t.TempDir()
	odd := `it's "odd" $HOME ` + "`touch injected1`" + ` $(touch injected2); touch injected3 #`
	data := filepath.Join(root, "data "+odd)
	t.Setenv("MNEMO_HOME", data)
	t.Setenv("MNEMO_CACHE", filepath.Join(root, "cache "+odd))
	work := filepath.Join(root, "work")
	os.MkdirAll(work, 0o700)
	seedApp(t, work, memStock, memDoctor).Close() // sets MNEMO_MODEL to the test model
	model := filepath.Join(root, "model "+odd)
	if err := os.Symlink(os.Getenv("MNEMO_MODEL"), model); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MNEMO_MODEL", model)
	bin := mnemoBinary(t, filepath.Join(root, "bin "+odd))

	mnemo := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mnemo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	mnemo("install")
	settings := filepath.Join(home, ".claude", "settings.json")
	hooks := readJSONFile(t, settings)["hooks"].(map[string]any)
	ups := hooks["UserPromptSubmit"].([]any)
	if len(ups) != 1 {
		t.Fatalf("UserPromptSubmit: %v", ups)
	}
	command := ups[0].(map[string]any)["hooks"].([]any)[0].(map[string]any)["command"].(string)
	if !strings.Contains(command, "MNEMO_MODEL=") || !strings.Contains(command, "MNEMO_HOME=") {
		t.Fatalf("hook command without the settings: %s", command)
	}

	// Claude Code's environment: no MNEMO_* settings but a MNEMO_HOME of
	// its own, which the hook must not use.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MNEMO_") {
			env = append(env, kv)
		}
	}
	decoy := filepath.Join(root, "decoy")
	env = append(env, "MNEMO_HOME="+decoy, "MNEMO_HOOK_WARM=0")
	cmd := exec.Command(sh, "-c", command)
	cmd.Dir = work
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(promptInput(t, work, "Which antibiotics did the doctor prescribe?"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := 0
	if err := cmd.Run(); err != nil {
		code = -1
		t.Logf("sh -c: %v", err)
	}
	ctxText := hookContext(t, cliResult{stdout: out.String(), stderr: errb.String(), code: code}, "UserPromptSubmit")
	if !strings.Contains(ctxText, memDoctor) {
		t.Errorf("the hook did not recall from %s:\n%s", data, ctxText)
	}
	if _, err := os.Stat(decoy); err == nil {
		t.Errorf("the hook used Claude Code's MNEMO_HOME %s", decoy)
	}
	for _, dir := range []string{work, root, home} {
		if m, _ := filepath.Glob(filepath.Join(dir, "injected*")); len(m) > 0 {
			t.Errorf("a setting was run as a command: %v", m)
		}
	}

	// Installing again with another model replaces mnemo's entries; the
	// user's other hooks stay; uninstall finds them all.
	t.Setenv("MNEMO_MODEL", filepath.Join(root, "other model"))
	mnemo("install")
	hooks = readJSONFile(t, settings)["hooks"].(map[string]any)
	if ups := hooks["UserPromptSubmit"].([]any); len(ups) != 1 || len(hooks["SessionStart"].([]any)) != 2 {
		t.Fatalf("re-install duplicated hooks: %v", hooks)
	}
	if c := hooks["UserPromptSubmit"].([]any)[0].(map[string]any)["hooks"].([]any)[0].(map[string]any)["command"].(string); !strings.Contains(c, "MNEMO_MODEL='"+filepath.Join(root, "other model")+"'") {
		t.Errorf("re-install kept the old model: %s", c)
	}
	mnemo("uninstall")
	if !reflect.DeepEqual(readJSONFile(t, settings), mustDecode(t, userSettings)) {
		b, _ := os.ReadFile(settings)
		t.Fatalf("uninstall did not restore the settings:\n%s", b)
	}
}
