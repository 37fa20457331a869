package service

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func TestRememberSupersedesAndShow(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "p")
		v1, err := s.Remember(ctx, RememberRequest{Content: "the staging database listens on port 5432", Tags: []string{"db"}})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := s.Remember(ctx, RememberRequest{Content: "the staging database listens on port 6543", Supersedes: []string{v1.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(v2.Supersedes, []string{v1.ID}) {
			t.Errorf("result Supersedes = %v", v2.Supersedes)
		}
		rec, err := s.Recall(ctx, RecallRequest{Query: "staging database port", K: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := hitIDs(rec.Results); !slices.Equal(got, []string{v2.ID}) {
			t.Errorf("recall = %v, want only the new version %s", got, v2.ID)
		}
		rec, _ = s.Recall(ctx, RecallRequest{Query: "staging database port", K: 10, IncludeSuperseded: true})
		if got := hitIDs(rec.Results); !slices.Contains(got, v1.ID) {
			t.Errorf("recall including superseded = %v, want %s too", got, v1.ID)
		}
		list, _ := s.List(ctx, ListRequest{})
		if len(list) != 1 || list[0].ID != v2.ID {
			t.Errorf("list = %v", list)
		}
		if list, _ := s.List(ctx, ListRequest{IncludeSuperseded: true}); len(list) != 2 {
			t.Errorf("list including superseded: %d", len(list))
		}

		// Edit: a third version, keeping the tags of the one it corrects.
		v3, err := s.Edit(ctx, EditRequest{ID: v2.ID, Content: "the staging database listens on port 7000"})
		if err != nil {
			t.Fatal(err)
		}
		m3, _ := s.Get(ctx, v3.ID)
		if m3.Project != "p" || !slices.Equal(m3.Supersedes, []string{v2.ID}) {
			t.Errorf("edited memory: %+v", m3)
		}
		_, err = s.Edit(ctx, EditRequest{ID: v1.ID, Content: "x"})
		wantInvalid(t, err, "already replaced", v2.ID)
		_, err = s.Edit(ctx, EditRequest{ID: v3.ID, Content: "the staging database listens on port 7000"})
		wantInvalid(t, err, "same as memory")

		// Show from any version gives the whole chain, oldest first.
		for _, id := range []string{v1.ID, v2.ID, v3.ID} {
			sh, err := s.Show(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var chain []string
			for _, v := range sh.Versions {
				chain = append(chain, v.ID)
			}
			if !slices.Equal(chain, []string{v1.ID, v2.ID, v3.ID}) || sh.Current != v3.ID || sh.Memory.ID != id {
				t.Errorf("Show(%s): chain %v, current %s", id, chain, sh.Current)
			}
			if !sh.Vector.Current || sh.Vector.Model != "m" {
				t.Errorf("Show(%s) vector status: %+v", id, sh.Vector)
			}
		}

		_, err = s.Remember(ctx, RememberRequest{Content: "replaces nothing", Supersedes: []string{memory.NewID(time.Now())}})
		wantInvalid(t, err, "supersedes: no memory")
		_, err = s.Remember(ctx, RememberRequest{Content: "replaces nothing", Supersedes: []string{"abc"}})
		wantInvalid(t, err, "not a memory id")
	})
}

func hitIDs(hits []memory.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Memory.ID
	}
	return out
}

func TestRememberNearDuplicateSuggestsSuperseding(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "p")
		old, _ := s.Remember(ctx, RememberRequest{Content: "Deploy the API with make deploy"})
		nu, err := s.Remember(ctx, RememberRequest{Content: "deploy the api with make deploy!"})
		if err != nil {
			t.Fatal(err)
		}
		if len(nu.SimilarTo) != 1 || nu.SimilarTo[0].ID != old.ID || !strings.Contains(nu.Hint, "supersedes=["+old.ID+"]") {
			t.Fatalf("near-duplicate result: %+v", nu)
		}
		// Following the hint: the same content again, superseding the old one.
		again, err := s.Remember(ctx, RememberRequest{Content: "deploy the api with make deploy!", Supersedes: []string{old.ID}})
		if err != nil || !again.Duplicate || again.ID != nu.ID {
			t.Fatalf("following the hint: %+v, %v", again, err)
		}
		if m, _ := s.Get(ctx, old.ID); m.SupersededBy != nu.ID {
			t.Errorf("old memory: SupersededBy %q, want %s", m.SupersededBy, nu.ID)
		}
	})
}

