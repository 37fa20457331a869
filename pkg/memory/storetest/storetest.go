// Package storetest is the conformance suite every memory.Store must pass.
// It tests only behaviour the memory.Store interface promises, so the SQLite
// and PostgreSQL stores run it unchanged:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) memory.Store { return openFresh(t) })
//	}
//
// open must return an empty store and arrange its cleanup (t.Cleanup). The
// suite uses small hand-made vectors, so it needs no model.
//
// Conventions the suite pins down (beyond the interface comments):
//   - times are kept to at least millisecond precision, in UTC;
//   - read paths return non-nil Tags and Metadata;
//   - Get and List return vectors, search hits need not;
//   - with no query vector, semantic and hybrid searches return the keyword
//     ranking alone (KeywordRank set, SemanticRank 0);
//   - Filter.Until is exclusive, Since inclusive.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Run runs the whole suite; each subtest opens its own store.
func Run(t *testing.T, open func(t *testing.T) memory.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s memory.Store)
	}{
		{"PutGetRoundTrip", testPutGet},
		{"PutFillsDefaults", testPutDefaults},
		{"PutRejectsInvalid", testPutInvalid},
		{"ExactDuplicate", testDuplicate},
		{"GetMissing", testGetMissing},
		{"Delete", testDelete},
		{"ListOrderAndPaging", testListOrder},
		{"ListFilters", testListFilters},
		{"KeywordSearch", testKeyword},
		{"KeywordSearchHostileText", testHostileText},
		{"KeywordRareWordAmongCommonOnes", testKeywordRareAmongCommon},
		{"SemanticSearch", testSemantic},
		{"HybridIsRRF", testHybridRRF},
		{"SearchWithoutVectorFallsBackToKeyword", testNoVector},
		{"SearchEmbedsDuringSearch", testLateVector},
		{"SearchFilters", testSearchFilters},
		{"SearchKBounded", testKBounded},
		{"ModelIsolation", testModelIsolation},
		{"SearchSeesWritesAndDeletes", testFreshness},
		{"Similar", testSimilar},
		{"SimilarArguments", testSimilarArguments},
		{"PutNil", testPutNil},
		{"NeedEmbeddingAndSetVector", testNeedEmbedding},
		{"Touch", testTouch},
		{"Stats", testStats},
		{"ConcurrentPuts", testConcurrentPuts},
		{"SupersedeHidesOldVersion", testSupersede},
		{"SupersedeByDuplicate", testSupersedeDuplicate},
		{"SupersedeCarriedByPut", testSupersedeCarried},
		{"PinAndFilter", testPin},
		{"TouchCountsRecalls", testTouchCounts},
		{"CountUnembedded", testCountUnembedded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

const (
	modelA = "test/model-a"
	modelB = "test/model-b"
	projX  = "/work/project-x"
	projY  = "/work/project-y"
)

// Vec returns the normalised vector of the given components (8 dims,
// zero-padded): hand-made embeddings for tests.
func Vec(xs ...float64) []float32 {
	v := make([]float32, 8)
	var n float64
	for i, x := range xs {
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func put(t *testing.T, s memory.Store, m memory.Memory) string {
	t.Helper()
	if m.Project == "" {
		m.Project = projX
	}
	if m.Source == "" {
		m.Source = memory.SourceCLI
	}
	if len(m.Vector) > 0 && m.Model == "" {
		m.Model = modelA
	}
	r, err := s.Put(ctx(t), &m)
	if err != nil {
		t.Fatalf("Put(%q): %v", m.Content, err)
	}
	if r.Duplicate {
		t.Fatalf("Put(%q): unexpected duplicate of %s", m.Content, r.ID)
	}
	return r.ID
}

func ids(hits []memory.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Memory.ID
	}
	return out
}

func search(t *testing.T, s memory.Store, q memory.Query) []memory.Hit {
	t.Helper()
	hits, err := s.Search(ctx(t), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return hits
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < time.Millisecond && d > -time.Millisecond
}

func testPutGet(t *testing.T, s memory.Store) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	in := memory.Memory{
		Content:   "The build uses Go 1.26 and CGO_ENABLED=0.",
		Project:   projX,
		Tags:      []string{" Build", "go", "GO"},
		Metadata:  map[string]any{"file": "Makefile", "line": float64(3)},
		Source:    memory.SourceMCP,
		Author:    "ann@host",
		CreatedAt: created,
		Vector:    Vec(1, 2, 3),
		Model:     modelA,
	}
	m := in
	r, err := s.Put(ctx(t), &m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Duplicate || !memory.ValidID(r.ID) {
		t.Fatalf("PutResult = %+v, want a new valid id", r)
	}
	if m.ID != r.ID {
		t.Errorf("Put did not fill m.ID: %q vs %q", m.ID, r.ID)
	}
	got, err := s.Get(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Content != in.Content || got.Project != projX || got.Source != memory.SourceMCP || got.Author != "ann@host" {
		t.Errorf("Get = %+v", got)
	}
	if got.ContentHash != memory.ContentHash(in.Content) {
		t.Errorf("ContentHash = %q", got.ContentHash)
	}
	if !slices.Equal(got.Tags, []string{"build", "go"}) {
		t.Errorf("Tags = %q, want normalised [build go]", got.Tags)
	}
	if got.Metadata["file"] != "Makefile" || got.Metadata["line"] != float64(3) {
		t.Errorf("Metadata = %v", got.Metadata)
	}
	if !sameTime(got.CreatedAt, created) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, created)
	}
	if got.UpdatedAt.Before(got.CreatedAt) || got.AccessedAt.Before(got.CreatedAt) {
		t.Errorf("UpdatedAt %v / AccessedAt %v before CreatedAt %v", got.UpdatedAt, got.AccessedAt, got.CreatedAt)
	}
	if got.Model != modelA || got.Dims != 8 || len(got.Vector) != 8 {
		t.Fatalf("vector stamp = %q/%d/%d values", got.Model, got.Dims, len(got.Vector))
	}
	want := Vec(1, 2, 3)
	for i := range want {
		if math.Abs(float64(got.Vector[i]-want[i])) > 1e-6 {
			t.Fatalf("Vector = %v, want %v", got.Vector, want)
		}
	}
}

func testPutDefaults(t *testing.T, s memory.Store) {
	before := time.Now().Add(-time.Second)
	m := memory.Memory{Content: "no vector, no tags", Project: memory.GlobalProject, Source: memory.SourceHook}
	r, err := s.Put(ctx(t), &m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("CreatedAt = %v, want about now", got.CreatedAt)
	}
	if got.Tags == nil || len(got.Tags) != 0 || got.Metadata == nil || len(got.Metadata) != 0 {
		t.Errorf("Tags %#v, Metadata %#v: want empty, non-nil", got.Tags, got.Metadata)
	}
	if got.Vector != nil || got.Model != "" || got.Dims != 0 {
		t.Errorf("vector stamp = %q/%d/%v, want none", got.Model, got.Dims, got.Vector)
	}
	// A vector that is not unit length is stored normalised.
	id := put(t, s, memory.Memory{Content: "scaled", Vector: []float32{3, 4, 0, 0}, Model: modelA})
	got, err = s.Get(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(got.Vector[0])-0.6) > 1e-6 || math.Abs(float64(got.Vector[1])-0.8) > 1e-6 || got.Dims != 4 {
		t.Errorf("Vector = %v (dims %d), want [0.6 0.8 0 0]", got.Vector, got.Dims)
	}
}

func testPutInvalid(t *testing.T, s memory.Store) {
	ok := memory.Memory{Content: "fine", Project: projX, Source: memory.SourceCLI}
	cases := map[string]func(m *memory.Memory){
		"empty content":     func(m *memory.Memory) { m.Content = "  \n" },
		"empty project":     func(m *memory.Memory) { m.Project = "" },
		"control project":   func(m *memory.Memory) { m.Project = "a\x00b" },
		"bad source":        func(m *memory.Memory) { m.Source = "email" },
		"empty tag":         func(m *memory.Memory) { m.Tags = []string{"a", " "} },
		"bad id":            func(m *memory.Memory) { m.ID = "not-a-ulid" },
		"wrong hash":        func(m *memory.Memory) { m.ContentHash = memory.ContentHash("other") },
		"vector no model":   func(m *memory.Memory) { m.Vector = Vec(1) },
		"dims mismatch":     func(m *memory.Memory) { m.Vector, m.Model, m.Dims = Vec(1), modelA, 4 },
		"NaN vector":        func(m *memory.Memory) { m.Vector, m.Model = []float32{float32(math.NaN()), 1}, modelA },
		"zero vector":       func(m *memory.Memory) { m.Vector, m.Model = []float32{0, 0}, modelA },
		"unencodable value": func(m *memory.Memory) { m.Metadata = map[string]any{"f": func() {}} },
		// NUL is refused by every store alike, so any store can be migrated to any other.
		"NUL content":  func(m *memory.Memory) { m.Content = "a\x00b" },
		"NUL metadata": func(m *memory.Memory) { m.Metadata = map[string]any{"k": []any{"x\x00"}} },
		"NUL model":    func(m *memory.Memory) { m.Vector, m.Model = Vec(1), "m\x00" },
	}
	for name, mutate := range cases {
		m := ok
		mutate(&m)
		if _, err := s.Put(ctx(t), &m); !errors.Is(err, memory.ErrInvalid) {
			t.Errorf("%s: Put error = %v, want ErrInvalid", name, err)
		}
	}
	if st, err := s.Stats(ctx(t)); err != nil || st.Total != 0 {
		t.Errorf("after invalid puts: Total = %d, err %v; want 0", st.Total, err)
	}
}

func testDuplicate(t *testing.T, s memory.Store) {
	first := put(t, s, memory.Memory{Content: "Use pnpm, not npm.", Vector: Vec(1), Tags: []string{"a"}})
	m := memory.Memory{Content: "Use pnpm, not npm.", Project: projX, Source: memory.SourceMCP, Tags: []string{"b"}}
	r, err := s.Put(ctx(t), &m)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Duplicate || r.ID != first {
		t.Fatalf("second Put = %+v, want duplicate of %s", r, first)
	}
	// Content differing only in whitespace is a different memory.
	put(t, s, memory.Memory{Content: "Use pnpm, not npm. "})
	// The same content in another project is a different memory.
	other := put(t, s, memory.Memory{Content: "Use pnpm, not npm.", Project: projY})
	if other == first {
		t.Fatal("same content in another project got the same id")
	}
	st, err := s.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 3 {
		t.Errorf("Total = %d, want 3", st.Total)
	}
	got, _ := s.Get(ctx(t), first)
	if !slices.Equal(got.Tags, []string{"a"}) {
		t.Errorf("duplicate Put changed the stored memory: tags %q", got.Tags)
	}
	// Concurrent duplicates: exactly one row survives.
	var wg sync.WaitGroup
	results := make([]memory.PutResult, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := memory.Memory{Content: "raced content", Project: projX, Source: memory.SourceCLI}
			results[i], errs[i] = s.Put(ctx(t), &m)
		}()
	}
	wg.Wait()
	news := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !r.Duplicate {
			news++
		}
		if r.ID != results[0].ID {
			t.Errorf("raced puts returned different ids: %s vs %s", r.ID, results[0].ID)
		}
	}
	if news != 1 {
		t.Errorf("%d raced puts wrote a row, want exactly 1", news)
	}
}

func testGetMissing(t *testing.T, s memory.Store) {
	for _, id := range []string{memory.NewID(time.Now()), "garbage", ""} {
		if _, err := s.Get(ctx(t), id); !errors.Is(err, memory.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
		}
	}
}

func testDelete(t *testing.T, s memory.Store) {
	a := put(t, s, memory.Memory{Content: "alpha memory", Vector: Vec(1)})
	b := put(t, s, memory.Memory{Content: "beta memory", Vector: Vec(0, 1)})
	ghost := memory.NewID(time.Now())
	missing, err := s.Delete(ctx(t), []string{a, ghost})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{ghost}) {
		t.Errorf("missing = %q, want [%s]", missing, ghost)
	}
	if _, err := s.Get(ctx(t), a); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("deleted memory still there: %v", err)
	}
	if _, err := s.Get(ctx(t), b); err != nil {
		t.Errorf("other memory gone: %v", err)
	}
	missing, err = s.Delete(ctx(t), []string{a})
	if err != nil || !slices.Equal(missing, []string{a}) {
		t.Errorf("deleting again: missing %q, err %v", missing, err)
	}
	// The deleted content can be stored again, under a new id.
	a2 := put(t, s, memory.Memory{Content: "alpha memory"})
	if a2 == a {
		t.Error("id reused after delete")
	}
	hits := search(t, s, memory.Query{Text: "alpha", Vector: Vec(1), Model: modelA, K: 10})
	if len(hits) == 0 || slices.Contains(ids(hits), a) {
		t.Errorf("search after delete returned %q (deleted %s)", ids(hits), a)
	}
}

