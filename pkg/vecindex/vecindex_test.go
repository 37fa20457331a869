package vecindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
)

func unit(r *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	var n float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		n += x * x
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestSearchMatchesBruteForce checks top-k against a plain sort, through
// inserts, replacements and swap-removals.
func TestSearchMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := New()
	vecs := map[string][]float32{}
	for i := range 500 {
		id := fmt.Sprintf("id%04d", i)
		v := unit(r, 16)
		if i%2 == 0 {
			x.Upsert("m", Meta{ID: id, Attrs: Attrs{Project: fmt.Sprint(i % 3)}}, v)
		} else { // the store's path: little-endian bytes
			le := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(le[4*j:], math.Float32bits(f))
			}
			x.UpsertLE("m", Meta{ID: id, Attrs: Attrs{Project: fmt.Sprint(i % 3)}}, le)
		}
		vecs[id] = v
	}
	for i := 0; i < 500; i += 7 { // remove some
		id := fmt.Sprintf("id%04d", i)
		x.Remove(id)
		delete(vecs, id)
	}
	for i := 1; i < 500; i += 11 { // replace some (skipping removed ones is fine)
		id := fmt.Sprintf("id%04d", i)
		if _, ok := vecs[id]; ok {
			v := unit(r, 16)
			x.Upsert("m", Meta{ID: id, Attrs: Attrs{Project: fmt.Sprint(i % 3)}}, v)
			vecs[id] = v
		}
	}
	x.Upsert("other", Meta{ID: "foreign"}, unit(r, 16))
	if x.Len() != len(vecs)+1 {
		t.Fatalf("Len = %d, want %d", x.Len(), len(vecs)+1)
	}
	q := unit(r, 16)
	type sc struct {
		id string
		s  float32
	}
	var all []sc
	for id, v := range vecs {
		all = append(all, sc{id, dot(q, v)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
	got := x.Search("m", q, 10, -2, nil)
	if len(got) != 10 {
		t.Fatalf("got %d results", len(got))
	}
	for i, g := range got {
		if g.ID != all[i].id || math.Abs(float64(g.Score-all[i].s)) > 1e-5 {
			t.Errorf("rank %d: %s %.5f, want %s %.5f", i, g.ID, g.Score, all[i].id, all[i].s)
		}
	}
	// Filter and threshold.
	for _, g := range x.Search("m", q, 1000, 0.2, func(m *Attrs) bool { return m.Project == "1" }) {
		if g.Project != "1" || g.Score < 0.2 {
			t.Errorf("filtered result %+v", g)
		}
	}
	if got := x.Search("m", q[:8], 10, -2, nil); len(got) != 0 {
		t.Errorf("query of another dimension matched %d vectors", len(got))
	}
	if got := x.Search("nope", q, 10, -2, nil); len(got) != 0 {
		t.Errorf("unknown model matched %d vectors", len(got))
	}
	if s, ok := x.Similarity("m", all[0].id, q); !ok || math.Abs(float64(s-all[0].s)) > 1e-5 {
		t.Errorf("Similarity = %v %v", s, ok)
	}
	// Moving a vector to another model removes it from the first.
	x.Upsert("other", Meta{ID: all[0].id}, q)
	if got := x.Search("m", q, 1, -2, nil); got[0].ID == all[0].id {
		t.Error("vector still in its old model after moving")
	}
}

// exhaustive is the reference a search must equal: every row's full
// score, filtered, sorted, cut at k.
func exhaustive(x *Index, model string, q []float32, k int, minScore float32, keep func(*Attrs) bool) []Result {
	p := x.parts[key{model, len(q)}]
	var all []Result
	for i := range p.rows {
		m := x.meta(p, i)
		if s := p.score(q, i); s >= minScore && (keep == nil || keep(&m.Attrs)) {
			all = append(all, Result{Meta: m, Score: s})
		}
	}
	sort.Slice(all, func(i, j int) bool { return better(all[i].Score, all[i].ID, all[j].Score, all[j].ID) })
	return all[:min(k, len(all))]
}

func sameResults(t *testing.T, what string, got, want []Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
			t.Fatalf("%s: result %d is %s %v, want %s %v", what, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
		}
	}
}

// plans are the splits a test runs every search with: sequential first
// (the reference), then workers claiming chunks of odd sizes, so chunk
// ends fall inside kernel blocks and the last chunk is short, and what
// Search itself picks.
var plans = []scanPlan{{1, 0}, {2, 7}, {3, 1024}, {4, 333}, {8, 50}, {}}

// searchAllPlans runs a search under every plan, checks they all return
// the same (ids, order, scores) and that it is what scoring every row in
// full returns, and returns it.
func searchAllPlans(t *testing.T, what string, x *Index, q []float32, k int, minScore float32, keep func(*Attrs) bool) []Result {
	t.Helper()
	seq := x.search("m", q, k, minScore, keep, plans[0])
	sameResults(t, what+", sequential vs exhaustive", seq, exhaustive(x, "m", q, k, minScore, keep))
	for _, pl := range plans[1:] {
		sameResults(t, fmt.Sprintf("%s, %+v vs sequential", what, pl), x.search("m", q, k, minScore, keep, pl), seq)
	}
	return seq
}

// A scan split among workers returns exactly what the sequential scan
// returns, and both what scoring every row in full returns: with a
// filter, a floor, k beyond the number of rows, and after removals (whose
// swaps move rows between chunks).
func TestParallelScanMatchesSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	r := rand.New(rand.NewPCG(3, 4))
	x := New()
	const n = 5000
	for i := range n {
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i), Attrs: Attrs{Project: fmt.Sprint(i % 3)}}, unit(r, 32))
	}
	for i := 0; i < n; i += 7 {
		x.Remove(fmt.Sprintf("%08d", i))
	}
	// Exact duplicates, spread over the chunks: equal scores, ranked by id.
	dup := unit(r, 32)
	for i := range 40 {
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i*113+1)}, dup)
	}
	for _, k := range []int{5, 40, 60} {
		got := searchAllPlans(t, fmt.Sprintf("duplicates k=%d", k), x, dup, k, -2, nil)
		if got[0].Score != got[min(k, 40)-1].Score || got[0].ID < got[1].ID {
			t.Fatalf("duplicates k=%d: not tied, or not newest first: %v", k, got[:2])
		}
	}
	left := x.Len()
	var calls atomic.Int64
	keep := func(m *Attrs) bool { calls.Add(1); return m.Project != "1" }
	for _, k := range []int{1, 10, 200, left + 5} {
		for trial := range 3 {
			q := unit(r, 32)
			what := fmt.Sprintf("k=%d trial %d", k, trial)
			searchAllPlans(t, what+" filtered", x, q, k, -0.5, keep)
			searchAllPlans(t, what+" floor 0.1", x, q, k, 0.1, nil)
			got := searchAllPlans(t, what, x, q, k, -2, nil)
			if want := min(k, left); len(got) != want {
				t.Fatalf("%s: %d results, want %d", what, len(got), want)
			}
		}
	}
	if calls.Load() == 0 {
		t.Fatal("keep never called")
	}
	// Search splits a large partition and scans a small one alone.
	if w := planScan(100000, 384).workers; w != 4 {
		t.Errorf("100k 384-d vectors, GOMAXPROCS 4: %d workers, want 4", w)
	}
	if w := planScan(5000, 384).workers; w != 1 {
		t.Errorf("5k 384-d vectors: %d workers, want 1", w)
	}
	runtime.GOMAXPROCS(1)
	if w := planScan(100000, 384).workers; w != 1 {
		t.Errorf("GOMAXPROCS 1: %d workers, want 1", w)
	}
}

