package main

import (
	"bytes"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/claudecode"
)

// The real binary (a copy of this test binary named mnemo, see TestMain)
// run in dir with the test's environment minus every MNEMO_* setting,
// plus env.
func runMnemo(t *testing.T, bin, dir string, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MNEMO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("mnemo %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// filesHolding lists the files under root whose content holds s.
func filesHolding(t *testing.T, root, s string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() || filepath.Base(p) == "mnemo" {
			return err
		}
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(s)) {
			hits = append(hits, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// secretsProject is a user home with a fake claude CLI, a git project in
// it and mnemo's binary: what a project-scope install runs in.
func secretsProject(t *testing.T) (home, proj, bin string) {
	home = installEnv(t, true)
	proj = filepath.Join(home, "src", "app")
	if err := os.MkdirAll(filepath.Join(proj, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	return home, proj, mnemoBinary(t, filepath.Join(home, "opt"))
}

// A project-scope install writes its settings into files meant to be
// committed: a MNEMO_* value that holds a credential makes it refuse,
// write nothing and say which variable and where it belongs instead,
// without ever printing the secret.
func TestProjectInstallKeepsCredentialsOut(t *testing.T) {
	const pw = "Tr0ub4dor-3xyz"
	home, proj, bin := secretsProject(t)
	for _, c := range []struct{ name, value string }{
		{"MNEMO_STORE", "postgres://ann:" + pw + "@db.example.com:5432/mnemo?sslmode=require"},
		{"MNEMO_STORE", "postgres://ann@db.example.com/mnemo?password=" + pw},
		{"MNEMO_STORE", "host=db.example.com user=ann password=" + pw + " dbname=mnemo"},
		{"MNEMO_HUB_URL", "https://ann:" + pw + "@hf-mirror.example.com"},
	} {
		for _, dry := range []bool{false, true} {
			args := []string{"install", "--scope", "project"}
			if dry {
				args = append(args, "--dry-run")
			}
			r := runMnemo(t, bin, proj, []string{c.name + "=" + c.value, "MNEMO_MODEL=/models/minilm"}, args...)
			what := c.name + "=" + c.value + " " + strings.Join(args, " ")
			if r.code != 1 {
				t.Errorf("%s: want exit 1: %s", what, r)
			}
			for _, want := range []string{c.name + " holds ", "committed", "Nothing was written", "config.toml", "mnemo install --scope user"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("%s: the message lacks %q: %s", what, want, r)
				}
			}
			if c.name == "MNEMO_STORE" && !strings.Contains(r.stderr, ".pgpass") {
				t.Errorf("%s: the message does not name .pgpass: %s", what, r)
			}
			if strings.Contains(r.stdout+r.stderr, pw) {
				t.Errorf("%s: the password was printed: %s", what, r)
			}
			if hits := filesHolding(t, home, pw); len(hits) > 0 {
				t.Fatalf("%s: the password was written to %v", what, hits)
			}
			for _, f := range []string{filepath.Join(proj, ".mcp.json"), filepath.Join(proj, ".claude")} {
				if _, err := os.Stat(f); err == nil {
					t.Fatalf("%s: %s was written", what, f)
				}
			}
			if _, err := os.Stat(filepath.Join(home, "claude-calls.log")); err == nil {
				t.Fatalf("%s: claude was run", what)
			}
		}
	}

	// A store URL without the password (in ~/.pgpass instead) is recorded
	// for the team; a path inside the installer's home is written with a
	// warning that names it.
	data := filepath.Join(home, "data")
	store := "postgres://db.example.com:5432/mnemo"
	r := runMnemo(t, bin, proj, []string{"MNEMO_STORE=" + store, "MNEMO_HOME=" + data}, "install", "--scope", "project")
	if r.code != 0 {
		t.Fatalf("install without a credential: %s", r)
	}
	if !strings.Contains(r.stdout, "\nwarn MNEMO_HOME is "+data+", inside your home folder") && !strings.HasPrefix(r.stdout, "warn MNEMO_HOME is "+data+", inside your home folder") {
		t.Errorf("no warning about MNEMO_HOME: %s", r)
	}
	if strings.Contains(r.stdout, "warn MNEMO_STORE") {
		t.Errorf("a store URL without a password was warned about: %s", r)
	}
	for _, f := range []string{filepath.Join(proj, ".mcp.json"), filepath.Join(proj, ".claude", "settings.json")} {
		if b, err := os.ReadFile(f); err != nil || !bytes.Contains(b, []byte(store)) {
			t.Errorf("%s does not record MNEMO_STORE: %v\n%s", f, err, b)
		}
	}
}

// A user-scope install goes into the user's own files: the settings are
// recorded as they are, credentials included, as before; only what is
// printed hides them.
func TestUserInstallRecordsCredentials(t *testing.T) {
	const pw = "Tr0ub4dor-3xyz"
	home, proj, bin := secretsProject(t)
	store := "postgres://ann:" + pw + "@db.example.com:5432/mnemo"
	env := []string{"MNEMO_STORE=" + store}

	r := runMnemo(t, bin, proj, env, "install", "--dry-run")
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, pw) || !strings.Contains(r.stdout, "postgres://ann:xxxxx@db.example.com:5432/mnemo") ||
		!strings.Contains(r.stdout, `-e MNEMO_STORE="$MNEMO_STORE"`) {
		t.Errorf("dry run: want the password masked: %s", r)
	}
	r = runMnemo(t, bin, proj, env, "install")
	if r.code != 0 {
		t.Fatalf("user install: %s", r)
	}
	if strings.Contains(r.stdout+r.stderr, pw) {
		t.Errorf("the password was printed: %s", r)
	}
	reg := readJSONFile(t, filepath.Join(home, ".claude.json"))["mcpServers"].(map[string]any)["mnemo"].(map[string]any)
	if got := reg["env"].(map[string]any)["MNEMO_STORE"]; got != store {
		t.Errorf("registered MNEMO_STORE = %v, want the URL as given", got)
	}
	if b, _ := os.ReadFile(filepath.Join(home, ".claude", "settings.json")); !bytes.Contains(b, []byte("MNEMO_STORE="+claudeQuote(store))) {
		t.Errorf("the hooks do not carry MNEMO_STORE:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(proj, ".mcp.json")); err == nil {
		t.Errorf("a user install wrote the project's .mcp.json")
	}
}

// claudeQuote is how a value appears in a hook command (ShellQuote).
func claudeQuote(s string) string {
	if strings.ContainsAny(s, "?&") {
		return "'" + s + "'"
	}
	return s
}

// doctor warns when the settings recorded in the hooks and in the MCP
// registration drift apart (the server re-registered by hand), and no
// more once mnemo install has recorded the same ones in both.
func TestDoctorWarnsWhenHooksAndServerDiffer(t *testing.T) {
	home, _, bin := secretsProject(t)
	work := filepath.Join(home, "work") // not a git project: user scope only
	os.MkdirAll(work, 0o700)
	env := []string{"MNEMO_HOME=" + filepath.Join(home, "data"), "MNEMO_MODEL=/models/a", "MNEMO_OFFLINE=1"}
	if r := runMnemo(t, bin, work, env, "install"); r.code != 0 {
		t.Fatalf("install: %s", r)
	}
	doctor := func() cliResult {
		t.Helper()
		r := runMnemo(t, bin, work, env, "doctor", "--skip-model")
		if !strings.Contains(r.stdout, "\nok   claude-hooks ") {
			t.Fatalf("doctor does not see the install: %s", r)
		}
		return r
	}
	if r := doctor(); strings.Contains(r.stdout, "warn claude-env") || !strings.Contains(r.stdout, "\nok   claude-env ") {
		t.Fatalf("doctor after install: %s", r)
	}

	// The server registered again by hand with another model.
	claude := exec.Command(filepath.Join(home, "bin", "claude"), "mcp", "add", "--scope", "user", "mnemo",
		"-e", "MNEMO_HOME="+filepath.Join(home, "data"), "-e", "MNEMO_MODEL=/models/b", "-e", "MNEMO_OFFLINE=1", "--", bin, "serve")
	claude.Dir = home
	if out, err := claude.CombinedOutput(); err != nil {
		t.Fatalf("claude mcp add: %v\n%s", err, out)
	}
	r := doctor()
	if !strings.Contains(r.stdout, "\nwarn claude-env ") || !strings.Contains(r.stdout, "MNEMO_MODEL differs") || !strings.Contains(r.stdout, "-> run: mnemo install ") {
		t.Fatalf("doctor after the server was re-registered: %s", r)
	}
	if strings.Contains(r.stdout, "MNEMO_HOME differs") || strings.Contains(r.stdout, "/models/b") {
		t.Errorf("doctor names more than the variable that differs: %s", r)
	}

	// The fix doctor names: install again (with the settings of the first
	// install, so the registration is what must change).
	if r := runMnemo(t, bin, work, env, "install"); r.code != 0 || !strings.Contains(r.stdout, "ran claude mcp remove") {
		t.Fatalf("re-install did not re-register: %s", r)
	}
	if r := doctor(); strings.Contains(r.stdout, "warn claude-env") || !strings.Contains(r.stdout, "\nok   claude-env ") {
		t.Fatalf("doctor after re-install: %s", r)
	}
}

// What the refusal advises for a store works: MNEMO_STORE without the
// password goes into the project's files, and mnemo reads the password
// from ~/.pgpass (the PostgreSQL driver's password file). Runs against
// MNEMO_TEST_POSTGRES (a fresh schema), as the other store tests do.
func TestProjectInstallStorePasswordInPgpass(t *testing.T) {
	full := migratePGURL(t)
	u, err := url.Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		t.Skip("MNEMO_TEST_POSTGRES has no password: nothing to move to ~/.pgpass")
	}
	u.User = url.User(u.User.Username())
	bare := u.String()
	home, proj, bin := secretsProject(t)
	// The test's own PGPASSWORD or PGPASSFILE, if any, emptied (unset).
	env := []string{"MNEMO_HOME=" + filepath.Join(home, "data"), "MNEMO_OFFLINE=1", "MNEMO_MODEL=" + filepath.Join(home, "no-model"),
		"PGPASSWORD=", "PGPASSFILE=", "MNEMO_STORE=" + bare}

	if r := runMnemo(t, bin, proj, []string{"MNEMO_STORE=" + full}, "install", "--scope", "project"); r.code != 1 || !strings.Contains(r.stderr, "~/.pgpass") {
		t.Fatalf("install with the password in MNEMO_STORE: %s", r)
	}
	if r := runMnemo(t, bin, proj, []string{"MNEMO_STORE=" + bare}, "install", "--scope", "project"); r.code != 0 {
		t.Fatalf("install with MNEMO_STORE without the password: %s", r)
	}
	if hits := filesHolding(t, home, pw); len(hits) > 0 {
		t.Fatalf("the password was written to %v", hits)
	}
	hooks := readJSONFile(t, filepath.Join(proj, ".claude", "settings.json"))["hooks"].(map[string]any)
	command := hooks["SessionStart"].([]any)[0].(map[string]any)["hooks"].([]any)[0].(map[string]any)["command"].(string)
	if got := claudecode.HookEnv(command)["MNEMO_STORE"]; got != bare {
		t.Fatalf("the hooks' MNEMO_STORE = %q, want %q", got, bare)
	}

	// Without the password anywhere, the store refuses mnemo.
	if r := runMnemo(t, bin, proj, env, "remember", "The staging DB is on port 5433"); r.code == 0 {
		t.Fatalf("remember without a password succeeded: %s", r)
	}
	// With it in ~/.pgpass (host:port:database:user:password, mode 0600).
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	line := strings.Join([]string{host, port, strings.TrimPrefix(u.Path, "/"), u.User.Username(), pgpassEscape(pw)}, ":") + "\n"
	if err := os.WriteFile(filepath.Join(home, ".pgpass"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	// (PGPASSFILE is empty, so unset: the driver reads the default ~/.pgpass.)
	if r := runMnemo(t, bin, proj, env, "remember", "The staging DB is on port 5433"); r.code != 0 {
		t.Fatalf("remember with the password in ~/.pgpass: %s", r)
	}
	if r := runMnemo(t, bin, proj, env, "list", "--all", "--json"); r.code != 0 || !strings.Contains(r.stdout, "port 5433") {
		t.Fatalf("list with the password in ~/.pgpass: %s", r)
	}
}

// pgpassEscape escapes : and \ as a .pgpass field needs.
func pgpassEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(s)
}