func testListOrder(t *testing.T, s memory.Store) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i := range 7 {
		want = append(want, put(t, s, memory.Memory{Content: fmt.Sprintf("note %d", i), CreatedAt: base.Add(time.Duration(i) * time.Hour)}))
	}
	slices.Reverse(want) // newest first
	all, err := s.List(ctx(t), memory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range all {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %q, want newest first %q", got, want)
	}
	var paged []string
	for off := 0; ; off += 3 {
		page, err := s.List(ctx(t), memory.ListOptions{Limit: 3, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d, limit 3", len(page))
		}
		for _, m := range page {
			paged = append(paged, m.ID)
		}
		if len(page) < 3 {
			break
		}
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged List = %q, want %q", paged, want)
	}
}

// seedFiltered stores memories that filter tests select from.
func seedFiltered(t *testing.T, s memory.Store) (base time.Time, byName map[string]string) {
	base = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	byName = map[string]string{}
	for _, m := range []struct {
		name, project string
		tags          []string
		hours         int
		vec           []float32
	}{
		{"x-go-db", projX, []string{"go", "db"}, 0, Vec(1, 0.1)},
		{"x-go", projX, []string{"go"}, 1, Vec(1, 0.2)},
		{"x-db", projX, []string{"db"}, 2, Vec(1, 0.3)},
		{"y-go", projY, []string{"go"}, 3, Vec(1, 0.4)},
		{"g-none", memory.GlobalProject, nil, 4, Vec(1, 0.5)},
	} {
		byName[m.name] = put(t, s, memory.Memory{
			Content: "shared keyword filterable " + m.name, Project: m.project, Tags: m.tags,
			CreatedAt: base.Add(time.Duration(m.hours) * time.Hour), Vector: m.vec,
		})
	}
	return base, byName
}

func filterCases(base time.Time) []struct {
	name string
	f    memory.Filter
	want []string
} {
	return []struct {
		name string
		f    memory.Filter
		want []string
	}{
		{"all", memory.Filter{}, []string{"x-go-db", "x-go", "x-db", "y-go", "g-none"}},
		{"project x", memory.Filter{Projects: []string{projX}}, []string{"x-go-db", "x-go", "x-db"}},
		{"x + global", memory.Filter{Projects: []string{projX, memory.GlobalProject}}, []string{"x-go-db", "x-go", "x-db", "g-none"}},
		{"tags any", memory.Filter{TagsAny: []string{"db", "nothing"}}, []string{"x-go-db", "x-db"}},
		{"tags any case", memory.Filter{TagsAny: []string{"GO"}}, []string{"x-go-db", "x-go", "y-go"}},
		{"tags all", memory.Filter{TagsAll: []string{"go", "db"}}, []string{"x-go-db"}},
		{"tags all none", memory.Filter{TagsAll: []string{"go", "nothing"}}, nil},
		{"since inclusive", memory.Filter{Since: base.Add(3 * time.Hour)}, []string{"y-go", "g-none"}},
		{"until exclusive", memory.Filter{Until: base.Add(1 * time.Hour)}, []string{"x-go-db"}},
		{"window", memory.Filter{Since: base.Add(time.Hour), Until: base.Add(3 * time.Hour)}, []string{"x-go", "x-db"}},
		{"combined", memory.Filter{Projects: []string{projX, projY}, TagsAny: []string{"go"}, Since: base.Add(time.Hour)}, []string{"x-go", "y-go"}},
	}
}

func names(byName map[string]string, got []string) []string {
	rev := map[string]string{}
	for n, id := range byName {
		rev[id] = n
	}
	out := make([]string, 0, len(got))
	for _, id := range got {
		out = append(out, rev[id])
	}
	sort.Strings(out)
	return out
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func testListFilters(t *testing.T, s memory.Store) {
	base, byName := seedFiltered(t, s)
	for _, c := range filterCases(base) {
		ms, err := s.List(ctx(t), memory.ListOptions{Filter: c.f})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.ID)
		}
		if g, w := names(byName, got), sorted(c.want); !slices.Equal(g, w) {
			t.Errorf("List %s = %q, want %q", c.name, g, w)
		}
	}
	if _, err := s.List(ctx(t), memory.ListOptions{Filter: memory.Filter{TagsAny: []string{""}}}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("empty filter tag: err = %v, want ErrInvalid", err)
	}
}

