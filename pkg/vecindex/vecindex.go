// Package vecindex is the in-memory vector index each mnemo process keeps:
// one flat slab of quantised vectors per model, scanned with the int8 dot
// kernels of embed/kernels/vec. Vectors are L2-normalised, so the dot
// product is the cosine similarity.
//
// # Storage: 16 bits per dimension, split in two bytes
//
// A vector v is stored as int16 codes c with one scale s per vector
// (c = round(v/s), s = max|v|/32639), and each code as two int8 halves,
// c = 256·hi + lo with lo in [−128, 127], kept in two slabs. 100k vectors
// of 384 dimensions take 77 MB instead of float32's 154 MB, and the
// stored vector is within s·√d/2 (about 6·10⁻⁵ for a 384-d embedding) of
// the original, far below what separates two memories.
//
// # Search: exact over the stored vectors, reading one byte per dimension
//
// A search is bound by memory traffic (every vector is read), so it reads
// only the hi slab: a = 256·s·(q·hi) approximates the score, and the part
// it leaves out, s·(q·lo), is at most ‖q‖·s·‖lo‖ (Cauchy–Schwarz), a bound
// kept per vector. Any vector whose upper bound falls below the k-th best
// lower bound cannot be in the top k; the few that can are refined with
// their lo bytes to the full score s·(q·c). The result is the exact top k
// of the stored vectors (the same as scanning them whole), for a quarter of
// float32's memory traffic. Ties are broken by id, newer (greater) first.
//
// An exact scan is the baseline on purpose: at the sizes a personal memory
// store reaches (10⁴–10⁵ vectors) it answers in milliseconds, returns the
// true nearest neighbours, and needs no build step, so every process can
// load it lazily and keep it current from the store's change log.
package vecindex

import (
	"encoding/binary"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
	"github.com/mnemo-mcp/mnemo/pkg/keyrows"
)

// Attrs is what a filter may look at without touching the store. A
// filter is not given the id: the index keeps ids as bytes in an arena
// (see partition), and a search would otherwise build a string for every
// row it scans.
type Attrs struct {
	Project string
	Created int64    // unix ms
	Tags    []string // normalised (sorted)
	// Superseded and Pinned mirror the memory's state for search filters.
	Superseded bool
	Pinned     bool
}

