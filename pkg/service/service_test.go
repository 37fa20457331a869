package service

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// storeFactories lists the stores the service tests run against: the
// in-memory fake always, the real SQLite store from sqlite_store_test.go.
var storeFactories = map[string]func(t *testing.T) memory.Store{
	"fake": func(t *testing.T) memory.Store { return newFakeStore() },
}

// forEachStore runs fn once per store implementation.
func forEachStore(t *testing.T, fn func(t *testing.T, newStore func() memory.Store)) {
	for name, f := range storeFactories {
		t.Run(name, func(t *testing.T) { fn(t, func() memory.Store { return f(t) }) })
	}
}

func newSvc(t *testing.T, st memory.Store, emb Embedder, project string) *Service {
	t.Helper()
	o := Options{Store: st, Project: project, MaxContentBytes: 1000}
	if emb != nil { // keep a nil *fakeEmbedder from becoming a non-nil interface
		o.Embedder = emb
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func wantInvalid(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("error %v does not wrap ErrInvalidInput", err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Fatalf("error %q does not mention %q", err, f)
		}
	}
}

func TestRememberValidation(t *testing.T) {
	ctx := context.Background()
	s := newSvc(t, newFakeStore(), newFakeEmbedder("m", true), "p")
	cases := []struct {
		req  RememberRequest
		want []string
	}{
		{RememberRequest{Content: ""}, []string{"content is empty"}},
		{RememberRequest{Content: " \n\t"}, []string{"content is empty"}},
		{RememberRequest{Content: strings.Repeat("x", 1001)}, []string{"1001 bytes", "limit of 1000 bytes"}},
		{RememberRequest{Content: "x", Tags: []string{"ok", " "}}, []string{"tags: empty tag"}},
		{RememberRequest{Content: "x", Tags: []string{"a,b"}}, []string{"tags:", "comma"}},
		{RememberRequest{Content: "x", Project: "*"}, []string{"project:", "all projects"}},
		{RememberRequest{Content: "x", Project: "a\x00b"}, []string{"project:", "control character"}},
		{RememberRequest{Content: "x", Metadata: map[string]any{"f": math.NaN()}}, []string{"metadata", "JSON"}},
		{RememberRequest{Content: "x", Source: "carrier-pigeon"}, []string{`source "carrier-pigeon"`}},
		{RememberRequest{Content: "bad \xff utf8"}, []string{"UTF-8"}},
	}
	for _, c := range cases {
		_, err := s.Remember(ctx, c.req)
		wantInvalid(t, err, c.want...)
	}
	st, _ := s.Stats(ctx)
	if st.Total != 0 {
		t.Fatalf("invalid requests stored %d memories", st.Total)
	}
}

func TestRememberDedupSimilarAndProjects(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "proj")
		a, err := s.Remember(ctx, RememberRequest{Content: "  The deploy script lives in ops/deploy.sh\n", Tags: []string{"Ops"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Duplicate || !a.Embedded || a.Project != "proj" || !memory.ValidID(a.ID) || len(a.SimilarTo) != 0 {
			t.Fatalf("first remember: %+v", a)
		}
		m, err := s.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Content != "The deploy script lives in ops/deploy.sh" || m.Source != memory.SourceCLI || m.Model != "m" || m.Dims != 64 || len(m.Tags) != 1 || m.Tags[0] != "ops" {
			t.Fatalf("stored memory: %+v", m)
		}
		dup, err := s.Remember(ctx, RememberRequest{Content: "The deploy script lives in ops/deploy.sh"})
		if err != nil {
			t.Fatal(err)
		}
		if !dup.Duplicate || dup.ID != a.ID {
			t.Fatalf("exact duplicate not detected: %+v", dup)
		}
		// Same words, different punctuation: the fake embeds it identically.
		near, err := s.Remember(ctx, RememberRequest{Content: "the deploy script lives in ops deploy sh!"})
		if err != nil {
			t.Fatal(err)
		}
		if near.Duplicate || len(near.SimilarTo) != 1 || near.SimilarTo[0].ID != a.ID || near.SimilarTo[0].Similarity < NearDuplicateThreshold {
			t.Fatalf("near duplicate not reported: %+v", near)
		}
		// The same content in another project is neither a duplicate nor similar.
		other, err := s.Remember(ctx, RememberRequest{Content: "The deploy script lives in ops/deploy.sh", Project: "elsewhere", Source: memory.SourceMCP})
		if err != nil {
			t.Fatal(err)
		}
		if other.Duplicate || other.ID == a.ID || len(other.SimilarTo) != 0 || other.Project != "elsewhere" {
			t.Fatalf("other project: %+v", other)
		}
	})
}

func TestProjectScoping(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "p1")
		ids := map[string]string{}
		for _, p := range []string{"", memory.GlobalProject, "p2"} {
			r, err := s.Remember(ctx, RememberRequest{Content: "shared fact about widgets from " + p + "x", Project: p})
			if err != nil {
				t.Fatal(err)
			}
			ids[r.Project] = r.ID
		}
		if len(ids) != 3 || ids["p1"] == "" {
			t.Fatalf("default project not applied: %v", ids)
		}
		projectsOf := func(hits []memory.Hit) string {
			var ps []string
			for _, h := range hits {
				ps = append(ps, h.Memory.Project)
			}
			return strings.Join(sortStrings(ps), ",")
		}
		for _, c := range []struct{ project, want string }{
			{"", "global,p1"}, {"*", "global,p1,p2"}, {"p2", "global,p2"}, {memory.GlobalProject, "global"},
		} {
			for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeHybrid} {
				r, err := s.Recall(ctx, RecallRequest{Query: "widgets", Project: c.project, Mode: mode})
				if err != nil {
					t.Fatal(err)
				}
				if got := projectsOf(r.Results); got != c.want {
					t.Errorf("recall project %q mode %s: got %s, want %s", c.project, mode, got, c.want)
				}
			}
			ms, err := s.List(ctx, ListRequest{Project: c.project})
			if err != nil {
				t.Fatal(err)
			}
			var ps []string
			for _, m := range ms {
				ps = append(ps, m.Project)
			}
			if got := strings.Join(sortStrings(ps), ","); got != c.want {
				t.Errorf("list project %q: got %s, want %s", c.project, got, c.want)
			}
		}
	})
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func TestRememberNeverBlocksOnLoadingModel(t *testing.T) {
	ctx := context.Background()
	emb := newFakeEmbedder("m", false) // never finishes loading unless told
	st := newFakeStore()
	s := newSvc(t, st, emb, "p")
	r, err := s.Remember(ctx, RememberRequest{Content: "written while the model loads"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Embedded {
		t.Fatal("claimed embedded without a model")
	}
	if m, _ := st.Get(ctx, r.ID); m.Vector != nil || m.Model != "" {
		t.Fatalf("stored a vector without a model: %+v", m)
	}
	// With ModelWait the write waits for the model and gets its vector.
	go func() { time.Sleep(50 * time.Millisecond); emb.finish(nil) }()
	r2, err := s.Remember(ctx, RememberRequest{Content: "written after waiting", ModelWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Embedded {
		t.Fatal("ModelWait did not wait for the model")
	}
	// Remembering the first text again now gives the old row its vector.
	if _, err := s.Remember(ctx, RememberRequest{Content: "written while the model loads"}); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.Get(ctx, r.ID); m.Model != "m" {
		t.Fatalf("duplicate did not fill the missing vector: %+v", m)
	}
}

func TestRecallValidation(t *testing.T) {
	ctx := context.Background()
	s := newSvc(t, newFakeStore(), newFakeEmbedder("m", true), "p")
	cases := []struct {
		req  RecallRequest
		want string
	}{
		{RecallRequest{Query: "  "}, "query is empty"},
		{RecallRequest{Query: "x", K: 51}, "k is 51; it must be between 1 and 50"},
		{RecallRequest{Query: "x", K: -1}, "k is -1"},
		{RecallRequest{Query: "x", Mode: "fuzzy"}, `mode "fuzzy"`},
		{RecallRequest{Query: "x", Tags: []string{""}}, "tags: empty tag"},
		{RecallRequest{Query: "x", Project: "\x01"}, "project:"},
		{RecallRequest{Query: "x", Since: time.Now(), Until: time.Now().Add(-time.Hour)}, "until"},
		{RecallRequest{Query: strings.Repeat("q", MaxQueryBytes+1)}, "limit of 8192"}, // MaxQueryBytes, not the content limit
	}
	for _, c := range cases {
		_, err := s.Recall(ctx, c.req)
		wantInvalid(t, err, c.want)
	}
}

func TestRecallModes(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		s := newSvc(t, st, newFakeEmbedder("m", true), "p")
		r, _ := s.Remember(ctx, RememberRequest{Content: "postgres connection pooling settings", Tags: []string{"db"}})
		if _, err := s.Remember(ctx, RememberRequest{Content: "the cat sat on the mat"}); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []memory.Mode{"", memory.ModeHybrid, memory.ModeSemantic, memory.ModeKeyword} {
			res, err := s.Recall(ctx, RecallRequest{Query: "postgres pooling", Mode: mode, Tags: []string{"DB"}})
			if err != nil {
				t.Fatal(err)
			}
			wantMode := mode
			if wantMode == "" {
				wantMode = memory.ModeHybrid
			}
			if res.Mode != wantMode || res.Semantic != (wantMode != memory.ModeKeyword) || res.Note != "" {
				t.Fatalf("mode %q: %+v", mode, res)
			}
			if res.Semantic && res.Model != "m" {
				t.Fatalf("mode %q: model %q", mode, res.Model)
			}
			if len(res.Results) != 1 || res.Results[0].Memory.ID != r.ID {
				t.Fatalf("mode %q: results %+v", mode, res.Results)
			}
		}
	})
}

// A hybrid recall embeds its query during the search (memory.Query.Embed);
// when that embedding fails, the answer is the keyword ranking, said so,
// in every store.
func TestRecallHybridQueryEmbeddingFails(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		emb := newFakeEmbedder("m", true)
		s := newSvc(t, newStore(), emb, "p")
		r, _ := s.Remember(ctx, RememberRequest{Content: "postgres connection pooling settings"})
		emb.mu.Lock()
		emb.failOn = "pooling"
		emb.mu.Unlock()
		res, err := s.Recall(ctx, RecallRequest{Query: "postgres pooling"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Semantic || res.Mode != memory.ModeKeyword || !strings.Contains(res.Note, "embedding the query failed") {
			t.Fatalf("failed query embedding not reported: %+v", res)
		}
		if len(res.Results) != 1 || res.Results[0].Memory.ID != r.ID || res.Results[0].SemanticRank != 0 {
			t.Fatalf("keyword answer = %+v", res.Results)
		}
	})
}

func TestRecallFallsBackToKeywordWhileLoading(t *testing.T) {
	ctx := context.Background()
	emb := newFakeEmbedder("mini", false)
	st := newFakeStore()
	s := newSvc(t, st, emb, "p")
	r, _ := s.Remember(ctx, RememberRequest{Content: "kubernetes ingress notes"})

	res, err := s.Recall(ctx, RecallRequest{Query: "ingress"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Semantic || res.Mode != memory.ModeKeyword || !strings.Contains(res.Note, "still loading") || !strings.Contains(res.Note, "keyword") {
		t.Fatalf("fallback not reported: %+v", res)
	}
	if len(res.Results) != 1 || res.Results[0].Memory.ID != r.ID {
		t.Fatalf("keyword fallback found %+v", res.Results)
	}
	s.uses.close(ctx) // uses are recorded in the background; close flushes them
	st.mu.Lock()
	touched := st.touched[r.ID]
	st.mu.Unlock()
	if touched != 1 {
		t.Fatal("returned memory was not touched")
	}
	s.uses = newUseRecorder(st, s.log, nil)

	// Waiting: OnWait is called while the model keeps loading.
	var calls atomic.Int32
	res, err = s.Recall(ctx, RecallRequest{Query: "ingress", Mode: memory.ModeSemantic, ModelWait: 1200 * time.Millisecond,
		OnWait: func(elapsed, limit time.Duration) {
			calls.Add(1)
			if limit != 1200*time.Millisecond || elapsed <= 0 {
				t.Errorf("OnWait(%v, %v)", elapsed, limit)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 1 || res.Semantic || res.Note == "" {
		t.Fatalf("OnWait calls %d, result %+v", calls.Load(), res)
	}

	// The model finishing during the wait gives a semantic answer.
	go func() { time.Sleep(100 * time.Millisecond); emb.finish(nil) }()
	res, err = s.Recall(ctx, RecallRequest{Query: "ingress", ModelWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// The memory was stored while the model loaded: the answer says that
	// one memory could not be compared by meaning, and why.
	if !res.Semantic || res.Mode != memory.ModeHybrid || res.Model != "mini" || res.NotEmbedded != 1 ||
		!strings.Contains(res.NotEmbeddedWhy, "no vector yet") || !strings.Contains(res.Note, "1 stored memories") {
		t.Fatalf("after load: %+v", res)
	}
}

func TestModelFailed(t *testing.T) {
	ctx := context.Background()
	emb := newFakeEmbedder("mini", false)
	emb.finish(errors.New("download refused"))
	s := newSvc(t, newFakeStore(), emb, "p")
	if _, err := s.Remember(ctx, RememberRequest{Content: "kept without a model", ModelWait: time.Second}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Recall(ctx, RecallRequest{Query: "model", ModelWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Semantic || !strings.Contains(res.Note, "failed to load") || !strings.Contains(res.Note, "download refused") || len(res.Results) != 1 {
		t.Fatalf("failed model: %+v", res)
	}
	if _, err := s.Embed(ctx, []string{"x"}); !errors.Is(err, ErrModelUnavailable) || !strings.Contains(err.Error(), "download refused") {
		t.Fatalf("Embed with failed model: %v", err)
	}
	if _, err := s.Similarity(ctx, "x", []string{"y"}); !errors.Is(err, ErrModelUnavailable) {
		t.Fatalf("Similarity with failed model: %v", err)
	}
	if _, err := s.Reembed(ctx, nil); !errors.Is(err, ErrModelUnavailable) {
		t.Fatalf("Reembed with failed model: %v", err)
	}
	ms := s.ModelStatus()
	if ms.Ready || ms.Model != "mini" || !strings.Contains(ms.Error, "download refused") {
		t.Fatalf("status: %+v", ms)
	}
	// No model at all: keyword only, said so.
	s2 := newSvc(t, newFakeStore(), nil, "p")
	s2.Remember(ctx, RememberRequest{Content: "plain"})
	res, err = s2.Recall(ctx, RecallRequest{Query: "plain"})
	if err != nil || res.Semantic || !strings.Contains(res.Note, "no embedding model") || len(res.Results) != 1 {
		t.Fatalf("no model: %+v %v", res, err)
	}
}

func TestRecallSurvivesTouchFailure(t *testing.T) {
	ctx := context.Background()
	st := newFakeStore()
	st.touchErr = errors.New("disk full")
	s := newSvc(t, st, newFakeEmbedder("m", true), "p")
	s.Remember(ctx, RememberRequest{Content: "alpha"})
	res, err := s.Recall(ctx, RecallRequest{Query: "alpha"})
	if err != nil || len(res.Results) != 1 {
		t.Fatalf("recall failed on a touch error: %v %+v", err, res)
	}
}

func TestForget(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "p")
		a, _ := s.Remember(ctx, RememberRequest{Content: "one"})
		b, _ := s.Remember(ctx, RememberRequest{Content: "two"})
		unknown := memory.NewID(time.Now())

		_, err := s.Forget(ctx, nil)
		wantInvalid(t, err, "no id")
		_, err = s.Forget(ctx, []string{"not-an-id"})
		wantInvalid(t, err, `"not-an-id"`)
		_, err = s.Forget(ctx, []string{a.ID, "x"})
		wantInvalid(t, err, "ids[1]")

		res, err := s.Forget(ctx, []string{unknown})
		if !errors.Is(err, memory.ErrNotFound) || !strings.Contains(err.Error(), unknown) || errors.Is(err, ErrInvalidInput) {
			t.Fatalf("all unknown: %v", err)
		}
		if len(res.Missing) != 1 {
			t.Fatalf("missing not reported: %+v", res)
		}
		res, err = s.Forget(ctx, []string{a.ID, unknown, a.ID})
		if err != nil || len(res.Deleted) != 1 || res.Deleted[0] != a.ID || len(res.Missing) != 1 || res.Missing[0] != unknown {
			t.Fatalf("partial forget: %+v %v", res, err)
		}
		if _, err := s.Get(ctx, a.ID); !errors.Is(err, memory.ErrNotFound) {
			t.Fatalf("forgotten memory still there: %v", err)
		}
		if m, err := s.Get(ctx, b.ID); err != nil || m.Content != "two" {
			t.Fatalf("other memory: %v", err)
		}
		_, err = s.Get(ctx, "bogus")
		wantInvalid(t, err, "bogus")
	})
}

func TestListLimits(t *testing.T) {
	ctx := context.Background()
	s := newSvc(t, newFakeStore(), nil, "p")
	for i := 0; i < 25; i++ {
		if _, err := s.Remember(ctx, RememberRequest{Content: strings.Repeat("x", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := s.List(ctx, ListRequest{})
	if err != nil || len(ms) != DefaultListLimit {
		t.Fatalf("default limit: %d %v", len(ms), err)
	}
	if ms[0].Content != strings.Repeat("x", 25) {
		t.Fatal("not newest first")
	}
	ms, _ = s.List(ctx, ListRequest{Limit: 10, Offset: 20})
	if len(ms) != 5 {
		t.Fatalf("offset: %d", len(ms))
	}
	_, err = s.List(ctx, ListRequest{Limit: 201})
	wantInvalid(t, err, "limit is 201")
	_, err = s.List(ctx, ListRequest{Offset: -1})
	wantInvalid(t, err, "offset")
}

func TestEmbedAndSimilarity(t *testing.T) {
	ctx := context.Background()
	s := newSvc(t, newFakeStore(), newFakeEmbedder("m", true), "p")
	_, err := s.Embed(ctx, nil)
	wantInvalid(t, err, "texts is empty")
	_, err = s.Embed(ctx, make([]string, 65))
	wantInvalid(t, err, "65 texts", "at most 64")
	_, err = s.Embed(ctx, []string{"a", "b", "c", " "})
	wantInvalid(t, err, "texts[3] is empty")
	r, err := s.Embed(ctx, []string{"a", "b"})
	if err != nil || len(r.Vectors) != 2 || r.Dims != 64 || r.Model != "m" {
		t.Fatalf("embed: %+v %v", r, err)
	}
	_, err = s.Similarity(ctx, "", []string{"x"})
	wantInvalid(t, err, "query is empty")
	_, err = s.Similarity(ctx, "q", []string{"x", ""})
	wantInvalid(t, err, "candidates[1] is empty")
	sim, err := s.Similarity(ctx, "red apple pie", []string{"blue sky", "apple pie", "red apple pie"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.Results) != 3 || sim.Results[0].Index != 2 || sim.Results[1].Index != 1 || sim.Results[2].Index != 0 ||
		math.Abs(sim.Results[0].Similarity-1) > 1e-4 || sim.Results[0].Text != "red apple pie" {
		t.Fatalf("similarity order: %+v", sim.Results)
	}
	// Embed waits for a loading model (bounded by EmbedWait).
	emb := newFakeEmbedder("late", false)
	s2, _ := New(Options{Store: newFakeStore(), Embedder: emb, EmbedWait: 50 * time.Millisecond})
	if _, err := s2.Embed(ctx, []string{"x"}); !errors.Is(err, ErrModelUnavailable) || !strings.Contains(err.Error(), "still loading") {
		t.Fatalf("embed while loading: %v", err)
	}
	go func() { time.Sleep(30 * time.Millisecond); emb.finish(nil) }()
	s3, _ := New(Options{Store: newFakeStore(), Embedder: emb, EmbedWait: time.Minute})
	if r, err := s3.Embed(ctx, []string{"x"}); err != nil || r.Model != "late" {
		t.Fatalf("embed after load: %+v %v", r, err)
	}
	if ms := s3.ModelStatus(); !ms.Ready || ms.Dims != 64 || ms.LoadMS != 42 {
		t.Fatalf("status: %+v", ms)
	}
}

func TestReembedResumableAndIsolated(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		// 40 memories without vectors (model not loaded) and 30 from an old model.
		s0 := newSvc(t, st, newFakeEmbedder("old", false), "p")
		for i := 0; i < 40; i++ {
			if _, err := s0.Remember(ctx, RememberRequest{Content: "unembedded note " + string(rune('a'+i%26)) + strings.Repeat("!", i)}); err != nil {
				t.Fatal(err)
			}
		}
		sOld := newSvc(t, st, newFakeEmbedder("old", true), "p")
		for i := 0; i < 30; i++ {
			if _, err := sOld.Remember(ctx, RememberRequest{Content: "old model note " + strings.Repeat("?", i)}); err != nil {
				t.Fatal(err)
			}
		}
		emb := newFakeEmbedder("new", true)
		s := newSvc(t, st, emb, "p")
		// Semantic search with the new model ignores the old vectors.
		res, err := s.Recall(ctx, RecallRequest{Query: "old model note", Mode: memory.ModeSemantic})
		if err != nil || len(res.Results) != 0 {
			t.Fatalf("new-model search used other vectors: %v %d results", err, len(res.Results))
		}

		// First run is interrupted after its first batch.
		cctx, cancel := context.WithCancel(ctx)
		var last [2]int
		done1, err := s.Reembed(cctx, func(done, total int) {
			last = [2]int{done, total}
			if done > 0 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) || done1 != ReembedBatch || last != [2]int{ReembedBatch, 70} {
			t.Fatalf("interrupted run: done %d err %v progress %v", done1, err, last)
		}
		// A rerun continues with what is left.
		done2, err := s.Reembed(ctx, func(done, total int) { last = [2]int{done, total} })
		if err != nil || done1+done2 != 70 || last != [2]int{70 - done1, 70 - done1} {
			t.Fatalf("resumed run: done %d err %v progress %v", done2, err, last)
		}
		stats, _ := s.Stats(ctx)
		if stats.ByModel["new"] != 70 || len(stats.ByModel) != 1 {
			t.Fatalf("after reembed: %v", stats.ByModel)
		}
		if n, err := s.Reembed(ctx, nil); n != 0 || err != nil {
			t.Fatalf("third run did work: %d %v", n, err)
		}
		res, err = s.Recall(ctx, RecallRequest{Query: "old model note", Mode: memory.ModeSemantic})
		if err != nil || len(res.Results) == 0 {
			t.Fatalf("re-embedded memories not searchable: %v", err)
		}
	})
}

func TestReembedSkipsUnembeddableText(t *testing.T) {
	ctx := context.Background()
	st := newFakeStore()
	s0 := newSvc(t, st, nil, "p")
	for _, c := range []string{"fine one", "poison pill", "fine two"} {
		s0.Remember(ctx, RememberRequest{Content: c})
	}
	emb := newFakeEmbedder("new", true)
	emb.failOn = "poison"
	s := newSvc(t, st, emb, "p")
	n, err := s.Reembed(ctx, nil)
	if err != nil || n != 2 {
		t.Fatalf("reembed: %d %v", n, err)
	}
}

// EmbedBackground waits for a model still loading, then embeds what was
// written meanwhile; a cancelled wait ends with the context's error.
// (Other models' vectors: TestRecallSaysWhatIsNotEmbeddedAndBackgroundFixesIt.)
func TestEmbedBackgroundWaitsForTheModel(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		emb := newFakeEmbedder("cur", false)
		s := newSvc(t, st, emb, "p")
		var pending []string
		for i := 0; i < 40; i++ { // written while the model loads
			r, err := s.Remember(ctx, RememberRequest{Content: "pending " + strings.Repeat("x", i+1)})
			if err != nil || r.Embedded {
				t.Fatalf("%+v %v", r, err)
			}
			pending = append(pending, r.ID)
		}
		done := make(chan struct{})
		var n int
		var err error
		go func() { n, err = s.EmbedBackground(ctx, nil); close(done) }()
		time.Sleep(20 * time.Millisecond)
		emb.finish(nil)
		<-done
		if err != nil || n != 40 {
			t.Fatalf("EmbedBackground: %d %v", n, err)
		}
		for _, id := range pending {
			if m, _ := st.Get(ctx, id); m.Model != "cur" {
				t.Fatalf("%s not embedded: %+v", id, m)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		s2 := newSvc(t, st, newFakeEmbedder("late", false), "p")
		if _, err := s2.EmbedBackground(cctx, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled wait: %v", err)
		}
	})
}

// TestInvalidUTF8IsRefusedNotReplaced: text that is not valid UTF-8 never
// becomes a memory, whether its bytes arrive raw (CLI) or already replaced
// by U+FFFD in a JSON decoder (MCP, hook capture, import): one policy, a
// clear error, nothing stored.
func TestInvalidUTF8IsRefusedNotReplaced(t *testing.T) {
	ctx := context.Background()
	s := newSvc(t, newFakeStore(), newFakeEmbedder("m", true), "p")
	var decoded struct{ Content string }
	if err := json.Unmarshal([]byte("{\"content\":\"caf\xe9 au lait\"}"), &decoded); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ content, want string }{
		{decoded.Content, "U+FFFD"},    // what MCP and the hooks hand over
		{"lone \ufffd here", "U+FFFD"}, // a JSON "\ud800" decodes to this too
		{"caf\xe9 au lait", "byte 3 is 0xe9"},
	} {
		_, err := s.Remember(ctx, RememberRequest{Content: c.content})
		wantInvalid(t, err, c.want, "UTF-8")
	}
	res, err := s.Import(ctx, strings.NewReader("{\"content\":\"caf\xe9\"}\n{\"content\":\"x \\ud800 y\"}\n{\"content\":\"fine\"}\n"), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 || res.BadLines != 2 || !strings.Contains(res.Bad[0].Error, "U+FFFD") || res.Bad[1].Line != 2 {
		t.Fatalf("import: %+v", res)
	}
	st, _ := s.Stats(ctx)
	if st.Total != 1 {
		t.Fatalf("stored %d memories, want only the valid one", st.Total)
	}
}
