// Package vecindex is the in-memory exact vector index each mnemo process
// keeps: one flat float32 slab per model, scanned with vek32 dot products.
// Vectors are L2-normalised, so the dot product is the cosine similarity.
//
// An exact scan is the baseline on purpose: at the sizes a personal memory
// store reaches (10⁴–10⁵ vectors) it answers in milliseconds, returns the true
// nearest neighbours, and needs no build step, so every process can load it
// lazily and keep it current from the store's change log.
package vecindex

import (
	"container/heap"
	"encoding/binary"
	"math"
	"runtime"
	"sort"
	"sync"

	"github.com/viterin/vek/vek32"
)

// Meta is what a filter may look at without touching the store.
type Meta struct {
	ID      string
	Project string
	Created int64    // unix ms
	Tags    []string // normalised (sorted)
	// Superseded and Pinned mirror the memory's state for search filters.
	Superseded bool
	Pinned     bool
}

// Result is one scored entry.
type Result struct {
	Meta
	Score float32 // cosine similarity
}

// key names a partition: vectors of one model and one dimension. A model id
// always has one dimension; keying by both keeps a mislabelled vector from
// ever being compared with vectors of another shape.
type key struct {
	model string
	dims  int
}

// partition holds the vectors of one model and dimension.
type partition struct {
	dims  int
	metas []Meta
	vecs  []float32 // len(metas)*dims, row i at [i*dims:(i+1)*dims]
	pos   map[string]int
}

// Index is safe for concurrent use.
type Index struct {
	mu    sync.RWMutex
	parts map[key]*partition
	where map[string]key // id → partition of its vector
	hints map[string]int // model → expected number of vectors
}

// New returns an empty index.
func New() *Index {
	return &Index{parts: map[key]*partition{}, where: map[string]key{}, hints: map[string]int{}}
}

// SizeHint says how many vectors of model to expect, so the first insert
// allocates room for all of them.
func (x *Index) SizeHint(model string, n int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.hints[model] = n
}

// Len returns the number of vectors held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.where)
}

// CountByModel returns how many vectors each model has.
func (x *Index) CountByModel() map[string]int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := map[string]int{}
	for k, p := range x.parts {
		out[k.model] += len(p.metas)
	}
	return out
}

// Upsert sets the vector of m.ID under model, replacing any vector it had
// (under any model). vec must be normalised; it is copied.
func (x *Index) Upsert(model string, m Meta, vec []float32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(m.ID)
	k := key{model, len(vec)}
	p := x.parts[k]
	if p == nil {
		p = x.newPartition(k)
	}
	p.pos[m.ID] = len(p.metas)
	p.metas = append(p.metas, m)
	p.grow(len(vec))
	p.vecs = append(p.vecs, vec...)
	x.where[m.ID] = k
}

// UpsertLE is Upsert for a vector stored as little-endian float32 bytes,
// decoded straight into the index (no intermediate slice). It panics if
// len(le) is not a multiple of 4; callers check.
func (x *Index) UpsertLE(model string, m Meta, le []byte) {
	n := len(le) / 4
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(m.ID)
	k := key{model, n}
	p := x.parts[k]
	if p == nil {
		p = x.newPartition(k)
	}
	p.pos[m.ID] = len(p.metas)
	p.metas = append(p.metas, m)
	p.grow(n)
	start := len(p.vecs)
	p.vecs = p.vecs[:start+n]
	for i := range n {
		p.vecs[start+i] = math.Float32frombits(binary.LittleEndian.Uint32(le[4*i:]))
	}
	x.where[m.ID] = k
}

func (x *Index) newPartition(k key) *partition {
	n := x.hints[k.model]
	p := &partition{dims: k.dims, pos: make(map[string]int, n), metas: make([]Meta, 0, n), vecs: make([]float32, 0, n*k.dims)}
	x.parts[k] = p
	return p
}

// grow makes room for n more floats, doubling the slab: append's growth
// factor for large slices (1.25) copies a 150 MB slab too many times while
// a process loads 100k vectors.
func (p *partition) grow(n int) {
	if len(p.vecs)+n <= cap(p.vecs) {
		return
	}
	c := max(2*cap(p.vecs), len(p.vecs)+n, 1024*p.dims)
	v := make([]float32, len(p.vecs), c)
	copy(v, p.vecs)
	p.vecs = v
}