// Split searches run beside writers: the read lock covers every worker,
// and the filter's reads of the project and tag tables (run with -race).
func TestParallelScanBesideWriters(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := New()
	vs := make([][]float32, 3000)
	for i := range vs {
		vs[i] = unit(r, 32)
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i)}, vs[i])
	}
	q := unit(r, 32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			id := fmt.Sprintf("%08d", i*7%len(vs))
			if i%2 == 0 {
				x.Remove(id)
			} else { // new projects and tag lists: the tables grow under searches
				x.Upsert("m", Meta{ID: id, Attrs: Attrs{Project: fmt.Sprint(i), Tags: []string{fmt.Sprint(i % 17)}}}, vs[i])
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for range 50 {
				if got := x.search("m", q, 10, -2, func(a *Attrs) bool { return a.Project != "x" || len(a.Tags) < 5 }, scanPlan{2 + g, 100}); len(got) != 10 {
					t.Errorf("%d results", len(got))
					return
				}
			}
		})
	}
	wg.Wait()
	<-done
}

// TestNearTwins: vectors whose high bytes are all equal differ only in
// their low bytes, so the ranking rests entirely on the refinement and on
// the bounds letting every twin through. A search on high bytes alone, or
// bounds that are too tight, fail here.
func TestNearTwins(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const d = 384
	base := unit(r, d)
	x := New()
	for i := range 3000 {
		v := slices.Clone(base)
		for j := range v {
			v[j] += float32(r.NormFloat64()) * 2e-5 // well inside one high-byte step
		}
		x.Upsert("m", Meta{ID: fmt.Sprintf("%05d", i)}, v)
	}
	for i := range 3000 { // and unrelated vectors around them
		x.Upsert("m", Meta{ID: fmt.Sprintf("z%05d", i)}, unit(r, d))
	}
	for trial := range 5 {
		q := slices.Clone(base)
		for j := range q {
			q[j] += float32(r.NormFloat64()) * 0.01
		}
		for _, k := range []int{1, 10, 50} {
			searchAllPlans(t, fmt.Sprintf("trial %d k=%d", trial, k), x, q, k, -2, nil)
		}
	}
}