func testSearchFilters(t *testing.T, s memory.Store) {
	base, byName := seedFiltered(t, s)
	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		for _, c := range filterCases(base) {
			hits := search(t, s, memory.Query{Text: "filterable", Vector: Vec(1), Model: modelA, Mode: mode, K: 20, Filter: c.f})
			if g, w := names(byName, ids(hits)), sorted(c.want); !slices.Equal(g, w) {
				t.Errorf("%s search %s = %q, want %q", mode, c.name, g, w)
			}
		}
	}
}

func testKeyword(t *testing.T, s memory.Store) {
	both := put(t, s, memory.Memory{Content: "Deploy the service with kubectl apply; kubectl rollout status watches it."})
	one := put(t, s, memory.Memory{Content: "kubectl is installed in /usr/local/bin."})
	put(t, s, memory.Memory{Content: "The cat sat on the mat."})
	hits := search(t, s, memory.Query{Text: "kubectl rollout", Mode: memory.ModeKeyword, K: 10})
	if got := ids(hits); !slices.Equal(got, []string{both, one}) {
		t.Fatalf("keyword hits = %q, want [%s %s]", got, both, one)
	}
	for i, h := range hits {
		if h.KeywordRank != i+1 || h.SemanticRank != 0 {
			t.Errorf("hit %d ranks = %d/%d", i, h.KeywordRank, h.SemanticRank)
		}
		if h.Memory.Content == "" || h.Memory.Project != projX {
			t.Errorf("hit %d memory not loaded: %+v", i, h.Memory)
		}
	}
	if hits[0].Score < hits[1].Score {
		t.Errorf("keyword scores not descending: %v, %v", hits[0].Score, hits[1].Score)
	}
	// Stemming: "deploying" finds "Deploy".
	if got := ids(search(t, s, memory.Query{Text: "deploying", Mode: memory.ModeKeyword})); !slices.Equal(got, []string{both}) {
		t.Errorf("stemmed search = %q, want [%s]", got, both)
	}
	// Case and accents do not matter.
	cafe := put(t, s, memory.Memory{Content: "Meet at the Café Müller."})
	if got := ids(search(t, s, memory.Query{Text: "CAFE muller", Mode: memory.ModeKeyword})); !slices.Equal(got, []string{cafe}) {
		t.Errorf("accent-folded search = %q, want [%s]", got, cafe)
	}
	if hits := search(t, s, memory.Query{Text: "zebra", Mode: memory.ModeKeyword}); len(hits) != 0 {
		t.Errorf("no-match search returned %d hits", len(hits))
	}
	// Stop words carry no signal: a memory sharing only "for" with the
	// question must not outrank one sharing "bread" (bm25 alone would rank
	// the shorter memory first, as both words are equally rare here).
	bread := put(t, s, memory.Memory{Content: "How do I bake sourdough bread at home?"})
	put(t, s, memory.Memory{Content: "Antibiotics for the infection."})
	got := ids(search(t, s, memory.Query{Text: "What is a good recipe for homemade bread?", Mode: memory.ModeKeyword}))
	if len(got) == 0 || got[0] != bread {
		t.Errorf("stop-word query ranked %q first, want the bread memory %s", got, bread)
	}
}