// Meta is an entry's id and attributes, as given to Upsert and returned in
// a Result.
type Meta struct {
	ID string
	Attrs
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

// codeMax is the largest |code|: 256·127 + 127, so that hi = ⌊(c+128)/256⌋
// stays within int8 and lo = c − 256·hi within [−128, 127].
const codeMax = 32639

// partition holds the vectors of one model and dimension; row i of each
// slab belongs to rows[i].
//
// Nothing per vector holds a pointer: a collection marks every pointer it
// finds, and at 100k vectors a Meta per row (id, project, tags) and a map
// by id string were ~400k of them, most of a full collection's work with
// a large store's indexes loaded — a stall for a search in flight. So the
// ids are back to back in one byte slice, found through a map keyed by
// their hash (as kwindex keeps its keys), and projects and tag lists are
// numbers into the Index's names.
type partition struct {
	dims  int
	rows  []row
	hi    []int8    // len(rows)*dims: the high byte of each code
	lo    []int8    // len(rows)*dims: the low byte
	scale []float32 // s: vector ≈ s·(256·hi + lo)
	slack []float32 // s·‖lo‖, rounded up: the most the lo bytes can add to a unit query's score

	// The rows' ids, back to back (a removed row's bytes stay as garbage
	// until compactIDs), and the row of each (package keyrows: no
	// pointer per id).
	ids     []byte
	garbage int // bytes of ids no row refers to
	rowOf   *keyrows.Map
}

// row is one vector's metadata, without pointers.
type row struct {
	idOff, idLen  uint32 // the id: ids[idOff : idOff+idLen]
	project, tags uint32 // numbers in names
	created       int64
	superseded    bool
	pinned        bool
}

// Names numbers distinct projects and tag lists (a handful in practice:
// the tables only grow), so that per-entry metadata holds numbers, not
// pointers. The zero value is ready; it is not safe for concurrent use
// (an Index writes its own under its write lock and reads it under its
// read lock, by Search's workers too; pkg/sqlite's keyword index keeps
// one under a lock of its own).
type Names struct {
	projects  []string
	projectNo map[string]uint32
	tags      [][]string
	tagsNo    map[string]uint32 // by the key Number builds
	key       []byte            // Number's buffer for that key
}

// Project is the project numbered p.
func (n *Names) Project(p uint32) string { return n.projects[p] }

// Tags is the tag list numbered t (shared: do not modify it).
func (n *Names) Tags(t uint32) []string { return n.tags[t] }

// Number returns the numbers of project and tags, adding them if new.
func (n *Names) Number(projectName string, tagList []string) (project, tags uint32) {
	if n.projectNo == nil {
		n.projectNo, n.tagsNo = map[string]uint32{}, map[string]uint32{}
	}
	project, ok := n.projectNo[projectName]
	if !ok {
		project = uint32(len(n.projects))
		n.projects = append(n.projects, projectName)
		n.projectNo[projectName] = project
	}
	// The key is each tag's length, then its bytes: unambiguous whatever
	// the tags hold (a separator could occur inside a tag), and [] is
	// not [""].
	n.key = n.key[:0]
	for _, t := range tagList {
		n.key = binary.AppendUvarint(n.key, uint64(len(t)))
		n.key = append(n.key, t...)
	}
	tags, ok = n.tagsNo[string(n.key)]
	if !ok {
		tags = uint32(len(n.tags))
		var keep []string // a copy of its own: the caller's slice may change
		if tagList != nil {
			keep = append(make([]string, 0, len(tagList)), tagList...)
		}
		n.tags = append(n.tags, keep)
		n.tagsNo[string(n.key)] = tags
	}
	return project, tags
}

// Index is safe for concurrent use.
type Index struct {
	mu    sync.RWMutex
	parts map[key]*partition
	hints map[string]int      // model → expected number of vectors
	tmp   []float32           // UpsertLE's decoding buffer (under mu)
	names Names               // projects and tag lists by number
	hash  func(string) uint64 // ids' hash: maphash; tests make every hash collide

	compactions int // of id arenas (tests)
}

// New returns an empty index.
func New() *Index {
	return &Index{parts: map[key]*partition{}, hints: map[string]int{},
		hash: keyrows.Hasher()}
}

// id returns row i's id, sharing the arena's bytes (compare it, do not
// keep it: the arena is rewritten when compacted).
func (p *partition) id(i int) []byte {
	r := &p.rows[i]
	return p.ids[r.idOff : r.idOff+r.idLen]
}

// idAt is id for keyrows.
func (p *partition) idAt(row uint32) []byte { return p.id(int(row)) }

// find returns the row of id, whose hash is h.
func (p *partition) find(id string, h uint64) (int, bool) {
	i, ok := p.rowOf.Find(id, h, p.idAt)
	return int(i), ok
}

// minIDGarbage: the id arena is compacted once its garbage exceeds both
// this and the live ids' bytes, so a process that replaces the same ids
// over and over keeps at most about twice the arena it needs.
const minIDGarbage = 64 << 10

// compactIDs rewrites the arena with the live ids only.
func (x *Index) compactIDs(p *partition) {
	ids := make([]byte, 0, len(p.ids)-p.garbage)
	for i := range p.rows {
		r := &p.rows[i]
		off := len(ids)
		ids = append(ids, p.ids[r.idOff:r.idOff+r.idLen]...)
		r.idOff = uint32(off)
	}
	p.ids, p.garbage = ids, 0
	x.compactions++
}

// meta returns row i's id and attributes (the id a string of its own).
func (x *Index) meta(p *partition, i int) Meta {
	m := Meta{ID: string(p.id(i))}
	x.attrs(p, i, &m.Attrs)
	return m
}

// attrs sets a to row i's attributes.
func (x *Index) attrs(p *partition, i int, a *Attrs) {
	r := &p.rows[i]
	*a = Attrs{Project: x.names.Project(r.project), Tags: x.names.Tags(r.tags), Created: r.created,
		Superseded: r.superseded, Pinned: r.pinned}
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
	n := 0
	for _, p := range x.parts {
		n += len(p.rows)
	}
	return n
}

// CountByModel returns how many vectors each model has.
func (x *Index) CountByModel() map[string]int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := map[string]int{}
	for k, p := range x.parts {
		out[k.model] += len(p.rows)
	}
	return out
}

// Upsert sets the vector of m.ID under model, replacing any vector it had
// (under any model). vec must be normalised; it is not retained.
func (x *Index) Upsert(model string, m Meta, v []float32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.upsertLocked(model, m, v)
}