// TestStoredVectorsAreClose: what the index scores is within the
// documented bound (s·√d/2, about 6e-5 at 384 dimensions) of the float64
// cosine of the original vectors, and the top 10 are the true top 10
// unless two true scores are closer than twice that.
func TestStoredVectorsAreClose(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const d, n = 384, 20000
	x := New()
	orig := make([][]float32, n)
	for i := range n {
		orig[i] = unit(r, d)
		x.Upsert("m", Meta{ID: fmt.Sprintf("%06d", i)}, orig[i])
	}
	for trial := range 20 {
		q := unit(r, d)
		type sc struct {
			id string
			s  float64
		}
		all := make([]sc, n)
		var worst float64
		for i, v := range orig {
			var e float64
			for j := range v {
				e += float64(q[j]) * float64(v[j])
			}
			all[i] = sc{fmt.Sprintf("%06d", i), e}
			if trial == 0 {
				got, _ := x.Similarity("m", all[i].id, q)
				worst = max(worst, math.Abs(float64(got)-e))
			}
		}
		if trial == 0 {
			if worst > 1e-4 {
				t.Fatalf("stored vectors score up to %g away from the originals", worst)
			}
			t.Logf("largest score difference from float64 over %d vectors: %.2g", n, worst)
		}
		sort.Slice(all, func(i, j int) bool { return all[i].s > all[j].s })
		for i, g := range x.Search("m", q, 10, -2, nil) {
			if g.ID != all[i].id && math.Abs(all[i].s-all[i+1].s) > 2e-4 && (i == 0 || math.Abs(all[i].s-all[i-1].s) > 2e-4) {
				t.Fatalf("trial %d rank %d: %s, want %s (%.6f)", trial, i, g.ID, all[i].id, all[i].s)
			}
			if math.Abs(float64(g.Score)-all[i].s) > 1e-4 {
				t.Fatalf("trial %d rank %d: score %v, want %.6f", trial, i, g.Score, all[i].s)
			}
		}
	}
}

// Degenerate vectors: zeros, and non-finite components (stored as 0).
func TestQuantizeEdgeCases(t *testing.T) {
	x := New()
	x.Upsert("m", Meta{ID: "zero"}, make([]float32, 16))
	bad := make([]float32, 16)
	bad[0], bad[1], bad[2] = float32(math.NaN()), float32(math.Inf(1)), 0.5
	x.Upsert("m", Meta{ID: "bad"}, bad)
	q := make([]float32, 16)
	q[2] = 1
	if s, _ := x.Similarity("m", "zero", q); s != 0 {
		t.Errorf("zero vector scores %v", s)
	}
	if s, _ := x.Similarity("m", "bad", q); math.Abs(float64(s)-0.5) > 1e-4 {
		t.Errorf("vector with NaN and Inf scores %v, want 0.5", s)
	}
	// Extremes land on the largest codes without overflowing a byte.
	hi, lo := make([]int8, 4), make([]int8, 4)
	s, _ := quantize([]float32{1, -1, 0.5, -0.999999}, hi, lo)
	for j, want := range []float64{1, -1, 0.5, -0.999999} {
		if got := float64(s) * (256*float64(hi[j]) + float64(lo[j])); math.Abs(got-want) > 1e-4 {
			t.Errorf("component %d: decoded %v, want %v (hi %d lo %d)", j, got, want, hi[j], lo[j])
		}
	}
}

// BenchmarkQuantize: the cost per vector a process pays while it loads its
// index (100k of them at a first search).
func BenchmarkQuantize(b *testing.B) {
	v := unit(rand.New(rand.NewPCG(1, 1)), 384)
	hi, lo := make([]int8, 384), make([]int8, 384)
	for b.Loop() {
		quantize(v, hi, lo)
	}
}