// testKeywordRareAmongCommon: a memory holding a rare query word is found
// first even when the query's other words are in every memory and it is the
// oldest one (enough memories that a store bounding its keyword work must
// take that path: SQLite's probes 128 rows per word).
func testKeywordRareAmongCommon(t *testing.T, s memory.Store) {
	zebra := put(t, s, memory.Memory{Content: "the zebra crossing near the build server deploy"})
	for i := range 300 {
		put(t, s, memory.Memory{Content: fmt.Sprintf("build server deploy pipeline step %d of the release", i)})
	}
	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeHybrid} {
		hits := search(t, s, memory.Query{Text: "build server deploy zebra", Mode: mode, K: 5})
		if len(hits) != 5 || hits[0].Memory.ID != zebra {
			t.Errorf("%s: hits %q, want 5 with the zebra memory %s first", mode, ids(hits), zebra)
		}
	}
	// Only common words: still k hits.
	if hits := search(t, s, memory.Query{Text: "deploy pipeline release", Mode: memory.ModeKeyword, K: 7}); len(hits) != 7 {
		t.Errorf("common words only: %d hits, want 7", len(hits))
	}
}

func testHostileText(t *testing.T, s memory.Store) {
	id := put(t, s, memory.Memory{Content: `He said "NEAR(x y)" AND column:value OR NOT ^start* -- DROP TABLE memories;`})
	for _, text := range []string{
		`"`, `""`, `"unbalanced`, `AND`, `OR NOT`, `NEAR(x y)`, `column:value`, `^start*`, `*`, `-`, `(`, `)`,
		`'; DROP TABLE memories; --`, "\x00", `\`, `{col1 col2}: x`, `a + b`, "", "   ", "🙂", `memories_fts MATCH 'x'`,
	} {
		for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeHybrid} {
			if _, err := s.Search(ctx(t), memory.Query{Text: text, Mode: mode, Vector: Vec(1), Model: modelA}); err != nil {
				t.Errorf("Search(%q, %s): %v", text, mode, err)
			}
		}
	}
	if got := ids(search(t, s, memory.Query{Text: `column:value "NEAR(x`, Mode: memory.ModeKeyword})); !slices.Equal(got, []string{id}) {
		t.Errorf("search with operators as words = %q, want [%s]", got, id)
	}
	if _, err := s.Get(ctx(t), id); err != nil {
		t.Errorf("memory lost after hostile searches: %v", err)
	}
}

