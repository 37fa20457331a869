package vecindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
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
			x.Upsert("m", Meta{ID: id, Project: fmt.Sprint(i % 3)}, v)
		} else { // the store's path: little-endian bytes
			le := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(le[4*j:], math.Float32bits(f))
			}
			x.UpsertLE("m", Meta{ID: id, Project: fmt.Sprint(i % 3)}, le)
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
			x.Upsert("m", Meta{ID: id, Project: fmt.Sprint(i % 3)}, v)
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
	for _, g := range x.Search("m", q, 1000, 0.2, func(m *Meta) bool { return m.Project == "1" }) {
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
func exhaustive(x *Index, model string, q []float32, k int, minScore float32, keep func(*Meta) bool) []Result {
	p := x.parts[key{model, len(q)}]
	var all []Result
	for i := range p.metas {
		if s := p.score(q, i); s >= minScore && (keep == nil || keep(&p.metas[i])) {
			all = append(all, Result{Meta: p.metas[i], Score: s})
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

// A partition large enough to be scanned in parallel slices returns
// exactly what scoring every row in full returns, filter and floor
// included.
func TestParallelScanMatchesExhaustive(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	r := rand.New(rand.NewPCG(3, 4))
	x := New()
	n := 3*parallelScanMin + 17
	for i := range n {
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i), Project: fmt.Sprint(i % 3)}, unit(r, 32))
	}
	for _, k := range []int{1, 10, 200} {
		q := unit(r, 32)
		keep := func(m *Meta) bool { return m.Project != "1" }
		sameResults(t, fmt.Sprintf("k=%d", k), x.Search("m", q, k, -0.5, keep), exhaustive(x, "m", q, k, -0.5, keep))
		sameResults(t, fmt.Sprintf("k=%d, no filter", k), x.Search("m", q, k, -2, nil), exhaustive(x, "m", q, k, -2, nil))
	}
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
			sameResults(t, fmt.Sprintf("trial %d k=%d", trial, k), x.Search("m", q, k, -2, nil), exhaustive(x, "m", q, k, -2, nil))
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
