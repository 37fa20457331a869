package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/jsonl"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// cliResult is one in-process run of the binary's main logic.
type cliResult struct {
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// mnemoCLI runs `mnemo args…` in-process with stdin.
func mnemoCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &runEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// mustCLI runs a command that must succeed.
func mustCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	r := mnemoCLI(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("mnemo %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// jsonLines decodes every stdout line into a new T.
func jsonLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var all []T
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("--json line is not JSON: %v\n%s", err, line)
		}
		all = append(all, v)
	}
	return all
}

// cliEnv gives each test its own data dir, project and model.
func cliEnv(t *testing.T, model string) (home string) {
	home = t.TempDir()
	t.Setenv("MNEMO_HOME", home)
	t.Setenv("MNEMO_CACHE", filepath.Join(home, "cache"))
	t.Setenv("MNEMO_MODEL", model)
	t.Setenv("MNEMO_OFFLINE", "1")
	t.Setenv("MNEMO_LOG_LEVEL", "info")
	t.Setenv("CLAUDE_PROJECT_DIR", filepath.Join(home, "work", "projA"))
	return home
}

func TestMemCmdRoundTrip(t *testing.T) {
	home := cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))

	// remember: argument text, --tags, --json.
	r := mustCLI(t, "", "remember", "The deploy script lives in ops/deploy.sh", "--tags", "ops, Deploy", "--json")
	rem := jsonLines[service.RememberResult](t, r.stdout)
	if len(rem) != 1 || !memory.ValidID(rem[0].ID) || rem[0].Duplicate || !rem[0].Embedded {
		t.Fatalf("remember --json: %+v", rem)
	}
	deployID, project := rem[0].ID, rem[0].Project
	if r.stderr != "" {
		t.Fatalf("remember wrote to stderr below warn level: %q", r.stderr)
	}
	// stdin, human output; then the same text again is a duplicate.
	r = mustCLI(t, "the postgres pool size is twenty connections\n", "remember", "-")
	if !strings.HasPrefix(r.stdout, "remembered ") {
		t.Fatalf("remember from stdin: %s", r)
	}
	r = mustCLI(t, "", "remember", "the postgres pool size is twenty connections")
	if !strings.HasPrefix(r.stdout, "already remembered as ") {
		t.Fatalf("duplicate: %s", r)
	}
	mustCLI(t, "cats like warm windowsills", "remember", "--project", "other-project")
	mustCLI(t, "", "remember", "global fact: the office wifi is mnemo-guest", "--project", memory.GlobalProject)

	// recall: semantic/hybrid with the real model, JSON lines.
	r = mustCLI(t, "", "recall", "deploy", "script", "--json", "--k", "3")
	hits := jsonLines[hitJSON](t, r.stdout)
	if len(hits) == 0 || hits[0].ID != deployID || hits[0].Project != project || strings.Join(hits[0].Tags, ",") != "deploy,ops" {
		t.Fatalf("recall --json: %s", r)
	}
	if hits[0].KeywordRank != 1 || hits[0].SemanticRank == 0 {
		t.Fatalf("hybrid recall did not use both rankings: %+v", hits[0])
	}
	for _, h := range hits {
		if h.Project == "other-project" {
			t.Fatal("default recall searched another project")
		}
	}
	// Human output: aligned table with the id and an age.
	r = mustCLI(t, "", "recall", "postgres pool", "--mode", "keyword")
	if !strings.Contains(r.stdout, "ID") || !strings.Contains(r.stdout, "just now") || !strings.Contains(r.stdout, "postgres pool size") {
		t.Fatalf("recall human output: %s", r)
	}
	r = mustCLI(t, "", "recall", "windowsills", "--mode", "keyword", "--json")
	if len(jsonLines[hitJSON](t, r.stdout)) != 0 {
		t.Fatalf("keyword recall found another project's memory: %s", r)
	}
	r = mustCLI(t, "", "recall", "windowsills", "--mode", "keyword", "--all", "--json", "--since", "1h")
	if h := jsonLines[hitJSON](t, r.stdout); len(h) != 1 || h[0].Project != "other-project" {
		t.Fatalf("recall --all: %s", r)
	}
	r = mustCLI(t, "", "recall", "windowsills", "--mode", "keyword", "--all", "--json", "--until", "2000-01-01")
	if len(jsonLines[hitJSON](t, r.stdout)) != 0 {
		t.Fatalf("--until ignored: %s", r)
	}
	r = mustCLI(t, "", "recall", "deploy", "--tags", "nosuchtag", "--json")
	if r.stdout != "" {
		t.Fatalf("--tags ignored: %s", r)
	}

	// list: current project + global by default, --all for everything.
	r = mustCLI(t, "", "list", "--json")
	if ms := jsonLines[memoryJSON](t, r.stdout); len(ms) != 3 {
		t.Fatalf("list: %s", r)
	}
	r = mustCLI(t, "", "list", "--all", "--json")
	ms := jsonLines[memoryJSON](t, r.stdout)
	if len(ms) != 4 || ms[len(ms)-1].ID != deployID {
		t.Fatalf("list --all (newest first): %s", r)
	}
	r = mustCLI(t, "", "list", "--all", "--limit", "2")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.HasPrefix(lines[3], "more… mnemo list --offset 2") {
		t.Fatalf("list human output: %s", r)
	}

	// stats.
	r = mustCLI(t, "", "stats", "--json")
	st := jsonLines[statsJSON](t, r.stdout)
	if len(st) != 1 || st[0].Total != 4 || st[0].ByProject[project] != 2 || st[0].CurrentProject != project {
		t.Fatalf("stats --json: %s", r)
	}
	if r := mustCLI(t, "", "stats"); !strings.Contains(r.stdout, "memories:") || !strings.Contains(r.stdout, "other-project") {
		t.Fatalf("stats: %s", r)
	}

	// export everything, forget one, import it back: only the forgotten one returns.
	file := filepath.Join(home, "backup.jsonl")
	r = mustCLI(t, "", "export", "--all", "--out", file, "--vectors")
	if !strings.Contains(r.stderr, "exported 4 memories") {
		t.Fatalf("export: %s", r)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v", fi.Mode().Perm())
	}
	if n := strings.Count(string(data), "\n"); n != 4 || !strings.Contains(string(data), `"vector":[`) {
		t.Fatalf("export file has %d lines / no vectors:\n%s", n, data)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if _, err := jsonl.ParseLine([]byte(line), jsonl.Limits{}); err != nil {
			t.Fatalf("export line %d does not parse: %v", i+1, err)
		}
	}
	r = mustCLI(t, "", "forget", deployID)
	if strings.TrimSpace(r.stdout) != "forgot "+deployID {
		t.Fatalf("forget: %s", r)
	}
	r = mnemoCLI(t, "", "forget", deployID, "--json")
	if r.code != 1 || !strings.Contains(r.stderr, "no memory with id "+deployID) {
		t.Fatalf("forget unknown id: %s", r)
	}
	if f := jsonLines[map[string]any](t, r.stdout); len(f) != 1 || f[0]["deleted"] != false {
		t.Fatalf("forget --json unknown: %s", r)
	}
	r = mustCLI(t, "", "import", file, "--json")
	imp := jsonLines[service.ImportResult](t, r.stdout)
	if len(imp) != 1 || imp[0].Imported != 1 || imp[0].Duplicates != 3 || imp[0].VectorsKept != 1 || imp[0].NeedEmbedding != 0 {
		t.Fatalf("import: %s", r)
	}
	r = mustCLI(t, "", "recall", "deploy script", "--json", "--k", "1")
	if h := jsonLines[hitJSON](t, r.stdout); len(h) != 1 || h[0].ID != deployID || h[0].SemanticRank == 0 {
		t.Fatalf("re-imported memory (original id and vector) not found: %s", r)
	}
	// Again from stdin: idempotent.
	r = mustCLI(t, string(data), "import", "-")
	if !strings.Contains(r.stdout, "imported 0 new memories, 4 already present, 0 bad lines") {
		t.Fatalf("re-import: %s", r)
	}

	// A file with bad lines: the good lines are kept, the bad ones named, exit 1.
	bad := filepath.Join(home, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"content":"imported without a vector","tags":["imp"]}`+"\n"+`{"content":`+"\n\n"+`{"id":"nope","content":"x"}`+"\n"), 0o600)
	r = mnemoCLI(t, "", "import", bad)
	if r.code != 1 || !strings.Contains(r.stdout, "imported 1 new memories") || !strings.Contains(r.stdout, "line 2: invalid JSON") ||
		!strings.Contains(r.stdout, `line 4: id "nope"`) || !strings.Contains(r.stdout, "mnemo reembed") {
		t.Fatalf("import with bad lines: %s", r)
	}
	// reembed gives the imported memory its vector; a rerun has nothing to do.
	r = mustCLI(t, "", "reembed")
	if !strings.Contains(r.stdout, "re-embedded 1 memories") || !strings.Contains(r.stderr, "re-embedding: 1/1") {
		t.Fatalf("reembed: %s", r)
	}
	if r := mustCLI(t, "", "reembed"); !strings.Contains(r.stdout, "re-embedded 0 memories") {
		t.Fatalf("second reembed: %s", r)
	}
	r = mustCLI(t, "", "recall", "imported without a vector", "--mode", "semantic", "--json", "--k", "1")
	if h := jsonLines[hitJSON](t, r.stdout); len(h) != 1 || !strings.HasPrefix(h[0].Content, "imported") {
		t.Fatalf("re-embedded memory not found semantically: %s", r)
	}
	// The log file got the info records the terminal did not.
	if logs, err := os.ReadFile(filepath.Join(home, "logs", "mnemo.log")); err != nil || !bytes.Contains(logs, []byte(`"level":"INFO"`)) {
		t.Fatalf("log file: %v\n%s", err, logs)
	}
}

func TestMemCmdErrors(t *testing.T) {
	cliEnv(t, filepath.Join(t.TempDir(), "no-such-model"))
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"recall"}, 2, "recall needs a QUERY"},
		{[]string{"recall", "x", "--mode", "fuzzy"}, 2, `--mode "fuzzy"`},
		{[]string{"recall", "x", "--since", "someday"}, 2, "--since"},
		{[]string{"recall", "x", "--all", "--project", "p"}, 2, "Usage: mnemo recall"},
		{[]string{"recall", "x", "--mode", "keyword", "--k", "99"}, 2, "--k 99: want a number of results from 1 to 50"},
		{[]string{"recall", "x", "--k", "0"}, 2, "--k 0: want a number of results from 1 to 50"},
		{[]string{"recall", "x", "--k", "-3"}, 2, "--k -3"},
		{[]string{"list", "--limit", "0"}, 2, "--limit 0"},
		{[]string{"list", "--offset", "-1"}, 2, "--offset -1"},
		{[]string{"remember", "--tags", "a,b", "  "}, 2, "content is empty"},
		{[]string{"remember", "x", "--project", "*"}, 2, "project:"},
		{[]string{"remember", "caf\xe9 au lait"}, 2, "content is not valid UTF-8 (byte 3 is 0xe9)"},
		{[]string{"remember", "caf\ufffd au lait"}, 2, "content holds U+FFFD"},
		{[]string{"forget"}, 2, "forget needs at least one ID"},
		{[]string{"forget", "bogus"}, 2, `"bogus" is not a memory id`},
		{[]string{"list", "--limit", "500"}, 2, "--limit 500: want a number of memories from 1 to 200"},
		{[]string{"list", "extra"}, 2, "list takes no arguments"},
		{[]string{"import"}, 2, "import needs exactly one FILE"},
		{[]string{"import", "/nonexistent/file.jsonl"}, 1, "no such file"},
		{[]string{"export", "--out", "/nonexistent/dir/x.jsonl"}, 1, "create /nonexistent/dir/x.jsonl"},
		{[]string{"reembed"}, 1, "failed to load"},
	} {
		r := mnemoCLI(t, "", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("mnemo %s: want exit %d and %q, got %s", strings.Join(c.args, " "), c.code, c.want, r)
		}
		if (c.code == 1 || strings.Contains(r.stderr, "mnemo "+c.args[0]+": ")) && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && c.args[0] != "reembed" {
			t.Errorf("mnemo %s: error is not one line: %q", strings.Join(c.args, " "), r.stderr)
		}
	}
}

// Without a usable model the CLI still stores memories (saying so) and
// searches by keyword on request, but never degrades a semantic recall silently.
func TestMemCmdWithoutModel(t *testing.T) {
	cliEnv(t, filepath.Join(t.TempDir(), "no-such-model"))
	r := mustCLI(t, "", "remember", "kept even without a model", "--json")
	if res := jsonLines[service.RememberResult](t, r.stdout); len(res) != 1 || res[0].Embedded {
		t.Fatalf("remember without model: %s", r)
	}
	if !strings.Contains(r.stderr, "stored without a vector") || !strings.Contains(r.stderr, "mnemo reembed") {
		t.Fatalf("no warning about the missing vector: %s", r)
	}
	// Hybrid (the default) answers by keyword and says so in one line;
	// semantic, which a keyword answer is not, fails with the way out.
	r = mustCLI(t, "", "recall", "kept")
	if !strings.Contains(r.stdout, "kept even without a model") || !strings.Contains(r.stderr, "answered by keyword only") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("hybrid recall without a model must answer by keyword with a one-line note: %s", r)
	}
	r = mnemoCLI(t, "", "recall", "kept", "--mode", "semantic")
	if r.code != 1 || !strings.Contains(r.stderr, "--mode keyword") {
		t.Fatalf("semantic recall without a model must fail with a hint: %s", r)
	}
	r = mustCLI(t, "", "recall", "kept", "--mode", "keyword", "--json")
	if h := jsonLines[hitJSON](t, r.stdout); len(h) != 1 || h[0].Content != "kept even without a model" {
		t.Fatalf("keyword recall: %s", r)
	}
}

func TestParseTimeFlag(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2w":                   now.Add(-14 * 24 * time.Hour),
		"90m":                  now.Add(-90 * time.Minute),
		"2026-01-02T03:04:05Z": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	} {
		got, err := parseTimeFlag("since", in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	if d, err := parseTimeFlag("since", "2026-01-02", now); err != nil || d.Year() != 2026 || d.Day() != 2 {
		t.Errorf("date: %v %v", d, err)
	}
	for _, bad := range []string{"yesterday", "-3d", "7x", "d"} {
		if _, err := parseTimeFlag("since", bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// --since reads what MCP recall's since reads, the same way (both are
// humantime.Parse; mcpserver's TestRecallSinceIsHumantime holds the other
// side). These used to differ: the MCP server read a date as UTC midnight
// and took 1.5d; the CLI read the user's midnight and whole days only.
func TestParseTimeFlagIsHumantime(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.FixedZone("UTC-5", -5*3600))
	for _, in := range []string{"2026-01-02", "1.5d", "7d", "2w", "36h", "2026-01-02T03:04:05Z"} {
		got, err := parseTimeFlag("since", in, now)
		want, werr := humantime.Parse(in, now)
		if err != nil || werr != nil || !got.Equal(want) {
			t.Errorf("%s: CLI %v %v, humantime %v %v", in, got, err, want, werr)
		}
	}
}

func TestShorten(t *testing.T) {
	if got := shorten("a  b\n\tc "+strings.Repeat("é", 100), 10); got != "a b c ééé…" {
		t.Errorf("shorten: %q", got)
	}
}

// A long-lived app (serve) embeds memories stored without a vector once its
// model is ready.
func TestOpenAppEmbedsMissing(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	ctx := context.Background()
	env := &runEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "test", Model: app.ModelNone})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"written by a hook", "written while loading"} {
		if r, err := a.Svc.Remember(ctx, service.RememberRequest{Content: c, Source: memory.SourceHook}); err != nil || r.Embedded {
			t.Fatalf("%+v %v", r, err)
		}
	}
	if st, err := a.Svc.Stats(ctx); err != nil || st.ByModel[""] != 2 {
		t.Fatalf("stats before: %+v %v", st, err)
	}
	a.Close()

	a, err = app.Open(ctx, app.Options{Stderr: env.stderr, Process: "test", Model: app.ModelBackground, EmbedMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	deadline := time.Now().Add(2 * time.Minute) // a bound against hanging, not a speed assertion
	for {
		st, err := a.Svc.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ByModel[""] == 0 && st.Total == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("memories still without a vector: %+v (model error %v)", st.ByModel, a.ModelErr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestImportIssueVectorLine is issue 13's line: a 3-value vector claiming to
// come from a 128-dimensional model is not stored; the line says so and the
// memory waits for re-embedding, which gives it a real vector.
func TestImportIssueVectorLine(t *testing.T) {
	home := cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	mustCLI(t, "", "remember", "a memory with a real vector")
	file := filepath.Join(home, "bad.jsonl")
	os.WriteFile(file, []byte(`{"content":"x","vector":[1,2,3],"model":"bert-tiny-synthetic","dims":3}`+"\n"+
		`{"content":"y","vector":[0.6,0.8,0],"model":"bert-tiny-synthetic","dims":3}`+"\n"), 0o600)
	r := mustCLI(t, "", "import", file)
	if !strings.Contains(r.stdout, "imported 2 new memories") || !strings.Contains(r.stdout, "line 1: vector dropped") ||
		!strings.Contains(r.stdout, "line 2: vector dropped, the memory will be embedded again: bert-tiny-synthetic vectors have 128 dimensions, this one has 3") ||
		!strings.Contains(r.stdout, "2 new memories have no vector yet") {
		t.Fatalf("import: %s", r)
	}
	r = mustCLI(t, "", "stats", "--json")
	if strings.Contains(r.stdout, `"3":`) {
		t.Fatalf("a 3-dim vector was stored: %s", r)
	}
}