// randomIndex holds n random 384-d unit vectors under model "m".
func randomIndex(n int, seed uint64) *Index {
	r := rand.New(rand.NewPCG(seed, seed))
	x := New()
	x.SizeHint("m", n)
	for i := range n {
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i)}, unit(r, 384))
	}
	return x
}

// BenchmarkSearch: one search, k = 10, over n random 384-d vectors, the
// scan on one goroutine (workers=1) and split in slices; workers=auto is
// what Search chooses.
func BenchmarkSearch(b *testing.B) {
	for _, n := range benchSizes {
		x := randomIndex(n, 9)
		qs := make([][]float32, 16)
		r := rand.New(rand.NewPCG(10, 10))
		for i := range qs {
			qs[i] = unit(r, 384)
		}
		for _, w := range []int{1, 2, 0} {
			name := fmt.Sprintf("n=%d/workers=%d", n, w)
			if w == 0 {
				name = fmt.Sprintf("n=%d/workers=auto(%d)", n, planScan(n, 384).workers)
			}
			b.Run(name, func(b *testing.B) {
				i := 0
				for b.Loop() {
					x.search("m", qs[i%len(qs)], 10, -2, nil, scanPlan{w, scanChunk})
					i++
				}
			})
		}
	}
}

var benchSizes = []int{4096, 8192, 32768, 100000}

// refEntry is what a reference keeps of a live id.
type refEntry struct {
	model string
	meta  Meta
	v     []float32
}

// churn applies random upserts (new ids, replacements, moves between
// models), removals and searches to x and to a plain map, and checks x
// against the map after each step: Len, Similarity of live and removed
// ids, and a search returning every row (ids and attributes). x2, fed the
// same operations, must return exactly what x returns to top-k searches
// (ids, order, scores): the rows' order does not depend on the hash.
func churn(t *testing.T, x, x2 *Index, seed uint64, steps, ids int) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	ref := map[string]refEntry{}
	projects := []string{"", "a", "b\x00c"}
	tagLists := [][]string{nil, {""}, {"x"}, {"x", "y"}, {"x\x00y"}}
	idOf := func() string { // lengths vary, so arena offsets do
		i := r.IntN(ids)
		return fmt.Sprintf("%0*d", 1+i%13, i)
	}
	for step := range steps {
		id := idOf()
		switch op := r.IntN(10); {
		case op < 6:
			model := []string{"m", "n"}[r.IntN(2)]
			m := Meta{ID: id, Attrs: Attrs{Project: projects[r.IntN(len(projects))], Tags: tagLists[r.IntN(len(tagLists))],
				Created: r.Int64N(1e12), Superseded: r.IntN(2) == 0, Pinned: r.IntN(3) == 0}}
			v := unit(r, 8)
			x.Upsert(model, m, v)
			x2.Upsert(model, m, v)
			ref[id] = refEntry{model, m, v}
		case op < 9:
			x.Remove(id)
			x2.Remove(id)
			delete(ref, id)
		default:
			q := unit(r, 8)
			keep := func(a *Attrs) bool { return a.Project != "a" }
			for _, model := range []string{"m", "n"} {
				sameResults(t, fmt.Sprintf("step %d %s", step, model), x.Search(model, q, 7, -2, keep), x2.Search(model, q, 7, -2, keep))
			}
		}
		if x.Len() != len(ref) {
			t.Fatalf("step %d: Len %d, want %d", step, x.Len(), len(ref))
		}
		if e, ok := ref[id]; ok {
			if s, ok := x.Similarity(e.model, id, e.v); !ok || math.Abs(float64(s)-1) > 1e-3 {
				t.Fatalf("step %d: Similarity(%q) = %v %v", step, id, s, ok)
			}
		} else if _, ok := x.Similarity("m", id, unit(r, 8)); ok {
			t.Fatalf("step %d: removed %q still found", step, id)
		}
		if step%50 != 0 {
			continue
		}
		for _, model := range []string{"m", "n"} {
			got := x.Search(model, unit(r, 8), len(ref)+1, -2, nil)
			n := 0
			for _, e := range ref {
				if e.model == model {
					n++
				}
			}
			if len(got) != n {
				t.Fatalf("step %d: %s holds %d, want %d", step, model, len(got), n)
			}
			for _, g := range got {
				e, ok := ref[g.ID]
				if !ok || e.model != model || g.Project != e.meta.Project || !slices.Equal(g.Tags, e.meta.Tags) ||
					(g.Tags == nil) != (e.meta.Tags == nil) || g.Created != e.meta.Created ||
					g.Superseded != e.meta.Superseded || g.Pinned != e.meta.Pinned {
					t.Fatalf("step %d: result %+v, reference %+v", step, g.Meta, e.meta)
				}
			}
		}
	}
}