func testSemantic(t *testing.T, s memory.Store) {
	near := put(t, s, memory.Memory{Content: "first", Vector: Vec(1, 0.1)})
	mid := put(t, s, memory.Memory{Content: "second", Vector: Vec(1, 1)})
	far := put(t, s, memory.Memory{Content: "third", Vector: Vec(0, 1)})
	put(t, s, memory.Memory{Content: "no vector at all"})
	q := Vec(1)
	hits := search(t, s, memory.Query{Text: "unrelated words", Vector: q, Model: modelA, Mode: memory.ModeSemantic, K: 10})
	if got := ids(hits); !slices.Equal(got, []string{near, mid, far}) {
		t.Fatalf("semantic hits = %q, want [near mid far] = %q", got, []string{near, mid, far})
	}
	wantSim := []float64{1 / math.Sqrt(1.01), 1 / math.Sqrt(2), 0}
	for i, h := range hits {
		if h.SemanticRank != i+1 || h.KeywordRank != 0 {
			t.Errorf("hit %d ranks = %d/%d", i, h.KeywordRank, h.SemanticRank)
		}
		if math.Abs(h.Similarity-wantSim[i]) > 1e-5 || math.Abs(h.Score-wantSim[i]) > 1e-5 {
			t.Errorf("hit %d similarity %v score %v, want %v", i, h.Similarity, h.Score, wantSim[i])
		}
	}
	if hits := search(t, s, memory.Query{Vector: q, Model: modelA, Mode: memory.ModeSemantic, K: 2}); len(hits) != 2 {
		t.Errorf("K=2 returned %d hits", len(hits))
	}
}

func testHybridRRF(t *testing.T, s memory.Store) {
	// Keyword ranking for "apple banana": kwTop (both words twice), both, kw2.
	// Semantic ranking for Vec(1): semTop, both, kw2 ...
	both := put(t, s, memory.Memory{Content: "apple and banana pie recipe", Vector: Vec(1, 0.3)})
	kwTop := put(t, s, memory.Memory{Content: "apple banana apple banana smoothie", Vector: Vec(0, 1)})
	kw2 := put(t, s, memory.Memory{Content: "banana bread", Vector: Vec(0.2, 1)})
	semTop := put(t, s, memory.Memory{Content: "fruit salad", Vector: Vec(1, 0.01)})
	put(t, s, memory.Memory{Content: "unrelated note", Vector: Vec(0, 0, 1)})

	text, vec := "apple banana", Vec(1)
	kw := search(t, s, memory.Query{Text: text, Mode: memory.ModeKeyword, K: memory.MaxK})
	sem := search(t, s, memory.Query{Text: text, Vector: vec, Model: modelA, Mode: memory.ModeSemantic, K: memory.MaxK})
	if len(kw) != 3 || kw[0].Memory.ID != kwTop {
		t.Fatalf("keyword ranking = %q, want kwTop %s first of 3", ids(kw), kwTop)
	}
	if len(sem) != 5 || sem[0].Memory.ID != semTop || sem[1].Memory.ID != both {
		t.Fatalf("semantic ranking = %q, want semTop %s then both %s", ids(sem), semTop, both)
	}
	toRanked := func(hs []memory.Hit) []memory.Ranked {
		var out []memory.Ranked
		for _, h := range hs {
			out = append(out, memory.Ranked{ID: h.Memory.ID, Score: h.Score})
		}
		return out
	}
	want := memory.Fuse(toRanked(kw), toRanked(sem))
	hits := search(t, s, memory.Query{Text: text, Vector: vec, Model: modelA, Mode: memory.ModeHybrid, K: 10})
	if len(hits) != len(want) {
		t.Fatalf("hybrid returned %d hits, want %d", len(hits), len(want))
	}
	for i, h := range hits {
		w := want[i]
		if h.Memory.ID != w.ID || h.KeywordRank != w.KeywordRank || h.SemanticRank != w.SemanticRank || math.Abs(h.Score-w.Score) > 1e-12 {
			t.Errorf("hybrid hit %d = %s k%d s%d %.6f, want %s k%d s%d %.6f",
				i, h.Memory.ID, h.KeywordRank, h.SemanticRank, h.Score, w.ID, w.KeywordRank, w.SemanticRank, w.Score)
		}
		if h.Memory.Content == "" {
			t.Errorf("hybrid hit %d memory not loaded", i)
		}
	}
	if hits[0].Memory.ID != both {
		t.Errorf("hybrid top = %s, want the memory found by both rankings %s", hits[0].Memory.ID, both)
	}
	if h := hits[0]; h.KeywordRank == 0 || h.SemanticRank == 0 ||
		math.Abs(h.Score-(1/float64(memory.RRFConstant+h.KeywordRank)+1/float64(memory.RRFConstant+h.SemanticRank))) > 1e-12 {
		t.Errorf("top hit score %v with ranks k%d s%d is not Σ 1/(60+rank)", h.Score, h.KeywordRank, h.SemanticRank)
	}
	if hits[0].Similarity <= 0.9 {
		t.Errorf("top hit similarity = %v, want its cosine (> 0.9)", hits[0].Similarity)
	}
	_ = kw2
}

