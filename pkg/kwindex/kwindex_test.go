package kwindex

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// words splits on spaces (the tests need a tokenizer, not FTS5's); a word
// stems to itself.
func words(text string, buf []byte, emit func([]byte)) []byte {
	for _, w := range strings.Fields(text) {
		buf = append(buf[:0], w...)
		emit(buf)
	}
	return buf
}

func same(tok []byte) []byte { return tok }

type meta struct{ project string }

// reference ranks by scoring every document from scratch with FTS5's bm25.
func reference(docs map[string]refDoc, terms []string, k int, keep func(*meta) bool) []Hit[meta] {
	n := float64(len(docs))
	var tokens float64
	df := map[string]float64{}
	for _, d := range docs {
		ws := strings.Fields(d.text)
		tokens += float64(len(ws))
		seen := map[string]bool{}
		for _, w := range ws {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
	}
	avgdl := tokens / n
	var out []Hit[meta]
	for _, d := range docs {
		ws := strings.Fields(d.text)
		score, hit := 0.0, false
		for _, t := range terms {
			f := 0.0
			for _, w := range ws {
				if w == t {
					f++
				}
			}
			if f > 0 {
				hit = true
			}
			idf := math.Log((n - df[t] + 0.5) / (df[t] + 0.5))
			if idf <= 0 {
				idf = 1e-6
			}
			score += idf * ((f * (k1 + 1.0)) / (f + k1*(1-b+b*float64(len(ws))/avgdl)))
		}
		if hit && (keep == nil || keep(&d.meta)) {
			out = append(out, Hit[meta]{Meta: d.meta, Rank: d.rank, Score: score})
		}
	}
	sort.Slice(out, func(i, j int) bool { return better(out[i].Score, out[i].Rank, out[j].Score, out[j].Rank) })
	if len(out) > k {
		out = out[:k]
	}
	return out
}

type refDoc struct {
	text string
	rank int64
	meta meta
}

// Random upserts, replacements and removals (enough to compact several
// times), each search compared with the reference; with the keys' hashes
// all colliding too.
func TestSearchMatchesReference(t *testing.T) {
	t.Run("hashed", func(t *testing.T) { testSearchMatchesReference(t, false) })
	t.Run("collisions", func(t *testing.T) { testSearchMatchesReference(t, true) })
}

func testSearchMatchesReference(t *testing.T, collide bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Zipf-like vocabulary: a few words in most documents, many rare.
	vocab := make([]string, 300)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%d", i)
	}
	word := func() string { return vocab[int(math.Pow(rng.Float64(), 3)*float64(len(vocab)))] }
	text := func() string {
		n := rng.IntN(30)
		if rng.IntN(300) == 0 {
			n = normTable + rng.IntN(200) // past the search's table of lengths
		}
		ws := make([]string, n)
		for i := range ws {
			ws[i] = word()
		}
		return strings.Join(ws, " ")
	}
	x := New[meta](words, same)
	if collide {
		x.hash = func(k string) uint64 { return uint64(len(k) % 3) }
	}
	docs := map[string]refDoc{}
	var keys []string
	rank := int64(0)
	for step := range 12000 {
		switch r := rng.IntN(10); {
		case r < 6 || len(keys) == 0:
			rank++
			key := fmt.Sprintf("d%d", rank)
			d := refDoc{text: text(), rank: rank, meta: meta{project: fmt.Sprint("p", rng.IntN(3))}}
			x.Upsert(key, d.rank, d.meta, d.text)
			docs[key] = d
			keys = append(keys, key)
		case r < 8:
			key := keys[rng.IntN(len(keys))]
			rank++
			d := refDoc{text: text(), rank: rank, meta: meta{project: "p0"}}
			x.Upsert(key, d.rank, d.meta, d.text)
			docs[key] = d
		default:
			i := rng.IntN(len(keys))
			x.Remove(keys[i])
			delete(docs, keys[i])
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
		}
		if step%97 != 0 || len(docs) == 0 {
			continue
		}
		terms := make([]string, 1+rng.IntN(6))
		for i := range terms {
			terms[i] = word()
		}
		if rng.IntN(5) == 0 {
			terms = append(terms, terms[0], "absent")
		}
		k := 1 + rng.IntN(20)
		var keep func(*meta) bool
		if rng.IntN(2) == 0 {
			keep = func(m *meta) bool { return m.project != "p1" }
		}
		got := x.Search(terms, k, keep)
		want := reference(docs, terms, k, keep)
		if len(got) != len(want) {
			t.Fatalf("step %d %v k=%d: %d hits, want %d", step, terms, k, len(got), len(want))
		}
		for i := range got {
			if got[i].Rank != want[i].Rank || math.Abs(got[i].Score-want[i].Score) > 1e-9*math.Abs(want[i].Score) || got[i].Meta != want[i].Meta ||
				docs[got[i].Key].rank != got[i].Rank {
				t.Fatalf("step %d %v k=%d: hit %d is %+v, want %+v", step, terms, k, i, got[i], want[i])
			}
		}
	}
	if x.Len() != len(docs) {
		t.Fatalf("Len %d, want %d", x.Len(), len(docs))
	}
	if n := x.prunedSearches.Load(); n < 10 {
		t.Fatalf("%d searches left common terms out: the test does not check that path", n)
	}
	if x.compactions < 2 {
		t.Fatalf("the index compacted %d times, want several", x.compactions)
	}
}