// Every id hashes alike: all but one live id of a partition are found
// through collided, and swap-removals move rows between the two maps'
// keeping. The index must behave as one whose hashes differ.
func TestEveryHashCollides(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(string) uint64
	}{
		{"one hash", func(string) uint64 { return 7 }},
		{"three hashes", func(id string) uint64 { return uint64(len(id) % 3) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := New()
			x.hash = tc.hash
			churn(t, x, New(), 21, 4000, 300)
			collided := 0
			for _, p := range x.parts {
				collided += p.rowOf.Collided()
			}
			if collided == 0 {
				t.Fatal("no id went to collided")
			}
		})
	}
	// And with real hashes, against the same reference.
	churn(t, New(), New(), 22, 2000, 300)
}

// Replacing the same ids over and over leaves their old bytes in the id
// arena; it is compacted, so its size stays bounded by what is live.
func TestIDArenaCompactedUnderChurn(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	x := New()
	const ids = 500
	vs := make([][]float32, ids)
	for round := range 300 {
		for i := range ids {
			if round%7 == 3 && i%5 == 0 {
				x.Remove(fmt.Sprintf("memory-%06d", i))
				continue
			}
			vs[i] = unit(r, 8)
			x.Upsert("m", Meta{ID: fmt.Sprintf("memory-%06d", i)}, vs[i])
		}
		p := x.parts[key{"m", 8}]
		live := len(p.ids) - p.garbage
		if len(p.ids) > 2*live+minIDGarbage+64 {
			t.Fatalf("round %d: arena %d bytes for %d live", round, len(p.ids), live)
		}
	}
	if x.compactions == 0 {
		t.Fatal("the arena was never compacted")
	}
	t.Logf("%d compactions", x.compactions)
	p := x.parts[key{"m", 8}]
	live := 0
	for i := range p.rows {
		live += len(p.id(i))
	}
	if live != len(p.ids)-p.garbage {
		t.Fatalf("garbage %d, but %d of %d bytes are live", p.garbage, live, len(p.ids))
	}
	for i, v := range vs { // every id is found after the compactions moved them
		if s, ok := x.Similarity("m", fmt.Sprintf("memory-%06d", i), v); !ok || math.Abs(float64(s)-1) > 1e-3 {
			t.Fatalf("memory %d: Similarity %v %v", i, s, ok)
		}
	}
	sameResults(t, "after compactions", x.search("m", vs[0], 10, -2, nil, plans[0]), exhaustive(x, "m", vs[0], 10, -2, nil))
	// Removing everything empties the arena.
	for i := range ids {
		x.Remove(fmt.Sprintf("memory-%06d", i))
	}
	if p.garbage != 0 || len(p.ids) != 0 {
		t.Fatalf("empty partition: arena %d bytes, garbage %d", len(p.ids), p.garbage)
	}
}

// The index keeps its own copy of a tag list: the caller may reuse its
// slice. And a filtered search builds nothing per row it scans.
func TestAttrsAreKept(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	x := New()
	tags := []string{"a", "b"}
	x.Upsert("m", Meta{ID: "one", Attrs: Attrs{Project: "p", Tags: tags, Created: 5, Pinned: true}}, unit(r, 8))
	tags[0] = "changed"
	got := x.Search("m", unit(r, 8), 1, -2, nil)
	if len(got) != 1 || got[0].ID != "one" || got[0].Project != "p" || !slices.Equal(got[0].Tags, []string{"a", "b"}) ||
		got[0].Created != 5 || !got[0].Pinned || got[0].Superseded {
		t.Fatalf("got %+v", got)
	}
	for i := range 5000 {
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i), Attrs: Attrs{Project: fmt.Sprint(i % 3)}}, unit(r, 8))
	}
	q := unit(r, 8)
	keep := func(a *Attrs) bool { return a.Project != "1" }
	all := testing.AllocsPerRun(20, func() { x.search("m", q, 10, -2, nil, plans[0]) })
	if n := testing.AllocsPerRun(20, func() { x.search("m", q, 10, -2, keep, plans[0]) }); n > all {
		t.Errorf("a filtered search of 5000 rows allocates %v times, %v unfiltered", n, all)
	}
	t.Logf("%v allocations per search, 10 results", all)
}
