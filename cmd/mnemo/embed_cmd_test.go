package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// embedEnv points the CLI at bert-tiny, offline, with throwaway dirs.
func embedEnv(t *testing.T) testmodels.Golden {
	t.Helper()
	t.Setenv("MNEMO_MODEL", testmodels.Dir(t, testmodels.BertTiny))
	t.Setenv("MNEMO_HOME", t.TempDir())
	t.Setenv("MNEMO_CACHE", t.TempDir())
	t.Setenv("MNEMO_OFFLINE", "1")
	return testmodels.LoadGolden(t, testmodels.BertTiny)
}

func runCLI(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &runEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func closeTo(a, b []float32) (float64, bool) {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m, len(a) == len(b) && m <= 1e-4
}

func TestEmbedCommandJSON(t *testing.T) {
	g := embedEnv(t)
	check := func(out string, idx []int) {
		t.Helper()
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var l struct {
				Text      string    `json:"text"`
				Embedding []float32 `json:"embedding"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("line %d: %v: %s", n+1, err, sc.Text())
			}
			if n >= len(idx) {
				t.Fatalf("more lines than texts:\n%s", out)
			}
			want := idx[n]
			if l.Text != g.Sentences[want] {
				t.Errorf("line %d text %q, want %q (input order)", n+1, l.Text, g.Sentences[want])
			}
			if d, ok := closeTo(l.Embedding, g.Embeddings[want]); !ok {
				t.Errorf("line %d: embedding differs from golden by %.2e", n+1, d)
			}
			n++
		}
		if n != len(idx) {
			t.Fatalf("%d lines, want %d", n, len(idx))
		}
	}

	code, out, errOut := runCLI("", "embed", "--json", g.Sentences[0], g.Sentences[17], g.Sentences[28])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	check(out, []int{0, 17, 28})

	// Flags after texts, texts from stdin (CRLF too).
	code, out, errOut = runCLI(g.Sentences[5]+"\r\n"+g.Sentences[3]+"\n", "embed", "--json")
	if code != 0 {
		t.Fatalf("stdin: exit %d: %s", code, errOut)
	}
	check(out, []int{5, 3})
}

func TestEmbedCommandErrors(t *testing.T) {
	embedEnv(t)
	code, _, errOut := runCLI("one\ntwo\n\nfour\n", "embed", "--json")
	if code != 1 || !strings.Contains(errOut, "line 3 is empty") || !strings.Contains(errOut, "--skip-empty") {
		t.Errorf("empty stdin line: exit %d, %q", code, errOut)
	}
	// --skip-empty: the other lines are embedded, the skip is counted.
	code, out, errOut := runCLI("one\ntwo\n\n  \nfour\n", "embed", "--json", "--skip-empty")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 3 || !strings.Contains(lines[2], `"four"`) ||
		!strings.Contains(errOut, "skipped 2 empty lines") {
		t.Errorf("--skip-empty: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut = runCLI("\n\n", "embed", "--json", "--skip-empty"); code != 2 || !strings.Contains(errOut, "no texts") {
		t.Errorf("--skip-empty of only empty lines: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI("", "embed")
	if code != 2 || !strings.Contains(errOut, "no texts") {
		t.Errorf("no input: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI("", "embed", "ok", "  ")
	if code != 2 || !strings.Contains(errOut, "argument 2 is empty") {
		t.Errorf("blank argument: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI("", "embed", "--model", "/no/such/model", "text")
	if code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("missing model: exit %d, %q", code, errOut)
	}
}

func TestEmbedCommandSummary(t *testing.T) {
	g := embedEnv(t)
	code, out, errOut := runCLI("", "embed", g.Sentences[0], g.Sentences[1])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var cos float64
	for i := range g.Embeddings[0] {
		cos += float64(g.Embeddings[0][i]) * float64(g.Embeddings[1][i])
	}
	for _, want := range []string{"model " + testmodels.BertTiny + ": 128 dims", `[1] "A cat sat on the mat." (9 tokens)`,
		"norm 1.0000", "cosine similarity:", fmt.Sprintf("[1] ~ [2]  %.4f", cos)} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestVersionAndPullCommands(t *testing.T) {
	embedEnv(t)
	code, out, _ := runCLI("", "version")
	if code != 0 || !strings.Contains(out, "mnemo "+version) || !strings.Contains(out, "default model sentence-transformers/all-MiniLM-L6-v2") ||
		!strings.Contains(out, "go            go1.") {
		t.Errorf("version: exit %d\n%s", code, out)
	}
	dir := testmodels.Dir(t, testmodels.BertTiny)
	code, out, errOut := runCLI("", "pull", dir)
	if code != 0 || strings.TrimSpace(out) != dir || !strings.Contains(errOut, "128 dims") {
		t.Errorf("pull: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Offline and not cached: a clear error, nothing downloaded.
	code, _, errOut = runCLI("", "pull", "some-org/some-model")
	if code != 1 || !strings.Contains(errOut, "MNEMO_OFFLINE=1 forbids downloading it") || !strings.Contains(errOut, "unset MNEMO_OFFLINE") {
		t.Errorf("pull offline: exit %d, %q", code, errOut)
	}
}
