package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

func TestUnknownStoreURLIsAClearError(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	t.Setenv("MNEMO_STORE", "mysql://x")
	r := mnemoCLI(t, "", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "MNEMO_STORE") || !strings.Contains(r.stderr, "postgres://") {
		t.Fatalf("want a one-line error naming MNEMO_STORE: %s", r)
	}
}

// TestCLIOnPostgresStore drives the CLI and a hook against the team store
// selected by MNEMO_STORE, proving every entry point reaches PostgreSQL.
func TestCLIOnPostgresStore(t *testing.T) {
	url := os.Getenv("MNEMO_TEST_POSTGRES")
	if url == "" {
		if testmodels.InCI() {
			t.Fatal("CI=true and MNEMO_TEST_POSTGRES is unset (scripts/ci-postgres.sh must start the server)")
		}
		t.Skip("MNEMO_TEST_POSTGRES not set")
	}
	home := cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	t.Setenv("MNEMO_STORE", url)
	// A project of its own, so rows from other tests in the shared database
	// cannot interfere.
	proj := filepath.Join(home, "pg-cli-test")
	t.Setenv("CLAUDE_PROJECT_DIR", proj)

	out := mustCLI(t, "", "remember", "The staging database listens on port 5433", "--json").stdout
	var id string
	for _, m := range jsonLines[map[string]any](t, out) {
		id, _ = m["id"].(string)
	}
	if id == "" {
		t.Fatalf("remember printed no id: %s", out)
	}
	t.Cleanup(func() { mnemoCLI(t, "", "forget", id) })

	rec := mustCLI(t, "", "recall", "staging database port", "--json").stdout
	if !strings.Contains(rec, id) {
		t.Fatalf("recall on PostgreSQL did not find %s: %s", id, rec)
	}
	if st := mustCLI(t, "", "stats", "--json").stdout; !strings.Contains(st, "postgres://") || strings.Contains(st, passwordOf(url)) {
		t.Fatalf("stats must name the PostgreSQL store without its password: %s", st)
	}
	hook := mnemoCLI(t, `{"prompt":"which port does the staging database listen on?","cwd":"`+proj+`","hook_event_name":"UserPromptSubmit"}`, "hook", "user-prompt-submit")
	if hook.code != 0 || !strings.Contains(hook.stdout, id) {
		t.Fatalf("hook on PostgreSQL did not inject the memory: %s", hook)
	}
}

func passwordOf(url string) string {
	rest, ok := strings.CutPrefix(url, "postgres://")
	if !ok {
		return "\x00"
	}
	userinfo, _, _ := strings.Cut(rest, "@")
	_, pw, found := strings.Cut(userinfo, ":")
	if !found || pw == "" {
		return "\x00"
	}
	return pw
}

// TestUnsafeHomeRefused: every command refuses a MNEMO_HOME others may
// write to (issue 13's pre-created 1777 folder), naming it and the fix,
// and writes nothing into it.
func TestUnsafeHomeRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	home := cliEnv(t, filepath.Join(t.TempDir(), "no-such-model"))
	os.Chmod(home, os.ModeSticky|0o777)
	for _, args := range [][]string{{"remember", "secret"}, {"list"}, {"recall", "x", "--mode", "keyword"}} {
		r := mnemoCLI(t, "", args...)
		if r.code != 1 || !strings.Contains(r.stderr, home+" is writable by others") || !strings.Contains(r.stderr, "chmod 700 "+home) {
			t.Errorf("mnemo %s: %s", args[0], r)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "mnemo.db")); err == nil {
		t.Error("a store was created in the unsafe home")
	}
}