// testLateVector: a query that computes its vector during the search
// (Query.Embed) ranks exactly as one that brings it, in every mode; Embed
// is called once; a nil vector answers by keyword, an error fails the
// search, and a bad vector is refused.
func testLateVector(t *testing.T, s memory.Store) {
	put(t, s, memory.Memory{Content: "apple and banana pie recipe", Vector: Vec(1, 0.3)})
	put(t, s, memory.Memory{Content: "apple banana apple banana smoothie", Vector: Vec(0, 1)})
	put(t, s, memory.Memory{Content: "banana bread"}) // no vector: found by keyword only
	put(t, s, memory.Memory{Content: "fruit salad", Vector: Vec(1, 0.01)})
	text, vec := "apple banana bread", Vec(1)
	for _, mode := range []memory.Mode{memory.ModeHybrid, memory.ModeSemantic} {
		want := search(t, s, memory.Query{Text: text, Vector: vec, Model: modelA, Mode: mode, K: 10})
		calls := 0
		got := search(t, s, memory.Query{Text: text, Model: modelA, Mode: mode, K: 10, Embed: func(context.Context) ([]float32, error) {
			calls++
			return vec, nil
		}})
		if calls != 1 {
			t.Errorf("%s: Embed called %d times, want once", mode, calls)
		}
		if len(got) != len(want) {
			t.Fatalf("%s with Embed: %q, want %q", mode, ids(got), ids(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Memory.ID != w.Memory.ID || g.Score != w.Score || g.KeywordRank != w.KeywordRank || g.SemanticRank != w.SemanticRank || g.Similarity != w.Similarity {
				t.Errorf("%s hit %d with Embed = %+v, want %+v", mode, i, g, w)
			}
		}
	}
	// No vector after all: the keyword ranking alone, cut at K.
	hits := search(t, s, memory.Query{Text: text, Model: modelA, Mode: memory.ModeHybrid, K: 2, Embed: func(context.Context) ([]float32, error) { return nil, nil }})
	kw := search(t, s, memory.Query{Text: text, Mode: memory.ModeKeyword, K: 2})
	if !slices.Equal(ids(hits), ids(kw)) || len(hits) != 2 || hits[0].SemanticRank != 0 || hits[0].Score != kw[0].Score {
		t.Errorf("hybrid whose Embed found no vector = %q, want the keyword ranking %q", ids(hits), ids(kw))
	}
	boom := errors.New("embedding cancelled")
	if _, err := s.Search(ctx(t), memory.Query{Text: text, Model: modelA, Mode: memory.ModeHybrid, K: 5, Embed: func(context.Context) ([]float32, error) { return nil, boom }}); !errors.Is(err, boom) {
		t.Errorf("Embed failing: err = %v, want it passed on", err)
	}
	nan := Vec(1)
	nan[2] = float32(math.NaN())
	if _, err := s.Search(ctx(t), memory.Query{Text: text, Model: modelA, Mode: memory.ModeHybrid, K: 5, Embed: func(context.Context) ([]float32, error) { return nan, nil }}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Embed returning NaN: err = %v, want ErrInvalid", err)
	}
	if _, err := s.Search(ctx(t), memory.Query{Text: text, Vector: vec, Model: modelA, Embed: func(context.Context) ([]float32, error) { return vec, nil }}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Vector and Embed both: err = %v, want ErrInvalid", err)
	}
	if _, err := s.Search(ctx(t), memory.Query{Text: text, Embed: func(context.Context) ([]float32, error) { return vec, nil }}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Embed without a model: err = %v, want ErrInvalid", err)
	}
}

func testNoVector(t *testing.T, s memory.Store) {
	a := put(t, s, memory.Memory{Content: "postgres connection string", Vector: Vec(1)})
	put(t, s, memory.Memory{Content: "unrelated", Vector: Vec(1, 0.01)})
	for _, mode := range []memory.Mode{memory.ModeSemantic, memory.ModeHybrid, ""} {
		hits := search(t, s, memory.Query{Text: "postgres", Mode: mode, K: 5})
		if !slices.Equal(ids(hits), []string{a}) {
			t.Errorf("mode %q without vector = %q, want keyword result [%s]", mode, ids(hits), a)
			continue
		}
		if hits[0].KeywordRank != 1 || hits[0].SemanticRank != 0 {
			t.Errorf("mode %q without vector: ranks %d/%d", mode, hits[0].KeywordRank, hits[0].SemanticRank)
		}
	}
	if _, err := s.Search(ctx(t), memory.Query{Text: "x", Mode: "fuzzy"}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("bad mode: err = %v, want ErrInvalid", err)
	}
	if _, err := s.Search(ctx(t), memory.Query{Text: "x", K: -1}); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("negative k: err = %v, want ErrInvalid", err)
	}
}

func testKBounded(t *testing.T, s memory.Store) {
	for i := range memory.MaxK + 5 {
		put(t, s, memory.Memory{Content: fmt.Sprintf("bulk entry number %d", i), Vector: Vec(1, float64(i)/100)})
	}
	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		hits := search(t, s, memory.Query{Text: "bulk entry", Vector: Vec(1), Model: modelA, Mode: mode, K: 10 * memory.MaxK})
		if len(hits) != memory.MaxK {
			t.Errorf("%s with K=%d returned %d hits, want MaxK=%d", mode, 10*memory.MaxK, len(hits), memory.MaxK)
		}
		hits = search(t, s, memory.Query{Text: "bulk entry", Vector: Vec(1), Model: modelA, Mode: mode})
		if len(hits) != memory.DefaultK {
			t.Errorf("%s with K=0 returned %d hits, want DefaultK=%d", mode, len(hits), memory.DefaultK)
		}
	}
}

func testModelIsolation(t *testing.T, s memory.Store) {
	a := put(t, s, memory.Memory{Content: "made by model a", Vector: Vec(1), Model: modelA})
	b := put(t, s, memory.Memory{Content: "made by model b", Vector: Vec(1), Model: modelB})
	c := put(t, s, memory.Memory{Content: "model b other dims", Vector: []float32{1, 0, 0, 0}, Model: modelB})
	hits := search(t, s, memory.Query{Vector: Vec(1), Model: modelA, Mode: memory.ModeSemantic, K: 10})
	if !slices.Equal(ids(hits), []string{a}) {
		t.Errorf("semantic search for model a = %q, want only [%s]", ids(hits), a)
	}
	hits = search(t, s, memory.Query{Vector: Vec(1), Model: modelB, Mode: memory.ModeSemantic, K: 10})
	if !slices.Equal(ids(hits), []string{b}) {
		t.Errorf("semantic search for model b (8 dims) = %q, want only [%s]", ids(hits), b)
	}
	hits = search(t, s, memory.Query{Text: "model", Vector: Vec(1), Model: modelA, Mode: memory.ModeHybrid, K: 10})
	for _, h := range hits {
		if h.Memory.ID != a && h.SemanticRank != 0 {
			t.Errorf("hybrid for model a ranked %s (model %s) semantically", h.Memory.ID, h.Memory.Model)
		}
	}
	if len(hits) != 3 {
		t.Errorf("hybrid keyword part should still find all 3 memories, got %q", ids(hits))
	}
	sim, err := s.Similar(ctx(t), Vec(1), modelB, projX, 0.5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(sim), []string{b}) {
		t.Errorf("Similar(model b) = %q, want [%s]", ids(sim), b)
	}
	_ = c
}