// Constructed cases for the ranking formula (memory.Ranker).
func TestRankingNewVersionOfAFactWins(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		emb := newFakeEmbedder("m", true)
		s := newSvc(t, st, emb, "p")
		// A year-old note that matches the query better by itself...
		oldText := "staging database port: the staging database port is 5432"
		old := memory.Memory{Content: oldText, Project: "p", Source: memory.SourceCLI,
			CreatedAt: time.Now().Add(-365 * 24 * time.Hour), Vector: emb.vec(oldText), Model: "m"}
		put, err := st.Put(ctx, &old)
		if err != nil {
			t.Fatal(err)
		}
		old.ID = put.ID
		// ... and today's, which did not say it replaces it.
		nu, err := s.Remember(ctx, RememberRequest{Content: "the staging database port is now 6543"})
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeHybrid, memory.ModeSemantic} {
			rec, err := s.Recall(ctx, RecallRequest{Query: "staging database port", Mode: mode, K: 2})
			if err != nil {
				t.Fatal(err)
			}
			if got := hitIDs(rec.Results); len(got) != 2 || got[0] != nu.ID {
				t.Fatalf("%s: ranking %v, want the new version %s first", mode, got, nu.ID)
			}
			w := rec.Results[0].Why
			if w == nil || w.Recency < 0.99 || rec.Results[1].Why.Recency > 0.01 || math.Abs(rec.Results[0].Score-w.Score()) > 1e-5 {
				t.Errorf("%s: score parts %+v / %+v", mode, w, rec.Results[1].Why)
			}
		}
		// Recency off: relevance alone puts the old, better-matching note first.
		s2, _ := New(Options{Store: st, Embedder: emb, Project: "p", HalfLife: -1})
		defer s2.Close(ctx)
		rec, _ := s2.Recall(ctx, RecallRequest{Query: "staging database port", Mode: memory.ModeKeyword, K: 2})
		if got := hitIDs(rec.Results); len(got) != 2 || got[0] != old.ID {
			t.Errorf("recency off: ranking %v, want the better match %s first", got, old.ID)
		}
	})
}

