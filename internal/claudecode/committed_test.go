package claudecode

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCommittedEnvIssues(t *testing.T) {
	base := t.TempDir() // absolute on every system
	home := filepath.Join(base, "ann")
	got := CommittedEnvIssues(map[string]string{
		"MNEMO_STORE":     "postgres://ann:pw-123456@db/mnemo",
		"MNEMO_HOME":      filepath.Join(home, "mnemo"),
		"MNEMO_MODEL":     "sentence-transformers/all-MiniLM-L6-v2",
		"MNEMO_CACHE":     filepath.Join(base, "cache", "mnemo"),
		"MNEMO_LOG_LEVEL": "debug",
	}, home)
	if len(got) != 2 || got[0].Name != "MNEMO_HOME" || got[0].Credential || got[1].Name != "MNEMO_STORE" || !got[1].Credential {
		t.Fatalf("issues = %+v", got)
	}
	if strings.Contains(got[1].Why, "pw-123456") {
		t.Errorf("Why shows the password: %q", got[1].Why)
	}
}

// A project-scope install with a credential in its settings writes
// nothing, runs nothing, and says what to do; user scope is unchanged.
func TestInstallProjectRefusesCredential(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	proj := filepath.Join(root, "proj")
	os.MkdirAll(proj, 0o700)
	const pw = "pw-123456"
	env := map[string]string{"MNEMO_STORE": "postgres://ann:" + pw + "@db/mnemo", "MNEMO_MODEL": "/models/minilm"}
	s := Setup{Scope: "project", Home: home, ProjectDir: proj, Exe: "/opt/mnemo/bin/mnemo", Env: env, ConfigFile: filepath.Join(home, ".config", "mnemo", "config.toml")}
	fc := &fakeClaude{s: s}
	var out bytes.Buffer
	o := Options{Claude: "/usr/bin/claude", Run: fc.run, Out: &out}
	for _, dry := range []bool{false, true} {
		o.DryRun = dry
		err := Install(context.Background(), s, o)
		var ce *CredentialError
		if !errors.As(err, &ce) || len(ce.Issues) != 1 || ce.Issues[0].Name != "MNEMO_STORE" {
			t.Fatalf("dry run %v: err = %v, want a CredentialError for MNEMO_STORE", dry, err)
		}
		msg := err.Error()
		for _, want := range []string{"MNEMO_STORE holds a password in the URL", s.MCPConfigPath(), s.SettingsPath(), `store = "…" in ` + s.ConfigFile,
			"MNEMO_STORE= mnemo install --scope project", "pgpass", "mnemo install --scope user"} {
			if !strings.Contains(msg, want) {
				t.Errorf("message lacks %q:\n%s", want, msg)
			}
		}
		if strings.Contains(msg+out.String(), pw) {
			t.Errorf("the password is printed:\n%s\n%s", msg, out.String())
		}
	}
	if entries, _ := os.ReadDir(proj); len(entries) != 0 || len(fc.calls) != 0 {
		t.Fatalf("refused install wrote %v or ran %v", entries, fc.calls)
	}

	// User scope: recorded as it is (the user's own files), printed masked.
	s.Scope = "user"
	fc = &fakeClaude{s: s}
	out.Reset()
	o = Options{Claude: "/usr/bin/claude", Run: fc.run, Out: &out}
	if err := Install(context.Background(), s, o); err != nil {
		t.Fatal(err)
	}
	if len(fc.calls) != 1 || !reflect.DeepEqual(fc.calls[0][6:10], []string{"-e", "MNEMO_MODEL=/models/minilm", "-e", "MNEMO_STORE=" + env["MNEMO_STORE"]}) {
		t.Errorf("claude calls = %v", fc.calls)
	}
	if b, _ := os.ReadFile(s.SettingsPath()); !bytes.Contains(b, []byte(pw)) {
		t.Errorf("user-scope hooks lack the store:\n%s", b)
	}
	if strings.Contains(out.String(), pw) || !strings.Contains(out.String(), `-e MNEMO_STORE="$MNEMO_STORE"`) {
		t.Errorf("output shows the password or not the masked option:\n%s", out.String())
	}
}

func TestHookEnvAndMask(t *testing.T) {
	env := map[string]string{"MNEMO_HOME": "/data/it's mine", "MNEMO_STORE": "postgres://ann:pw-123456@db/mnemo?sslmode=require"}
	cmd := HookCommand("/opt/mnemo", "session-start", false, env)
	if got := HookEnv(cmd); !reflect.DeepEqual(got, env) {
		t.Errorf("HookEnv(%q) = %v, want %v", cmd, got, env)
	}
	if got := HookEnv("/opt/mnemo hook session-start"); got != nil {
		t.Errorf("HookEnv without settings = %v", got)
	}
	m := MaskHookCommand(cmd)
	if strings.Contains(m, "pw-123456") || !strings.Contains(m, "ann:xxxxx@db") || !strings.Contains(m, "MNEMO_HOME='/data/it'\\''s mine'") {
		t.Errorf("MaskHookCommand = %s", m)
	}
}

func TestReadRegistrationsAndEffective(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".claude.json")
	os.WriteFile(path, []byte(`{"mcpServers":{"mnemo":{"command":"/a/mnemo","args":["serve"]}},
		"projects":{"/p":{"mcpServers":{"mnemo":{"command":"/b/mnemo","args":["serve"],"env":{"MNEMO_MODEL":"/m"}}}}}}`), 0o600)
	regs, err := ReadRegistrations(path, "/p")
	if err != nil || len(regs) != 2 || regs[0].Scope != "user" || regs[1].Scope != "local" {
		t.Fatalf("ReadRegistrations = %+v, %v", regs, err)
	}
	if eff, ok := Effective(regs); !ok || eff.Command != "/b/mnemo" {
		t.Errorf("Effective = %+v: want the local scope's", eff)
	}
	if regs, _ := ReadRegistrations(path, "/other"); len(regs) != 1 {
		t.Errorf("another project: %+v", regs)
	}
	proj := Registration{Scope: "project", Command: "/c/mnemo"}
	if eff, _ := Effective([]Registration{regs[0], proj}); eff.Command != "/c/mnemo" {
		t.Errorf("Effective = %+v: want the project scope's over the user's", eff)
	}
}