func testFreshness(t *testing.T, s memory.Store) {
	q := memory.Query{Text: "freshness probe", Vector: Vec(1), Model: modelA, Mode: memory.ModeHybrid, K: 10}
	if hits := search(t, s, q); len(hits) != 0 { // loads any lazy index while empty
		t.Fatalf("empty store returned %d hits", len(hits))
	}
	id := put(t, s, memory.Memory{Content: "freshness probe", Vector: Vec(1)})
	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		q.Mode = mode
		if got := ids(search(t, s, q)); !slices.Equal(got, []string{id}) {
			t.Errorf("%s after put = %q, want [%s]", mode, got, id)
		}
	}
	if err := s.SetVector(ctx(t), id, Vec(0, 1), modelA); err != nil {
		t.Fatal(err)
	}
	q.Mode = memory.ModeSemantic
	q.Vector = Vec(0, 1)
	if hits := search(t, s, q); len(hits) != 1 || hits[0].Similarity < 0.999 {
		t.Errorf("after SetVector: hits %+v, want the memory with similarity 1", hits)
	}
	if _, err := s.Delete(ctx(t), []string{id}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []memory.Mode{memory.ModeKeyword, memory.ModeSemantic, memory.ModeHybrid} {
		q.Mode = mode
		if got := ids(search(t, s, q)); len(got) != 0 {
			t.Errorf("%s after delete = %q, want none", mode, got)
		}
	}
}

func testSimilar(t *testing.T, s memory.Store) {
	same := put(t, s, memory.Memory{Content: "original", Vector: Vec(1, 0.1)})
	close := put(t, s, memory.Memory{Content: "close", Vector: Vec(1, 0.25)})
	put(t, s, memory.Memory{Content: "far", Vector: Vec(1, 1)})
	put(t, s, memory.Memory{Content: "other project", Project: projY, Vector: Vec(1, 0.1)})
	put(t, s, memory.Memory{Content: "other model", Vector: Vec(1, 0.1), Model: modelB})
	hits, err := s.Similar(ctx(t), Vec(1, 0.1), modelA, projX, 0.95, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(hits), []string{same, close}) {
		t.Fatalf("Similar = %q, want [%s %s]", ids(hits), same, close)
	}
	if hits[0].Similarity < 0.9999 || hits[1].Similarity < 0.95 || hits[1].Similarity > hits[0].Similarity {
		t.Errorf("similarities = %v, %v", hits[0].Similarity, hits[1].Similarity)
	}
	if hits[0].Memory.Content != "original" {
		t.Errorf("Similar hit memory not loaded: %+v", hits[0].Memory)
	}
	if hits, err := s.Similar(ctx(t), Vec(1, 0.1), modelA, projX, 0.95, 1); err != nil || len(hits) != 1 {
		t.Errorf("Similar limit 1: %d hits, err %v", len(hits), err)
	}
	if hits, err := s.Similar(ctx(t), Vec(0, 0, 1), modelA, projX, 0.95, 10); err != nil || len(hits) != 0 {
		t.Errorf("Similar to an orthogonal vector: %q, err %v", ids(hits), err)
	}
}

// testSimilarArguments: every store checks and defaults Similar's
// arguments alike (memory.PrepareSimilar). They used to differ: only
// PostgreSQL required the model id, and a limit of 0 was 10 in PostgreSQL
// and memory.DefaultK in SQLite.
func testSimilarArguments(t *testing.T, s memory.Store) {
	for i := range memory.DefaultK + 3 {
		put(t, s, memory.Memory{Content: fmt.Sprintf("near %d", i), Vector: Vec(1, float64(i)/100)})
	}
	if hits, err := s.Similar(ctx(t), Vec(1), "", projX, 0.5, 10); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Similar without a model id: %d hits, err %v; want ErrInvalid", len(hits), err)
	}
	if hits, err := s.Similar(ctx(t), Vec(1), modelA, projX, 0.5, 0); err != nil || len(hits) != memory.DefaultK {
		t.Errorf("Similar with limit 0: %d hits, err %v; want DefaultK=%d", len(hits), err, memory.DefaultK)
	}
	if hits, err := s.Similar(ctx(t), Vec(1), modelA, projX, 0.5, 10*memory.MaxK); err != nil || len(hits) != memory.DefaultK+3 {
		t.Errorf("Similar with a large limit: %d hits, err %v", len(hits), err)
	}
	if _, err := s.Similar(ctx(t), Vec(1), modelA, "", 0.5, 10); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Similar without a project: err %v; want ErrInvalid", err)
	}
	if _, err := s.Similar(ctx(t), []float32{0, 0, 0}, modelA, projX, 0.5, 10); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Similar to a zero vector: err %v; want ErrInvalid", err)
	}
}

func testPutNil(t *testing.T, s memory.Store) {
	if _, err := s.Put(ctx(t), nil); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("Put(nil): err %v; want ErrInvalid", err)
	}
}

