package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// remember --supersedes, edit, show, pin/unpin and list/recall's flags for
// versions and pins, through the CLI (keyword mode: no model needed).
func TestCLIVersionsAndPins(t *testing.T) {
	cliEnv(t, filepath.Join(t.TempDir(), "no-such-model"))
	v1 := jsonLines[service.RememberResult](t, mustCLI(t, "", "remember", "lunch is at noon", "--tags", "team", "--json").stdout)[0]
	r := mustCLI(t, "", "remember", "lunch is at half past twelve", "--supersedes", v1.ID, "--tags", "team")
	if !strings.Contains(r.stdout, "replaces "+v1.ID) {
		t.Fatalf("remember --supersedes: %s", r)
	}
	v2 := jsonLines[memoryJSON](t, mustCLI(t, "", "list", "--json").stdout)
	if len(v2) != 1 || v2[0].Content != "lunch is at half past twelve" || v2[0].Supersedes[0] != v1.ID {
		t.Fatalf("list after superseding: %+v", v2)
	}
	// edit: the new version keeps the tags; from stdin.
	r = mustCLI(t, "lunch is at one\n", "edit", v2[0].ID, "-", "--json")
	v3 := jsonLines[service.RememberResult](t, r.stdout)[0]
	if len(v3.Supersedes) != 1 || v3.Supersedes[0] != v2[0].ID {
		t.Fatalf("edit: %s", r)
	}
	hits := jsonLines[hitJSON](t, mustCLI(t, "", "recall", "lunch", "--mode", "keyword", "--json").stdout)
	if len(hits) != 1 || hits[0].ID != v3.ID || hits[0].Why == nil || hits[0].Why.Relevance != 1 || hits[0].Tags[0] != "team" {
		t.Fatalf("recall: %+v", hits)
	}
	if hits := jsonLines[hitJSON](t, mustCLI(t, "", "recall", "lunch", "--mode", "keyword", "--include-superseded", "--json").stdout); len(hits) != 3 {
		t.Fatalf("recall --include-superseded: %d hits", len(hits))
	}
	if all := jsonLines[memoryJSON](t, mustCLI(t, "", "list", "--include-superseded", "--json").stdout); len(all) != 3 {
		t.Fatalf("list --include-superseded: %d", len(all))
	}
	r = mustCLI(t, "", "recall", "lunch", "--mode", "keyword", "--why")
	if !strings.Contains(r.stdout, "RELEVANCE") || !strings.Contains(r.stdout, "1.000") {
		t.Fatalf("recall --why: %s", r)
	}

	// show: the whole memory, its chain, provenance and vector status.
	r = mustCLI(t, "", "show", v1.ID)
	for _, want := range []string{"superseded by " + v2[0].ID, "versions    3, oldest first", "> " + v3.ID, "* " + v1.ID,
		"source      cli", "vector      missing", "recalled 1 time\n", "content\n  lunch is at noon"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, r.stdout)
		}
	}
	sh := jsonLines[service.Shown](t, mustCLI(t, "", "show", v3.ID, "--json").stdout)[0]
	if sh.Current != v3.ID || len(sh.Versions) != 3 || sh.Memory.Content != "lunch is at one" {
		t.Errorf("show --json: %+v", sh)
	}
	if r := mnemoCLI(t, "", "show", memory.NewID(time.Now())); r.code == 0 || !strings.Contains(r.stderr, "no memory with id") {
		t.Errorf("show of an unknown id: %s", r)
	}
	if r := mnemoCLI(t, "", "edit", v1.ID, "again"); r.code == 0 || !strings.Contains(r.stderr, "already replaced") {
		t.Errorf("edit of an old version: %s", r)
	}

	// pin / unpin.
	other := jsonLines[service.RememberResult](t, mustCLI(t, "", "remember", "always answer in British English", "--json").stdout)[0]
	r = mustCLI(t, "", "pin", other.ID)
	if r.stdout != "pinned "+other.ID+"\n" {
		t.Fatalf("pin: %s", r)
	}
	hits = jsonLines[hitJSON](t, mustCLI(t, "", "recall", "lunch", "--mode", "keyword", "--k", "1", "--json").stdout)
	if len(hits) != 1 || hits[0].ID != other.ID || !hits[0].Pinned {
		t.Fatalf("recall with a pinned memory: %+v", hits)
	}
	if p := jsonLines[memoryJSON](t, mustCLI(t, "", "list", "--pinned", "--json").stdout); len(p) != 1 || p[0].ID != other.ID {
		t.Fatalf("list --pinned: %+v", p)
	}
	if !strings.Contains(mustCLI(t, "", "show", other.ID).stdout, "current version, pinned") {
		t.Error("show does not say pinned")
	}
	mustCLI(t, "", "unpin", other.ID)
	if r := mnemoCLI(t, "", "pin", memory.NewID(time.Now())); r.code == 0 || !strings.Contains(r.stderr, "no memory with id") {
		t.Errorf("pin of an unknown id: %s", r)
	}
}

// serve's background job (app.Options.EmbedMissing) re-embeds memories
// whose vector is from another model, not only those without one.
func TestOpenAppReembedsOtherModels(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	ctx := context.Background()
	env := &runEnv{stdout: io.Discard, stderr: io.Discard}
	a, err := app.Open(ctx, app.Options{Stderr: env.stderr, Process: "test", Model: app.ModelNone})
	if err != nil {
		t.Fatal(err)
	}
	vec := make([]float32, 8)
	vec[0] = 1
	m := memory.Memory{Content: "embedded by a model no longer configured", Project: "p", Source: memory.SourceCLI, Vector: vec, Model: "old/model"}
	if _, err := a.Store.Put(ctx, &m); err != nil {
		t.Fatal(err)
	}
	a.Close()

	a, err = app.Open(ctx, app.Options{Stderr: env.stderr, Process: "test", Model: app.ModelBackground, EmbedMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	deadline := time.Now().Add(2 * time.Minute) // a bound against hanging, not a speed assertion
	for {
		got, err := a.Store.Get(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Model != "old/model" && got.Model != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other model's vector was not replaced (model error %v)", a.ModelErr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
