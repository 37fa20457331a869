package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// Commands whose output is not a result for scripts: serve and hook speak
// JSON to their clients already, export writes JSON lines, completion a
// shell script, install/uninstall report what they changed, ui serves a page.
var noJSONFlag = []string{"completion", "export", "hook", "install", "serve", "uninstall", "ui"}

// README: every command that reports a result takes --json.
func TestEveryCommandTakesJSON(t *testing.T) {
	for _, name := range commandNames() {
		if slices.Contains(noJSONFlag, name) {
			continue
		}
		has := false
		for _, f := range commandFlags(context.Background(), commands[name]) {
			has = has || f.Name == "json"
		}
		if !has {
			t.Errorf("mnemo %s has no --json (README promises it; or list it in noJSONFlag with the reason)", name)
		}
	}
}

// version, pull and reembed print one JSON object with --json.
func TestJSONOfVersionPullReembed(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	cliEnv(t, dir)
	one := func(args ...string) map[string]any {
		t.Helper()
		r := mnemoExec(t, "", args...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		var v map[string]any
		if r.code != 0 || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &v) != nil {
			t.Fatalf("mnemo %s: want one JSON object: %s", strings.Join(args, " "), r)
		}
		return v
	}
	if v := one("version", "--json"); v["version"] == nil || v["default_model"] != "sentence-transformers/all-MiniLM-L6-v2" || v["go"] == nil {
		t.Errorf("version --json: %v", v)
	}
	if v := one("pull", dir, "--json"); v["dir"] != dir || v["dims"] != float64(128) || v["sha256"] == "" {
		t.Errorf("pull --json: %v", v)
	}
	mustCLI(t, "", "remember", "something to embed again")
	if v := one("reembed", "--json"); v["reembedded"] == nil || v["model"] == "" {
		t.Errorf("reembed --json: %v", v)
	}
}
