package vecindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
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

// A partition large enough to be scanned in parallel slices returns
// exactly what one scan of everything returns, filter and floor included.
func TestParallelScanMatchesSerial(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	r := rand.New(rand.NewPCG(3, 4))
	x := New()
	n := 3*parallelScanMin + 17
	for i := range n {
		x.Upsert("m", Meta{ID: fmt.Sprintf("%08d", i), Project: fmt.Sprint(i % 3)}, unit(r, 8))
	}
	for _, k := range []int{1, 10, 200} {
		q := unit(r, 8)
		keep := func(m *Meta) bool { return m.Project != "1" }
		got := x.Search("m", q, k, -0.5, keep)
		p := x.parts[key{"m", 8}]
		want := sorted(p.scan(q, k, -0.5, keep, 0, len(p.metas)))
		if len(got) != len(want) {
			t.Fatalf("k=%d: %d results, want %d", k, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
				t.Fatalf("k=%d result %d: %s %v, want %s %v", k, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
			}
		}
	}
}
