package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Versions, pins and recall counts: what every store must do alike.

func testSupersede(t *testing.T, s memory.Store) {
	old := put(t, s, memory.Memory{Content: "the staging database is on port 5432", Vector: Vec(1, 0.1)})
	other := put(t, s, memory.Memory{Content: "the staging cache is redis", Vector: Vec(0, 1)})
	m := memory.Memory{Content: "the staging database moved to port 6543", Vector: Vec(1, 0.2), Supersedes: []string{old}}
	nu := put(t, s, m)

	o, err := s.Get(ctx(t), old)
	if err != nil {
		t.Fatal(err)
	}
	if o.SupersededBy != nu {
		t.Errorf("old version: SupersededBy = %q, want %s", o.SupersededBy, nu)
	}
	n, _ := s.Get(ctx(t), nu)
	if !slices.Equal(n.Supersedes, []string{old}) || n.SupersededBy != "" {
		t.Errorf("new version: Supersedes %v, SupersededBy %q", n.Supersedes, n.SupersededBy)
	}
	// The old content, its project and its vector are kept unchanged.
	if o.Content != "the staging database is on port 5432" || o.Dims != 8 || o.Project != projX {
		t.Errorf("old version changed: %+v", o)
	}

	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		q := memory.Query{Text: "staging database port", Vector: Vec(1, 0.1), Model: modelA, Mode: mode, K: 10}
		got := ids(search(t, s, q))
		if slices.Contains(got, old) || !slices.Contains(got, nu) {
			t.Errorf("%s search: %v; want %s and not the superseded %s", mode, got, nu, old)
		}
		q.Filter.IncludeSuperseded = true
		if got := ids(search(t, s, q)); !slices.Contains(got, old) {
			t.Errorf("%s search including superseded: %v, want %s too", mode, got, old)
		}
	}
	list, err := s.List(ctx(t), memory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := listIDs(list); !slices.Equal(got, []string{nu, other}) {
		t.Errorf("List = %v, want [%s %s]", got, nu, other)
	}
	list, _ = s.List(ctx(t), memory.ListOptions{Filter: memory.Filter{IncludeSuperseded: true}})
	if len(list) != 3 {
		t.Errorf("List including superseded: %d memories, want 3", len(list))
	}
	// A near-duplicate lookup proposes current versions only.
	sim, err := s.Similar(ctx(t), Vec(1, 0.1), modelA, projX, 0.5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(sim); slices.Contains(got, old) {
		t.Errorf("Similar = %v, includes the superseded %s", got, old)
	}
	// Another version on top: the chain grows, the middle one is hidden.
	newest := put(t, s, memory.Memory{Content: "the staging database is on port 7000", Supersedes: []string{nu}})
	n, _ = s.Get(ctx(t), nu)
	if n.SupersededBy != newest {
		t.Errorf("middle version: SupersededBy %q, want %s", n.SupersededBy, newest)
	}
	// Superseding an id that does not exist stores the memory and keeps the id.
	ghost := memory.NewID(time.Now())
	g := put(t, s, memory.Memory{Content: "replaces a memory that is gone", Supersedes: []string{ghost}})
	if m, _ := s.Get(ctx(t), g); !slices.Equal(m.Supersedes, []string{ghost}) {
		t.Errorf("Supersedes of a missing id: %v", m.Supersedes)
	}
	// Superseded versions that match best never take a result slot of a
	// current one, with or without other filters.
	var strong []string
	for i := range 3 {
		strong = append(strong, put(t, s, memory.Memory{Content: fmt.Sprintf("zebra zebra zebra stripes, take %d", i), Project: projY}))
	}
	cur1 := put(t, s, memory.Memory{Content: "a zebra note, current", Project: projY, Supersedes: strong})
	cur2 := put(t, s, memory.Memory{Content: "another zebra note", Project: projY})
	for _, f := range []memory.Filter{{}, {Projects: []string{projY}}} {
		got := ids(search(t, s, memory.Query{Text: "zebra stripes", Mode: memory.ModeKeyword, K: 2, Filter: f}))
		if !slices.Equal(sorted(got), sorted([]string{cur1, cur2})) {
			t.Errorf("keyword search k=2 (filter %+v) = %v, want the current %s and %s", f, got, cur1, cur2)
		}
	}
	// A memory cannot supersede itself or name a non-id.
	id := memory.NewID(time.Now())
	for _, bad := range [][]string{{id}, {"not-an-id"}} {
		m := memory.Memory{ID: id, Content: "self " + bad[0], Project: projX, Source: memory.SourceCLI, Supersedes: bad}
		if _, err := s.Put(ctx(t), &m); err == nil {
			t.Errorf("Put with Supersedes %v: no error", bad)
		}
	}
}

func listIDs(ms []memory.Memory) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// The same content stored again naming an old version makes the existing
// memory the old version's successor (remember's suggestion after a
// near-duplicate).
func testSupersedeDuplicate(t *testing.T, s memory.Store) {
	old := put(t, s, memory.Memory{Content: "deploys go out on tuesday"})
	cur := put(t, s, memory.Memory{Content: "deploys go out on thursday"})
	m := memory.Memory{Content: "deploys go out on thursday", Project: projX, Source: memory.SourceCLI, Supersedes: []string{old}}
	r, err := s.Put(ctx(t), &m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Duplicate || r.ID != cur {
		t.Fatalf("Put = %+v, want a duplicate of %s", r, cur)
	}
	if o, _ := s.Get(ctx(t), old); o.SupersededBy != cur {
		t.Errorf("old version: SupersededBy %q, want %s", o.SupersededBy, cur)
	}
	// Naming itself through a duplicate changes nothing.
	m = memory.Memory{Content: "deploys go out on thursday", Project: projX, Source: memory.SourceCLI, Supersedes: []string{cur}}
	if _, err := s.Put(ctx(t), &m); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Get(ctx(t), cur); c.SupersededBy != "" {
		t.Errorf("a duplicate superseded itself: %q", c.SupersededBy)
	}
}

// An import writes a chain as exported: ids, Supersedes and SupersededBy as
// given, in any order, and pinned and recall counts.
func testSupersedeCarried(t *testing.T, s memory.Store) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	oldID, newID := memory.NewID(t0), memory.NewID(t0.Add(time.Hour))
	// The new version first: its old version does not exist yet.
	put(t, s, memory.Memory{ID: newID, Content: "v2 of the fact", Supersedes: []string{oldID}, Pinned: true, RecallCount: 3, Source: memory.SourceImport})
	put(t, s, memory.Memory{ID: oldID, Content: "v1 of the fact", SupersededBy: newID, Source: memory.SourceImport})
	n, _ := s.Get(ctx(t), newID)
	o, _ := s.Get(ctx(t), oldID)
	if !slices.Equal(n.Supersedes, []string{oldID}) || !n.Pinned || n.RecallCount != 3 {
		t.Errorf("new version read back: %+v", n)
	}
	if o.SupersededBy != newID {
		t.Errorf("old version read back: SupersededBy %q", o.SupersededBy)
	}
	if got := ids(search(t, s, memory.Query{Text: "fact", Mode: memory.ModeKeyword})); !slices.Equal(got, []string{newID}) {
		t.Errorf("search = %v, want only %s", got, newID)
	}
	// A successor that is not stored hides nothing: the memory is current.
	orphan := put(t, s, memory.Memory{Content: "its successor was never stored", SupersededBy: memory.NewID(t0.Add(2 * time.Hour))})
	if m, _ := s.Get(ctx(t), orphan); m.SupersededBy != "" {
		t.Errorf("a dangling successor hides the memory: %q", m.SupersededBy)
	}
	// Forgetting the new version makes the old one current again.
	if _, err := s.Delete(ctx(t), []string{newID}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Get(ctx(t), oldID); m.SupersededBy != "" {
		t.Errorf("after deleting its successor: SupersededBy %q", m.SupersededBy)
	}
	if got := ids(search(t, s, memory.Query{Text: "fact", Mode: memory.ModeKeyword})); !slices.Equal(got, []string{oldID}) {
		t.Errorf("search after deleting the new version = %v, want %s", got, oldID)
	}
	bad := memory.Memory{Content: "bad pointer", Project: projX, Source: memory.SourceImport, SupersededBy: "nope"}
	if _, err := s.Put(ctx(t), &bad); err == nil {
		t.Error("Put with an invalid SupersededBy: no error")
	}
}

func testPin(t *testing.T, s memory.Store) {
	a := put(t, s, memory.Memory{Content: "always answer in British English", Vector: Vec(0, 0, 1)})
	b := put(t, s, memory.Memory{Content: "the build uses make", Vector: Vec(1)})
	ghost := memory.NewID(time.Now())
	missing, err := s.SetPinned(ctx(t), []string{a, ghost}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{ghost}) {
		t.Errorf("SetPinned missing = %v, want [%s]", missing, ghost)
	}
	m, _ := s.Get(ctx(t), a)
	if !m.Pinned || m.Content != "always answer in British English" || m.Dims != 8 {
		t.Errorf("pinned memory read back: %+v", m)
	}
	list, err := s.List(ctx(t), memory.ListOptions{Filter: memory.Filter{PinnedOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := listIDs(list); !slices.Equal(got, []string{a}) {
		t.Errorf("pinned list = %v, want [%s]", got, a)
	}
	q := memory.Query{Vector: Vec(0, 0, 1), Model: modelA, Mode: memory.ModeSemantic, Filter: memory.Filter{PinnedOnly: true}}
	if got := ids(search(t, s, q)); !slices.Equal(got, []string{a}) {
		t.Errorf("pinned-only search = %v, want [%s]", got, a)
	}
	if _, err := s.SetPinned(ctx(t), []string{a}, false); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Get(ctx(t), a); m.Pinned {
		t.Error("still pinned after unpinning")
	}
	if list, _ := s.List(ctx(t), memory.ListOptions{Filter: memory.Filter{PinnedOnly: true}}); len(list) != 0 {
		t.Errorf("pinned list after unpinning: %d memories", len(list))
	}
	_ = b
}

func testCountUnembedded(t *testing.T, s memory.Store) {
	vc, ok := s.(memory.VectorCounter)
	if !ok {
		t.Skip("the store does not implement memory.VectorCounter")
	}
	put(t, s, memory.Memory{Content: "no vector"})
	put(t, s, memory.Memory{Content: "model a", Vector: Vec(1), Model: modelA})
	put(t, s, memory.Memory{Content: "model b 1", Vector: Vec(1), Model: modelB})
	put(t, s, memory.Memory{Content: "model b 2", Vector: Vec(0, 1), Model: modelB})
	for model, want := range map[string][2]int{modelA: {1, 2}, modelB: {1, 1}, "other": {1, 3}} {
		missing, other, err := vc.CountUnembedded(ctx(t), model)
		if err != nil || missing != want[0] || other != want[1] {
			t.Errorf("CountUnembedded(%s) = %d, %d, %v; want %d, %d", model, missing, other, err, want[0], want[1])
		}
	}
}

func testTouchCounts(t *testing.T, s memory.Store) {
	id := put(t, s, memory.Memory{Content: "count my recalls"})
	if m, _ := s.Get(ctx(t), id); m.RecallCount != 0 {
		t.Fatalf("new memory: RecallCount %d", m.RecallCount)
	}
	for range 3 {
		if err := s.Touch(ctx(t), []string{id}); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := s.Get(ctx(t), id); m.RecallCount != 3 {
		t.Errorf("RecallCount = %d after 3 touches, want 3", m.RecallCount)
	}
}