// Remove drops id's vector if it has one.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *Index) removeLocked(id string) {
	k, ok := x.where[id]
	if !ok {
		return
	}
	delete(x.where, id)
	p := x.parts[k]
	i, ok := p.pos[id]
	if !ok {
		return
	}
	last := len(p.metas) - 1
	if i != last { // swap-remove keeps the slab dense
		p.metas[i] = p.metas[last]
		copy(p.vecs[i*p.dims:(i+1)*p.dims], p.vecs[last*p.dims:])
		p.pos[p.metas[i].ID] = i
	}
	p.metas[last] = Meta{}
	p.metas = p.metas[:last]
	p.vecs = p.vecs[:last*p.dims]
	delete(p.pos, id)
}

// Similarity returns the cosine between q and id's vector of model.
func (x *Index) Similarity(model, id string, q []float32) (float32, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[key{model, len(q)}]
	if p == nil {
		return 0, false
	}
	i, ok := p.pos[id]
	if !ok {
		return 0, false
	}
	return vek32.Dot(p.vecs[i*p.dims:(i+1)*p.dims], q), true
}

// Search returns the k entries of model most similar to q (best first; ties
// broken by id descending, i.e. newer first) that keep accepts (nil keeps
// all) and whose similarity is at least min. Vectors of other models or
// dimensions are never compared. keep may be called from several
// goroutines at once.
//
// The scan reads every vector of the partition (150 MB at 100k 384-d
// vectors): it is bound by memory bandwidth, which one core does not
// saturate, so a large partition is scanned in parallel slices.
func (x *Index) Search(model string, q []float32, k int, minScore float32, keep func(*Meta) bool) []Result {
	if k <= 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[key{model, len(q)}]
	if p == nil {
		return nil
	}
	n := len(p.metas)
	workers := max(1, min(runtime.GOMAXPROCS(0), n/parallelScanMin, maxScanWorkers))
	if workers == 1 {
		return sorted(p.scan(q, k, minScore, keep, 0, n))
	}
	parts := make([]minHeap, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[w] = p.scan(q, k, minScore, keep, w*n/workers, (w+1)*n/workers)
		}()
	}
	wg.Wait()
	h := parts[0]
	for _, part := range parts[1:] {
		for _, r := range part {
			h.offer(k, r)
		}
	}
	return sorted(h)
}

// Parallel scan tuning: slices of at least parallelScanMin vectors, at most
// maxScanWorkers of them.
const (
	parallelScanMin = 16384
	maxScanWorkers  = 4
)

// scan returns the best k of entries [from, to) as a heap.
func (p *partition) scan(q []float32, k int, minScore float32, keep func(*Meta) bool, from, to int) minHeap {
	h := make(minHeap, 0, k+1)
	d := p.dims
	for i := from; i < to; i++ {
		s := vek32.Dot(p.vecs[i*d:(i+1)*d], q)
		if s < minScore {
			continue
		}
		if len(h) == k && !better(s, p.metas[i].ID, h[0].Score, h[0].ID) {
			continue
		}
		if keep != nil && !keep(&p.metas[i]) {
			continue
		}
		h.offer(k, Result{Meta: p.metas[i], Score: s})
	}
	return h
}

// offer adds r to a heap holding the best k so far.
func (h *minHeap) offer(k int, r Result) {
	if len(*h) < k {
		heap.Push(h, r)
		return
	}
	if !better(r.Score, r.ID, (*h)[0].Score, (*h)[0].ID) {
		return
	}
	(*h)[0] = r
	heap.Fix(h, 0)
}

func sorted(h minHeap) []Result {
	out := []Result(h)
	sort.Slice(out, func(i, j int) bool { return better(out[i].Score, out[i].ID, out[j].Score, out[j].ID) })
	return out
}

// better orders by score descending, then id descending.
func better(s1 float32, id1 string, s2 float32, id2 string) bool {
	if s1 != s2 {
		return s1 > s2
	}
	return id1 > id2
}

// minHeap keeps the worst of the current top k at the root.
type minHeap []Result

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return better(h[j].Score, h[j].ID, h[i].Score, h[i].ID) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(v any)        { *h = append(*h, v.(Result)) }
func (h *minHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
