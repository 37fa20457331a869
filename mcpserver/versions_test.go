package mcpserver

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/service"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// newRealHarness runs the server over the real memory service and a
// SQLite store (no model: keyword ranking), for the tools whose behaviour
// lives in the service and store (versions, pins, ranking).
func newRealHarness(t *testing.T) (*harness, *service.Service) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := service.New(service.Options{Store: st, Project: "proj"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	return newHarnessOver(t, svc, Options{}), svc
}

func TestRememberSupersedesEditAndHistory(t *testing.T) {
	h, _ := newRealHarness(t)
	var v1, v2, v3 rememberOut
	h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": "the staging database listens on port 5432", "tags": []string{"db"}}), &v1)
	// supersedes as one id (a string) ...
	res := h.call(ToolRemember, map[string]any{"content": "the staging database listens on port 6543", "supersedes": v1.ID, "tags": []string{"db"}})
	h.ok(ToolRemember, res, &v2)
	if !slices.Equal(v2.Supersedes, []string{v1.ID}) || !strings.Contains(text(res), "replaces "+v1.ID) {
		t.Fatalf("remember with supersedes: %+v %q", v2, text(res))
	}
	// ... and edit, for one memory.
	h.ok(ToolEdit, h.call(ToolEdit, map[string]any{"id": v2.ID, "content": "the staging database listens on port 7000"}), &v3)
	if !slices.Equal(v3.Supersedes, []string{v2.ID}) {
		t.Fatalf("edit: %+v", v3)
	}
	var rec recallOut
	h.ok(ToolRecall, h.call(ToolRecall, map[string]any{"query": "staging database port", "k": 10}), &rec)
	if len(rec.Results) != 1 || rec.Results[0].ID != v3.ID || rec.Results[0].Why == nil || rec.Results[0].Why.Relevance != 1 {
		t.Fatalf("recall: %+v", rec.Results)
	}
	if !slices.Equal(rec.Results[0].Tags, []string{"db"}) {
		t.Errorf("edit lost the tags: %v", rec.Results[0].Tags)
	}
	h.ok(ToolRecall, h.call(ToolRecall, map[string]any{"query": "staging database port", "k": 10, "include_superseded": true}), &rec)
	if len(rec.Results) != 3 {
		t.Fatalf("recall including superseded: %d results", len(rec.Results))
	}
	var list listOut
	h.ok(ToolList, h.call(ToolList, map[string]any{"include_superseded": true}), &list)
	var old *memoryOut
	for i := range list.Memories {
		if list.Memories[i].ID == v1.ID {
			old = &list.Memories[i]
		}
	}
	if list.Count != 3 || old == nil || old.SupersededBy != v2.ID {
		t.Fatalf("list including superseded: %+v", list)
	}
	// Arrays work too; bad ids are tool errors naming the argument.
	h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": "unrelated", "supersedes": []string{}}), nil)
	h.toolErr(ToolRemember, h.call(ToolRemember, map[string]any{"content": "x", "supersedes": []string{"nope"}}), "supersedes", "not a memory id")
	h.toolErr(ToolRemember, h.call(ToolRemember, map[string]any{"content": "x", "supersedes": 7}), "supersedes")
	h.toolErr(ToolEdit, h.call(ToolEdit, map[string]any{"id": v1.ID, "content": "again"}), "already replaced")
}

func TestPinTool(t *testing.T) {
	h, svc := newRealHarness(t)
	var a, b rememberOut
	h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": "always answer in British English"}), &a)
	h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": "kubernetes ingress notes"}), &b)
	var p pinOut
	h.ok(ToolPin, h.call(ToolPin, map[string]any{"id": a.ID}), &p)
	if !p.Pinned || !slices.Equal(p.Changed, []string{a.ID}) {
		t.Fatalf("pin: %+v", p)
	}
	var rec recallOut
	res := h.call(ToolRecall, map[string]any{"query": "kubernetes ingress", "k": 2})
	h.ok(ToolRecall, res, &rec)
	if len(rec.Results) != 2 || rec.Results[0].ID != a.ID || !rec.Results[0].Pinned || !rec.Results[0].Why.Pinned ||
		!strings.Contains(text(res), "(pinned)") {
		t.Fatalf("recall with a pinned memory: %+v", rec.Results)
	}
	var list listOut
	h.ok(ToolList, h.call(ToolList, map[string]any{"pinned": true}), &list)
	if list.Count != 1 || list.Memories[0].ID != a.ID {
		t.Fatalf("pinned list: %+v", list)
	}
	h.ok(ToolPin, h.call(ToolPin, map[string]any{"ids": []string{a.ID}, "pinned": false}), &p)
	if m, _ := svc.Get(context.Background(), a.ID); m.Pinned {
		t.Fatal("still pinned")
	}
	h.toolErr(ToolPin, h.call(ToolPin, map[string]any{"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}), "No memory with id 01ARZ3NDEKTSV4RRFFQ69G5FAV")
	h.toolErr(ToolPin, h.call(ToolPin, map[string]any{}), "no ids")
}