// UpsertLE is Upsert for a vector stored as little-endian float32 bytes.
// It panics if len(le) is not a multiple of 4; callers check.
func (x *Index) UpsertLE(model string, m Meta, le []byte) {
	n := len(le) / 4
	x.mu.Lock()
	defer x.mu.Unlock()
	if cap(x.tmp) < n {
		x.tmp = make([]float32, n)
	}
	v := x.tmp[:n]
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(le[4*i:]))
	}
	x.upsertLocked(model, m, v)
}

func (x *Index) upsertLocked(model string, m Meta, v []float32) {
	h := x.hash(m.ID)
	x.removeLocked(m.ID, h)
	k := key{model, len(v)}
	p := x.parts[k]
	if p == nil {
		n := x.hints[model]
		p = &partition{dims: k.dims, rowOf: keyrows.New(n),
			rows: make([]row, 0, n), hi: make([]int8, 0, n*k.dims), lo: make([]int8, 0, n*k.dims),
			scale: make([]float32, 0, n), slack: make([]float32, 0, n)}
		x.parts[k] = p
	}
	if uint64(len(p.ids))+uint64(len(m.ID)) > math.MaxUint32 {
		panic("vecindex: ids exceed 4 GB") // offsets are 32 bits
	}
	pr, tg := x.names.Number(m.Project, m.Tags)
	p.rowOf.Set(m.ID, h, uint32(len(p.rows)), p.idAt)
	p.rows = append(p.rows, row{idOff: uint32(len(p.ids)), idLen: uint32(len(m.ID)), project: pr, tags: tg,
		created: m.Created, superseded: m.Superseded, pinned: m.Pinned})
	p.ids = append(p.ids, m.ID...)
	d := len(v)
	start := len(p.hi)
	p.hi, p.lo = growCodes(p.hi, d), growCodes(p.lo, d)
	s, slack := quantize(v, p.hi[start:start+d], p.lo[start:start+d])
	p.scale = append(p.scale, s)
	p.slack = append(p.slack, slack)
}

// growCodes extends b by n, doubling its capacity when full: append's
// growth factor for large slices (1.25) would copy a 38 MB slab too many
// times while a process loads 100k vectors.
func growCodes(b []int8, n int) []int8 {
	if len(b)+n > cap(b) {
		c := make([]int8, len(b), max(2*cap(b), len(b)+n, 1024*n))
		copy(c, b)
		b = c
	}
	return b[:len(b)+n]
}

// quantize writes v's codes into hi and lo and returns its scale and the
// bound on what its lo bytes can contribute to a unit query's score.
// Non-finite components (which a model never produces) are stored as 0.
// It runs once per vector a process loads (100k at a first search), so the
// loop is plain float32 arithmetic.
func quantize(v []float32, hi, lo []int8) (scale, slack float32) {
	// The largest magnitude, on the bits: a float32's magnitude orders
	// like its bits with the sign cleared, and exponent bits all ones mark
	// Inf and NaN.
	var mb, bad uint32
	for _, f := range v {
		b := math.Float32bits(f) &^ (1 << 31)
		if b >= 0x7f800000 {
			bad = 1
			continue
		}
		mb = max(mb, b)
	}
	m := math.Float32frombits(mb)
	if m == 0 {
		clear(hi)
		clear(lo)
		return 0, 0
	}
	scale = m / codeMax
	inv := 1 / scale
	hi, lo = hi[:len(v)], lo[:len(v)]
	var lo2 int64
	for j, f := range v {
		if bad != 0 && math.Float32bits(f)&^(1<<31) >= 0x7f800000 {
			f = 0
		}
		// Round to nearest (ties away from zero), branch-free (signs are
		// random: a branch would mispredict half the time): add ±0.5
		// with c's sign, truncate. Clamp: f·inv can exceed codeMax by an
		// ulp.
		c := f * inv
		half := math.Float32frombits(math.Float32bits(c)&(1<<31) | math.Float32bits(0.5))
		ci := max(-codeMax, min(codeMax, int32(c+half)))
		h := (ci + 128) >> 8 // floor division: lo lands in [−128, 127]
		l := ci - 256*h
		hi[j], lo[j] = int8(h), int8(l)
		lo2 += int64(l * l)
	}
	// Rounded up by a part in a million so float32 never rounds it below
	// the true bound.
	return scale, float32(float64(scale) * math.Sqrt(float64(lo2)) * (1 + 1e-6))
}

// Remove drops id's vector if it has one.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id, x.hash(id))
}