func testNeedEmbedding(t *testing.T, s memory.Store) {
	none := put(t, s, memory.Memory{Content: "no vector"})
	put(t, s, memory.Memory{Content: "current model", Vector: Vec(1), Model: modelA})
	old := put(t, s, memory.Memory{Content: "old model", Vector: Vec(1), Model: modelB})
	none2 := put(t, s, memory.Memory{Content: "no vector either"})
	want := []string{none, old, none2}
	sort.Strings(want) // oldest (smallest id) first

	need, err := s.NeedEmbedding(ctx(t), modelA, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range need {
		got = append(got, m.ID)
		if m.Content == "" {
			t.Errorf("NeedEmbedding returned %s without content", m.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("NeedEmbedding = %q, want %q", got, want)
	}
	// Resumable: page by afterID.
	var paged []string
	after := ""
	for {
		page, err := s.NeedEmbedding(ctx(t), modelA, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			paged = append(paged, m.ID)
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(paged, want) {
		t.Errorf("paged NeedEmbedding = %q, want %q", paged, want)
	}
	for i, id := range want {
		if err := s.SetVector(ctx(t), id, Vec(1, float64(i)), modelA); err != nil {
			t.Fatal(err)
		}
	}
	if need, err := s.NeedEmbedding(ctx(t), modelA, "", 10); err != nil || len(need) != 0 {
		t.Errorf("after SetVector NeedEmbedding = %d memories, err %v", len(need), err)
	}
	m, err := s.Get(ctx(t), old)
	if err != nil {
		t.Fatal(err)
	}
	if m.Model != modelA || m.Dims != 8 {
		t.Errorf("after SetVector stamp = %q/%d", m.Model, m.Dims)
	}
	if hits := search(t, s, memory.Query{Vector: Vec(1), Model: modelA, Mode: memory.ModeSemantic, K: 10}); len(hits) != 4 {
		t.Errorf("semantic search after re-embedding found %d, want 4", len(hits))
	}
	if hits := search(t, s, memory.Query{Vector: Vec(1), Model: modelB, Mode: memory.ModeSemantic, K: 10}); len(hits) != 0 {
		t.Errorf("re-embedded memory still found under the old model: %q", ids(hits))
	}
	if err := s.SetVector(ctx(t), memory.NewID(time.Now()), Vec(1), modelA); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("SetVector(missing) = %v, want ErrNotFound", err)
	}
	if err := s.SetVector(ctx(t), none, []float32{0, 0}, modelA); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("SetVector(zero vector) = %v, want ErrInvalid", err)
	}
	if err := s.SetVector(ctx(t), none, Vec(1), ""); !errors.Is(err, memory.ErrInvalid) {
		t.Errorf("SetVector(no model) = %v, want ErrInvalid", err)
	}
}

func testTouch(t *testing.T, s memory.Store) {
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	id := put(t, s, memory.Memory{Content: "touch me", CreatedAt: old})
	other := put(t, s, memory.Memory{Content: "leave me", CreatedAt: old})
	if err := s.Touch(ctx(t), []string{id, memory.NewID(time.Now())}); err != nil {
		t.Fatal(err)
	}
	m, _ := s.Get(ctx(t), id)
	if time.Since(m.AccessedAt) > time.Minute {
		t.Errorf("AccessedAt = %v, want about now", m.AccessedAt)
	}
	if !sameTime(m.UpdatedAt, old) || !sameTime(m.CreatedAt, old) {
		t.Errorf("Touch changed CreatedAt/UpdatedAt: %v / %v", m.CreatedAt, m.UpdatedAt)
	}
	o, _ := s.Get(ctx(t), other)
	if !sameTime(o.AccessedAt, old) {
		t.Errorf("Touch changed another memory: %v", o.AccessedAt)
	}
	if err := s.Touch(ctx(t), nil); err != nil {
		t.Errorf("Touch(nil) = %v", err)
	}
}

func testStats(t *testing.T, s memory.Store) {
	st, err := s.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 0 || st.SchemaVers < 1 {
		t.Errorf("empty Stats = %+v", st)
	}
	put(t, s, memory.Memory{Content: "a", Vector: Vec(1)})
	put(t, s, memory.Memory{Content: "b", Vector: Vec(1), Model: modelB})
	put(t, s, memory.Memory{Content: "c", Project: projY})
	put(t, s, memory.Memory{Content: "d", Project: memory.GlobalProject, Vector: Vec(1)})
	st, err = s.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 4 {
		t.Errorf("Total = %d, want 4", st.Total)
	}
	if w := map[string]int{projX: 2, projY: 1, memory.GlobalProject: 1}; !mapsEqual(st.ByProject, w) {
		t.Errorf("ByProject = %v, want %v", st.ByProject, w)
	}
	if w := map[string]int{modelA: 2, modelB: 1, "": 1}; !mapsEqual(st.ByModel, w) {
		t.Errorf("ByModel = %v, want %v", st.ByModel, w)
	}
	// A second size under one model (what a bad import left behind before
	// import checked sizes) shows in DimsByModel, for doctor to report.
	put(t, s, memory.Memory{Content: "e", Vector: []float32{0.6, 0.8}, Model: modelA})
	if st, err = s.Stats(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if g := st.DimsByModel; len(g) != 2 || !mapsEqual(intKeys(g[modelA]), map[string]int{"8": 2, "2": 1}) || !mapsEqual(intKeys(g[modelB]), map[string]int{"8": 1}) {
		t.Errorf("DimsByModel = %v, want %s: {8: 2, 2: 1}, %s: {8: 1}", g, modelA, modelB)
	}
	if st.Path == "" {
		t.Error("Stats.Path is empty")
	}
}

func intKeys(m map[int]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[strconv.Itoa(k)] = v
	}
	return out
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testConcurrentPuts(t *testing.T, s memory.Store) {
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := memory.Memory{Content: fmt.Sprintf("worker %d item %d", w, i), Project: projX, Source: memory.SourceCLI,
					Vector: Vec(1, float64(w), float64(i)), Model: modelA}
				if _, err := s.Put(ctx(t), &m); err != nil {
					errs <- err
				}
				if i%5 == 0 {
					if _, err := s.Search(ctx(t), memory.Query{Text: "worker", Vector: Vec(1), Model: modelA}); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != workers*each {
		t.Errorf("Total = %d, want %d", st.Total, workers*each)
	}
	hits := search(t, s, memory.Query{Vector: Vec(1), Model: modelA, Mode: memory.ModeSemantic, K: memory.MaxK})
	if len(hits) != memory.MaxK {
		t.Errorf("semantic search after concurrent puts found %d, want %d", len(hits), memory.MaxK)
	}
}
