package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// TestRememberRedactsSecrets is issue 18's measurement turned into a test:
// `mnemo remember "key AKIAIOSFODNN7EXAMPLE"` and a ghp_ token are no
// longer stored verbatim; MNEMO_REDACT=off stores them as given.
func TestRememberRedactsSecrets(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	const key, ghp = "AKIAIOSFODNN7EXAMPLE", "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl398Zpkpm"

	r := mustCLI(t, "", "remember", "key "+key+" token "+ghp, "--json")
	rem := jsonLines[service.RememberResult](t, r.stdout)
	if len(rem) != 1 || redact.Summary(rem[0].Redacted) != "aws-access-token ×1, github-pat ×1" {
		t.Fatalf("remember --json: %s", r)
	}
	r = mustCLI(t, "password=hunter2 for the staging db\n", "remember", "-")
	if !strings.Contains(r.stdout, "redacted before storing: password ×1") {
		t.Fatalf("human output: %s", r)
	}
	r = mustCLI(t, "", "export")
	if strings.Contains(r.stdout, key) || strings.Contains(r.stdout, ghp) || strings.Contains(r.stdout, "hunter2") ||
		!strings.Contains(r.stdout, "key [REDACTED:aws-access-token] token [REDACTED:github-pat]") {
		t.Fatalf("stored text: %s", r.stdout)
	}

	t.Setenv("MNEMO_REDACT", "off")
	r = mustCLI(t, "", "remember", "raw key "+key, "--json")
	if rem := jsonLines[service.RememberResult](t, r.stdout); len(rem) != 1 || rem[0].Redacted != nil {
		t.Fatalf("MNEMO_REDACT=off: %s", r)
	}
	if r = mustCLI(t, "", "export"); !strings.Contains(r.stdout, "raw key "+key) {
		t.Fatalf("MNEMO_REDACT=off did not store verbatim: %s", r.stdout)
	}
	t.Setenv("MNEMO_REDACT", "maybe")
	if r = mnemoCLI(t, "", "remember", "x"); r.code == 0 || !strings.Contains(r.stderr, "MNEMO_REDACT") {
		t.Fatalf("bad MNEMO_REDACT: %s", r)
	}
}

// TestHookCaptureRedactsSecrets: a "remember:" line with a token, captured
// by the session-end hook, is stored with the token redacted.
func TestHookCaptureRedactsSecrets(t *testing.T) {
	home := hookEnv(t)
	work := filepath.Join(home, "work", "projR")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	const ghp = "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl398Zpkpm"
	line, _ := json.Marshal(map[string]any{"type": "user", "message": map[string]any{"role": "user",
		"content": "remember: the CI bot token is " + ghp + " <private>and my pin is 4411</private>"}})
	tr := filepath.Join(home, "transcript.jsonl")
	if err := os.WriteFile(tr, append(line, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	end, _ := json.Marshal(map[string]any{"session_id": "s1", "cwd": work, "transcript_path": tr, "hook_event_name": "SessionEnd", "reason": "other"})
	if r := hookRun(t, end, "--capture", "SessionEnd"); r.code != 0 {
		t.Fatalf("capture: %s", r)
	}
	r := mustCLI(t, "", "export", "--project", "*")
	if strings.Contains(r.stdout, ghp) || strings.Contains(r.stdout, "4411") ||
		!strings.Contains(r.stdout, "the CI bot token is [REDACTED:github-pat] [private text removed]") {
		t.Fatalf("captured memory: %s", r.stdout)
	}
}