// removeLocked drops id (hash h).
func (x *Index) removeLocked(id string, h uint64) {
	// An id is in one partition at most; a process holds one or two (a
	// model change): looking in each costs less than a map by id, which
	// a collection would have to mark.
	var p *partition
	i, ok := 0, false
	for _, q := range x.parts {
		if i, ok = q.find(id, h); ok {
			p = q
			break
		}
	}
	if !ok {
		return
	}
	p.rowOf.Delete(id, h, uint32(i))
	p.garbage += int(p.rows[i].idLen)
	d := p.dims
	last := len(p.rows) - 1
	if i != last { // swap-remove keeps the slabs dense
		// The hash of the moving id, read in place (the hash keeps
		// nothing).
		lid := p.id(last)
		p.rowOf.Move(lid, x.hash(unsafe.String(unsafe.SliceData(lid), len(lid))), uint32(last), uint32(i))
		p.rows[i] = p.rows[last]
		copy(p.hi[i*d:(i+1)*d], p.hi[last*d:])
		copy(p.lo[i*d:(i+1)*d], p.lo[last*d:])
		p.scale[i], p.slack[i] = p.scale[last], p.slack[last]
	}
	p.rows = p.rows[:last]
	p.hi, p.lo = p.hi[:last*d], p.lo[:last*d]
	p.scale, p.slack = p.scale[:last], p.slack[:last]
	if last == 0 {
		p.ids, p.garbage = p.ids[:0], 0
	} else if p.garbage > minIDGarbage && p.garbage > len(p.ids)-p.garbage {
		x.compactIDs(p)
	}
}

// score is the full score of row i, computed exactly as a search computes
// it (bound, then refine), so Similarity and Search agree to the bit.
func (p *partition) score(q []float32, i int) float32 {
	d := p.dims
	var h [1]float32
	vec.DotsI8(q, p.hi[i*d:(i+1)*d], h[:])
	return p.refine(q, candidate{row: i, approx: 256 * p.scale[i] * h[0]})
}

// Similarity returns the cosine between q and id's stored vector of model.
func (x *Index) Similarity(model, id string, q []float32) (float32, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.parts[key{model, len(q)}]
	if p == nil {
		return 0, false
	}
	i, ok := p.find(id, x.hash(id))
	if !ok {
		return 0, false
	}
	return p.score(q, i), true
}

// Search returns the k entries of model most similar to q (best first; ties
// broken by id descending, i.e. newer first) that keep accepts (nil keeps
// all) and whose similarity is at least min. Vectors of other models or
// dimensions are never compared.
//
// keep is given a row's attributes, not its id (no string is built per
// row scanned). It must be safe for concurrent use and must neither
// modify nor keep the Attrs it is given (it is reused for the next row):
// on a large partition it is called from several goroutines at once
// (each on different rows), while Search holds the index's read lock.
//
// The scan reads one byte per dimension of every vector of the partition
// (38 MB at 100k 384-d vectors): it is bound by memory bandwidth, which
// one core does not saturate, so a large partition is scanned in parallel
// slices (see planScan). The result does not depend on how many: it is
// the exact top k either way, ordered by score, then id.
func (x *Index) Search(model string, q []float32, k int, minScore float32, keep func(*Attrs) bool) []Result {
	return x.search(model, q, k, minScore, keep, scanPlan{})
}

// scanPlan is how a scan is split: workers goroutines (the caller's
// among them) claim chunk rows at a time until none are left.
type scanPlan struct{ workers, chunk int }

// planScan splits the scan of n vectors of d dimensions: one worker per
// parallelScanBytes of high bytes, at most GOMAXPROCS and maxScanWorkers.
// A smaller partition is scanned on the caller's goroutine alone.
func planScan(n, d int) scanPlan {
	return scanPlan{workers: max(1, min(runtime.GOMAXPROCS(0), maxScanWorkers, n*d/parallelScanBytes)), chunk: scanChunk}
}