// A document's terms are counted once per occurrence, and a removed or
// replaced document is no longer found by its old words.
func TestUpsertRemove(t *testing.T) {
	x := New[meta](words, same)
	x.Upsert("a", 1, meta{}, "red red blue")
	x.Upsert("b", 2, meta{}, "blue green")
	if got := x.Search([]string{"red"}, 5, nil); len(got) != 1 || got[0].Rank != 1 {
		t.Fatalf("red: %+v", got)
	}
	x.Upsert("a", 3, meta{}, "green")
	if got := x.Search([]string{"red"}, 5, nil); len(got) != 0 {
		t.Fatalf("red after replacing a: %+v", got)
	}
	if got := x.Search([]string{"green"}, 5, nil); len(got) != 2 || got[0].Rank != 3 {
		t.Fatalf("green: %+v (a tie: the larger rank first)", got)
	}
	x.Remove("b")
	x.Remove("nope")
	if got := x.Search([]string{"blue", "green"}, 5, nil); len(got) != 1 || got[0].Rank != 3 {
		t.Fatalf("after removing b: %+v", got)
	}
	if x.Len() != 1 || x.tokens != 1 {
		t.Fatalf("Len %d tokens %d, want 1 1", x.Len(), x.tokens)
	}
	if got := x.Search(nil, 5, nil); got != nil {
		t.Fatalf("no terms: %+v", got)
	}
}

func BenchmarkSearch(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 2000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%d", i)
	}
	word := func() string { return vocab[int(math.Pow(rng.Float64(), 4)*float64(len(vocab)))] }
	x := New[meta](words, same)
	for i := range 100000 {
		ws := make([]string, 20)
		for j := range ws {
			ws[j] = word()
		}
		x.Upsert(fmt.Sprint(i), int64(i), meta{}, strings.Join(ws, " "))
	}
	queries := make([][]string, 64)
	for i := range queries {
		for range 6 {
			queries[i] = append(queries[i], word())
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Search(queries[i%len(queries)], 30, nil)
	}
}

// A common term's weight decides between two documents whose other terms
// score within a millionth of each other: the pruned search must still
// look at the one behind (long documents make lengths nearly equal; a
// term in half the documents nearly weightless).
func TestCommonTermDecidesNearTie(t *testing.T) {
	x := New[meta](words, same)
	docs := map[string]refDoc{}
	add := func(key, text string) {
		r := int64(len(docs) + 1)
		x.Upsert(key, r, meta{}, text)
		docs[key] = refDoc{text: text, rank: r}
	}
	filler := strings.Repeat(" f", 2999)
	for i := range 497 {
		add(fmt.Sprint("a", i), "a"+filler)
	}
	for i := range 501 {
		add(fmt.Sprint("c", i), "c"+filler)
	}
	add("behind", "a c c") // longer: its "a" weighs a little less; "c" makes up for it
	add("ahead", "a z")
	want := reference(docs, []string{"a", "c"}, 1, nil)
	if want[0].Rank != docs["behind"].rank {
		t.Fatalf("the case is not built as meant: %+v ranks first", want[0])
	}
	before := x.prunedSearches.Load()
	got := x.Search([]string{"a", "c"}, 1, nil)
	if x.prunedSearches.Load() == before {
		t.Fatal("the search did not take the pruned path")
	}
	if len(got) != 1 || got[0].Rank != want[0].Rank {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