func TestRankingPinnedAlwaysInTopK(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "p")
		for i := range 30 {
			if _, err := s.Remember(ctx, RememberRequest{Content: fmt.Sprintf("kubernetes ingress note number %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		pin, _ := s.Remember(ctx, RememberRequest{Content: "always answer in British English"})
		res, err := s.Pin(ctx, []string{pin.ID, memory.NewID(time.Now())}, true)
		if err != nil || !slices.Equal(res.Changed, []string{pin.ID}) || len(res.Missing) != 1 {
			t.Fatalf("Pin: %+v, %v", res, err)
		}
		for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeHybrid, memory.ModeSemantic} {
			rec, err := s.Recall(ctx, RecallRequest{Query: "kubernetes ingress", Mode: mode, K: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Results) != 3 || rec.Results[0].Memory.ID != pin.ID || !rec.Results[0].Why.Pinned {
				t.Errorf("%s: %v, want the pinned %s in the top 3 (first)", mode, hitIDs(rec.Results), pin.ID)
			}
		}
		// The prompt hook's recall ignores pins.
		rec, _ := s.Recall(ctx, RecallRequest{Query: "kubernetes ingress", K: 3, IgnorePins: true})
		if slices.Contains(hitIDs(rec.Results), pin.ID) {
			t.Error("a recall ignoring pins returned the unrelated pinned memory")
		}
		// Another project's recall does not see it; unpinned, it drops out.
		if rec, _ := s.Recall(ctx, RecallRequest{Query: "kubernetes ingress", Project: "q", K: 3}); slices.Contains(hitIDs(rec.Results), pin.ID) {
			t.Error("a pinned memory of project p competed in project q")
		}
		if _, err := s.Pin(ctx, []string{pin.ID}, false); err != nil {
			t.Fatal(err)
		}
		rec, _ = s.Recall(ctx, RecallRequest{Query: "kubernetes ingress", Mode: memory.ModeKeyword, K: 3})
		if slices.Contains(hitIDs(rec.Results), pin.ID) {
			t.Error("an unpinned, unrelated memory is still recalled")
		}
		list, _ := s.List(ctx, ListRequest{Pinned: true})
		if len(list) != 0 {
			t.Errorf("pinned list after unpinning: %d", len(list))
		}
		_, err = s.Pin(ctx, nil, true)
		wantInvalid(t, err, "no ids")
	})
}

func TestRankerFormula(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := memory.Ranker{Now: now, HalfLife: 30 * 24 * time.Hour, Keyword: true, Semantic: true}
	top := memory.Hit{KeywordRank: 1, SemanticRank: 1, Memory: memory.Memory{CreatedAt: now}}
	p := r.Parts(top)
	if p.Relevance != 1 || p.Recency != 1 || p.Use != 0 || math.Abs(p.Score()-1.25/1.35) > 1e-9 {
		t.Errorf("top, new, unused: %+v score %v", p, p.Score())
	}
	month := memory.Hit{KeywordRank: 1, SemanticRank: 1, Memory: memory.Memory{CreatedAt: now.Add(-30 * 24 * time.Hour), RecallCount: 5}}
	if p := r.Parts(month); p.Recency != 0.5 || p.Use != 0.5 {
		t.Errorf("one half-life old, 5 recalls: %+v", p)
	}
	pinned := memory.Hit{Memory: memory.Memory{Pinned: true}}
	if p := r.Parts(pinned); p.Relevance != 0 || p.Score() < memory.PinBoost {
		t.Errorf("pinned, unranked: %+v", p)
	}
}

// Export and import carry version chains, pins and recall counts whole.
func TestExportImportCarriesVersions(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		emb := newFakeEmbedder("m", true)
		src := newSvc(t, newStore(), emb, "p")
		v1, _ := src.Remember(ctx, RememberRequest{Content: "lunch is at noon"})
		v2, err := src.Edit(ctx, EditRequest{ID: v1.ID, Content: "lunch is at one"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Pin(ctx, []string{v2.ID}, true); err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		n, err := src.Export(ctx, stringsWriter{&buf}, ExportOptions{Vectors: true})
		if err != nil || n != 2 {
			t.Fatalf("export: %d memories, %v", n, err)
		}
		// Import reversed: the newer version before the one it replaced.
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		slices.Reverse(lines)
		dst := newSvc(t, newStore(), emb, "p")
		res, err := dst.Import(ctx, strings.NewReader(strings.Join(lines, "\n")), ImportOptions{})
		if err != nil || res.Imported != 2 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		sh, err := dst.Show(ctx, v1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sh.Versions) != 2 || sh.Current != v2.ID || sh.Memory.SupersededBy != v2.ID {
			t.Errorf("imported chain: %+v", sh)
		}
		m2, _ := dst.Get(ctx, v2.ID)
		if !m2.Pinned || !slices.Equal(m2.Supersedes, []string{v1.ID}) {
			t.Errorf("imported new version: %+v", m2)
		}
		rec, _ := dst.Recall(ctx, RecallRequest{Query: "lunch", K: 5})
		if got := hitIDs(rec.Results); !slices.Equal(got, []string{v2.ID}) {
			t.Errorf("recall after import: %v", got)
		}
	})
}

type stringsWriter struct{ b *strings.Builder }

func (w stringsWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

// Never silently half-semantic: a recall says how many memories it could
// not compare and why, and the background job (serve) re-embeds vectorless
// memories and those of another model, reporting progress.
func TestRecallSaysWhatIsNotEmbeddedAndBackgroundFixesIt(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		old := newSvc(t, st, newFakeEmbedder("old-model", true), "p")
		for i := range 3 {
			if _, err := old.Remember(ctx, RememberRequest{Content: fmt.Sprintf("deploy note %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		loading := newSvc(t, st, newFakeEmbedder("new-model", false), "p")
		if _, err := loading.Remember(ctx, RememberRequest{Content: "deploy note written while loading"}); err != nil {
			t.Fatal(err)
		}
		emb := newFakeEmbedder("new-model", true)
		s := newSvc(t, st, emb, "p")
		rec, err := s.Recall(ctx, RecallRequest{Query: "deploy note", Mode: memory.ModeSemantic})
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Semantic || rec.NotEmbedded != 4 || !strings.Contains(rec.NotEmbeddedWhy, "1 have no vector yet and 3 have a vector from another model") ||
			!strings.Contains(rec.Note, "4 stored memories could not be compared") {
			t.Fatalf("recall before catching up: %+v", rec)
		}
		var reports []BackgroundProgress
		n, err := s.EmbedBackground(ctx, func(p BackgroundProgress) { reports = append(reports, p) })
		if err != nil || n != 4 {
			t.Fatalf("EmbedBackground: %d, %v", n, err)
		}
		last := reports[len(reports)-1]
		if !last.Finished || last.Done != 4 || last.Total != 4 || last.Missing != 1 || last.Other != 3 {
			t.Errorf("progress: %+v", reports)
		}
		if reports[0].Done != 1 {
			t.Errorf("the vectorless memory was not first: %+v", reports[0])
		}
		rec, _ = s.Recall(ctx, RecallRequest{Query: "deploy note", Mode: memory.ModeSemantic})
		if rec.NotEmbedded != 0 || rec.Note != "" || len(rec.Results) != 4 {
			t.Errorf("recall after catching up: %+v", rec)
		}
	})
}