// search is Search with the scan's split given (zero: planScan decides),
// so tests run the sequential and the parallel scan on the same data.
func (x *Index) search(model string, q []float32, k int, minScore float32, keep func(*Attrs) bool, plan scanPlan) []Result {
	if k <= 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock() // held until every worker is done
	p := x.parts[key{model, len(q)}]
	if p == nil {
		return nil
	}
	n := len(p.rows)
	qn := norm(q)
	if plan.workers <= 0 {
		plan = planScan(n, p.dims)
	}
	if plan.workers > 1 { // no more workers than chunks
		plan.chunk = max(plan.chunk, 1)
		plan.workers = min(plan.workers, (n+plan.chunk-1)/plan.chunk)
	}
	if plan.workers <= 1 {
		sc := scratches.Get().(*scratch)
		b := bounds{cands: sc.cands[:0]}
		x.bound(p, &b, sc, q, qn, k, minScore, keep, 0, n)
		res := x.merge(p, q, k, minScore, b)
		sc.release(b.cands)
		return res
	}
	// Each worker keeps its own bounds and scratch; rows are claimed a
	// chunk at a time, so a worker that starts late (its core busy) takes
	// fewer of them instead of holding the others up.
	scans := make([]bounds, plan.workers)
	scr := make([]*scratch, plan.workers)
	for w := range scr {
		scr[w] = scratches.Get().(*scratch)
		scans[w].cands = scr[w].cands[:0]
	}
	var next atomic.Int64
	scan := func(w int) {
		for {
			from := int(next.Add(int64(plan.chunk))) - plan.chunk
			if from >= n {
				return
			}
			x.bound(p, &scans[w], scr[w], q, qn, k, minScore, keep, from, min(from+plan.chunk, n))
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < plan.workers; w++ {
		wg.Go(func() { scan(w) })
	}
	scan(0)
	wg.Wait()
	res := x.merge(p, q, k, minScore, scans...)
	for w, sc := range scr {
		sc.release(scans[w].cands)
	}
	return res
}

// merge refines the candidates of one or more scans into the top k. The
// result does not depend on how the rows were split among the scans:
// each scan pruned by the k-th best lower bound of the rows it saw, which
// is at most the k-th best over all rows (the floor below), so it kept
// every row that can make the top k; a row is scored by the same
// arithmetic whichever scan saw it (DotsI8 scores a row independently of
// the rows around it); and the order (score, then id) is total.
func (x *Index) merge(p *partition, q []float32, k int, minScore float32, scans ...bounds) []Result {
	// The k-th best lower bound over every scan: nothing whose upper
	// bound is below it can be among the best k.
	floor := float32(math.Inf(-1))
	var lows floatHeap
	if len(scans) == 1 {
		lows = scans[0].lows
	} else {
		for _, s := range scans {
			for _, l := range s.lows {
				lows.offer(k, l)
			}
		}
	}
	if len(lows) == k {
		floor = lows[0]
	}
	// The best k as rows: a Result (and its id string) is built for
	// those alone.
	h := hitHeap{p: p, h: make([]hit, 0, k+1)}
	for _, s := range scans {
		for _, c := range s.cands {
			if c.upper < floor {
				continue
			}
			sc := p.refine(q, c)
			if sc < minScore {
				continue
			}
			h.offer(k, hit{score: sc, row: c.row})
		}
	}
	sort.Slice(h.h, func(i, j int) bool { return p.better(h.h[i], h.h[j]) })
	out := make([]Result, len(h.h))
	for i, e := range h.h {
		out[i] = Result{Meta: x.meta(p, e.row), Score: e.score}
	}
	return out
}

// Parallel scan tuning (BenchmarkSearch, 384-d, 2 cores): splitting pays
// from about 3 MB of high bytes (8k vectors: 0.19 → 0.11 ms; at 4k, 1.5
// MB, it gains ~10%, within the noise). Rows are claimed scanChunk at a
// time (384 KB at 384-d, ~20 µs of scanning).
const (
	parallelScanBytes = 3 << 19 // 1.5 MiB per worker
	maxScanWorkers    = 4
	scanChunk         = 1024
)

// scanBlock is how many rows one kernel call scores: its scores (16 KB)
// stay in L1 while they are bounded.
const scanBlock = 4096

// candidate is a row that may be among the best: its approximate score
// (hi bytes only) and the upper bound of its full score.
type candidate struct {
	row           int
	approx, upper float32
}

// bounds is one worker's scan: the best k lower bounds of rows that
// certainly pass the filter and the floor, and every row that may make
// the top k.
type bounds struct {
	lows  floatHeap
	cands []candidate
}

// slopPerDim bounds float32 rounding in a dot product of unit vectors, per
// dimension (a few ulps of 1): added to each row's slack so the bounds hold
// for the computed scores, not just the exact ones.
const slopPerDim = 4.0 / (1 << 24)

// scratch is one worker's reusable memory: the block's scores and the
// candidates (a search at 100k collects a few thousand).
type scratch struct {
	dots  [scanBlock]float32
	cands []candidate
	attrs Attrs // what keep is given: here, it costs no allocation per row
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledCands: a candidate list longer than this is not kept for reuse.
const maxPooledCands = 1 << 16

// release returns sc to the pool with cands (grown from sc.cands) as its
// candidate memory, once the search is done with them.
func (sc *scratch) release(cands []candidate) {
	sc.cands = cands[:0]
	if cap(sc.cands) > maxPooledCands { // a search of near-identical vectors
		sc.cands = nil
	}
	sc.attrs = Attrs{}
	scratches.Put(sc)
}

// bound scans rows [from, to) on their hi bytes into b, whose candidates
// live in sc's memory.
func (x *Index) bound(p *partition, b *bounds, sc *scratch, q []float32, qn float32, k int, minScore float32, keep func(*Attrs) bool, from, to int) {
	d := p.dims
	round := qn * slopPerDim * float32(d)
	buf := &sc.dots
	for start := from; start < to; start += scanBlock {
		end := min(start+scanBlock, to)
		dots := buf[:end-start]
		vec.DotsI8(q, p.hi[start*d:end*d], dots)
		for j, dt := range dots {
			i := start + j
			a := 256 * p.scale[i] * dt
			slop := qn*p.slack[i] + round
			upper := a + slop
			if upper < minScore || (len(b.lows) == k && upper < b.lows[0]) {
				continue
			}
			if keep != nil {
				x.attrs(p, i, &sc.attrs)
				if !keep(&sc.attrs) {
					continue
				}
			}
			if lower := a - slop; lower >= minScore {
				b.lows.offer(k, lower)
			}
			b.cands = append(b.cands, candidate{row: i, approx: a, upper: upper})
		}
	}
}

// refine adds the lo bytes' part to a candidate's approximate score.
func (p *partition) refine(q []float32, c candidate) float32 {
	d := p.dims
	var l [1]float32
	vec.DotsI8(q, p.lo[c.row*d:(c.row+1)*d], l[:])
	return c.approx + p.scale[c.row]*l[0]
}

func norm(q []float32) float32 {
	var s float64
	for _, v := range q {
		s += float64(v) * float64(v)
	}
	return float32(math.Sqrt(s))
}

// floatHeap is a min-heap of the best k values so far.
type floatHeap []float32

func (h *floatHeap) offer(k int, v float32) {
	s := *h
	if len(s) < k {
		s = append(s, v)
		for i := len(s) - 1; i > 0; { // sift up
			par := (i - 1) / 2
			if s[par] <= s[i] {
				break
			}
			s[par], s[i] = s[i], s[par]
			i = par
		}
		*h = s
		return
	}
	if v <= s[0] {
		return
	}
	s[0] = v
	for i := 0; ; { // sift down
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l] < s[m] {
			m = l
		}
		if r < len(s) && s[r] < s[m] {
			m = r
		}
		if m == i {
			return
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
}

// hit is a row of the best k so far.
type hit struct {
	score float32
	row   int
}

// better orders by score descending, then id descending, comparing the
// ids in the arena (the conversions in a comparison allocate nothing).
func (p *partition) better(a, b hit) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return string(p.id(a.row)) > string(p.id(b.row))
}

// better orders by score descending, then id descending: the order of
// Search's results.
func better(s1 float32, id1 string, s2 float32, id2 string) bool {
	if s1 != s2 {
		return s1 > s2
	}
	return id1 > id2
}

// hitHeap keeps the best k hits with the worst at the root.
type hitHeap struct {
	p *partition
	h []hit
}

// offer adds e to a heap holding the best k so far.
func (hh *hitHeap) offer(k int, e hit) {
	s, p := hh.h, hh.p
	if len(s) < k {
		s = append(s, e)
		for i := len(s) - 1; i > 0; { // sift up
			par := (i - 1) / 2
			if !p.better(s[par], s[i]) {
				break
			}
			s[par], s[i] = s[i], s[par]
			i = par
		}
		hh.h = s
		return
	}
	if !p.better(e, s[0]) {
		return
	}
	s[0] = e
	for i := 0; ; { // sift down
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && p.better(s[m], s[l]) {
			m = l
		}
		if r < len(s) && p.better(s[m], s[r]) {
			m = r
		}
		if m == i {
			return
		}
		s[m], s[i] = s[i], s[m]
		i = m
	}
}
