// Package kwindex is the in-memory keyword index a long-running mnemo
// process keeps beside its vector index: an inverted index over one text
// column that ranks by the same bm25 formula as SQLite FTS5's bm25(), over
// the same statistics (row count, average length, each term's document
// frequency), so its ranking is FTS5's.
//
// Why not FTS5 alone: FTS5 answers from pages of its b-tree through the
// SQL layer, and bm25 visits every row matching any query term. With a
// store of 100k memories a query of common words costs 5–7 ms that way
// even when bounded (pkg/sqlite's keyword.go); here it is a pass over
// posting lists in memory, about a millisecond. A process that searches
// once (the CLI) does not pay for building one: pkg/sqlite builds it only
// in a process that warms its indexes (serve).
//
// The index does not tokenize by itself: the caller gives the tokenizer
// (pkg/sqlite's reproduces FTS5's porter unicode61 exactly) and queries by
// terms as that tokenizer emits them.
package kwindex

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mnemo-mcp/mnemo/pkg/keyrows"
)

// bm25 parameters of FTS5's bm25() (fts5_aux.c).
const (
	k1 = 1.2
	b  = 0.75
)

// Fold calls emit with each token of text in order, folded (case,
// diacritics) but not yet stemmed, reusing buf; emit must not keep tok.
// Stem returns the term a folded token is indexed as, without modifying
// tok; the result may be a buffer of its own, valid until the next call.
// Both are called under the index's write lock only, so they may keep
// state (buffers) without locking.
type (
	Fold func(text string, buf []byte, emit func(tok []byte)) []byte
	Stem func(tok []byte) []byte
)

// foldedMemo bounds the memo of folded tokens' terms. A store's words
// are a vocabulary that the first documents mostly show; the rest are
// numbers, identifiers and typos, often seen once, which the memo would
// keep as one string each (every one a little more for each collection to
// mark).
const foldedMemo = 1 << 14

// Hit is one ranked document.
type Hit[M any] struct {
	Key   string  // the document's key, as given to Upsert
	Meta  M       // the document's metadata, as given to Upsert
	Rank  int64   // the caller's row id: ties rank the larger first
	Score float64 // bm25, higher is better (FTS5's bm25() is its negation)

	slot uint32 // where Key is read, under the search's lock
}

// withKeys sets the hits' keys (strings of their own: the index's bytes
// move when it compacts).
func (x *Index[M]) withKeys(hits []Hit[M]) []Hit[M] {
	for i := range hits {
		hits[i].Key = string(x.key(hits[i].slot))
	}
	return hits
}

// deadLen marks a removed document's slot in lens.
const deadLen = math.MaxUint32

type posting struct {
	slot uint32 // the document
	tf   uint32 // occurrences of the term in it
}

type doc[M any] struct {
	meta    M
	rank    int64
	keyOff  uint32 // its key: keys[keyOff : keyOff+keyLen]
	keyLen  uint32
	length  uint32 // tokens, FTS5's column size
	termOff uint32 // its distinct terms: termIDs[termOff : termOff+termN]
	termN   uint32
}

// Index is safe for concurrent use: one writer or many searchers.
type Index[M any] struct {
	mu   sync.RWMutex
	fold Fold
	stem Stem

	terms   map[string]uint32 // term → id
	folded  map[string]uint32 // folded token → id of its term: most tokens skip stemming
	posts   [][]posting       // term id → postings, slots ascending
	df      []int32           // term id → live documents holding it
	docs    []doc[M]          // by slot; removed ones stay (dead) until compaction
	lens    []uint32          // by slot: the length, or deadLen once removed (the hot part of docs)
	maxLen  uint32            // the longest document since the last compaction
	termIDs []uint32          // the distinct terms of every slot, back to back
	// The documents' keys, back to back, and the live ones' slots
	// (package keyrows: no pointer per key for a collection to follow).
	keys           []byte
	hash           func(string) uint64 // maphash; tests make keys collide
	slots          *keyrows.Map
	live           int
	tokens         int64        // total length of the live documents
	dead           int          // dead slots
	compactions    int          // how many times (tests)
	prunedSearches atomic.Int64 // searches that left common terms out (tests)

	scratch sync.Pool // *scratch

	// Upsert's buffers (under mu): the document's distinct terms in
	// order of appearance, their counts, and where each term is in them
	// (seen[id]-1, valid when seenBy[id] is this Upsert's stamp).
	ord    []uint32
	counts []uint32
	seen   []uint32
	seenBy []uint32
	stamp  uint32
	buf    []byte
	arena  []byte // intern's current chunk
}

// New returns an empty index that tokenizes with fold and stem.
func New[M any](fold Fold, stem Stem) *Index[M] {
	return &Index[M]{fold: fold, stem: stem, terms: map[string]uint32{}, folded: map[string]uint32{},
		hash: keyrows.Hasher(), slots: keyrows.New(0)}
}

// Len returns the number of documents held.
func (x *Index[M]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Upsert indexes text as the document key (replacing what key held), with
// meta for filters and rank for ties.
func (x *Index[M]) Upsert(key string, rank int64, meta M, text string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(key)

	slot := uint32(len(x.docs))
	x.ord, x.counts = x.ord[:0], x.counts[:0]
	if x.stamp++; x.stamp == 0 { // wrapped: old stamps could match
		clear(x.seenBy)
		x.stamp = 1
	}
	length := uint32(0)
	x.buf = x.fold(text, x.buf, func(tok []byte) {
		length++
		id, ok := x.folded[string(tok)]
		if !ok {
			id = x.termID(x.stem(tok))
			if len(x.folded) < foldedMemo {
				x.folded[x.intern(tok)] = id
			}
		}
		if x.seenBy[id] == x.stamp {
			x.counts[x.seen[id]-1]++
			return
		}
		x.seenBy[id] = x.stamp
		x.ord = append(x.ord, id)
		x.counts = append(x.counts, 1)
		x.seen[id] = uint32(len(x.ord))
	})
	off := uint32(len(x.termIDs))
	for i, id := range x.ord {
		x.posts[id] = append(x.posts[id], posting{slot: slot, tf: x.counts[i]})
		x.df[id]++
	}
	x.termIDs = append(x.termIDs, x.ord...)
	x.docs = append(x.docs, doc[M]{meta: meta, rank: rank, length: length, termOff: off, termN: uint32(len(x.ord)),
		keyOff: uint32(len(x.keys)), keyLen: uint32(len(key))})
	x.keys = append(x.keys, key...)
	x.lens = append(x.lens, min(length, deadLen-1))
	x.maxLen = max(x.maxLen, length)
	x.slots.Set(key, x.hash(key), slot, x.key)
	x.live++
	x.tokens += int64(length)
}

// Trim gives back the room posting lists grew into while being built (up
// to half of their memory); a bulk load calls it at its end.
func (x *Index[M]) Trim() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for id, ps := range x.posts {
		if cap(ps)-len(ps) > len(ps)/8 {
			x.posts[id] = append([]posting(nil), ps...)
		}
	}
	x.termIDs = append([]uint32(nil), x.termIDs...)
	x.docs = append([]doc[M](nil), x.docs...)
	x.lens = append([]uint32(nil), x.lens...)
	x.keys = append([]byte(nil), x.keys...)
}

// termID returns term's id, adding the term if it is new.
func (x *Index[M]) termID(term []byte) uint32 {
	if id, ok := x.terms[string(term)]; ok {
		return id
	}
	id := uint32(len(x.posts))
	x.terms[x.intern(term)] = id
	x.posts = append(x.posts, nil)
	x.df = append(x.df, 0)
	x.seen = append(x.seen, 0)
	x.seenBy = append(x.seenBy, 0)
	return id
}

// internChunk is the size of the arena's chunks.
const internChunk = 64 << 10

// intern returns b as a string whose bytes are in the index's arena: the
// terms and memo keys (a string each, 100k or more in a large store) are
// then not objects of their own for every collection to find and mark.
// The arena only grows, as the maps of terms do.
func (x *Index[M]) intern(b []byte) string {
	if len(b) == 0 || len(b) > internChunk/16 {
		return string(b)
	}
	if len(x.arena)+len(b) > cap(x.arena) {
		x.arena = make([]byte, 0, internChunk)
	}
	off := len(x.arena)
	x.arena = append(x.arena, b...)
	return unsafe.String(&x.arena[off], len(b))
}

// Remove drops key's document if there is one.
func (x *Index[M]) Remove(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(key)
}

// key returns slot's key, sharing the bytes of keys (compare it, do not
// keep it).
func (x *Index[M]) key(slot uint32) []byte {
	d := &x.docs[slot]
	return x.keys[d.keyOff : d.keyOff+d.keyLen]
}

func (x *Index[M]) removeLocked(key string) {
	h := x.hash(key)
	slot, ok := x.slots.Find(key, h, x.key)
	if !ok {
		return
	}
	x.slots.Delete(key, h, slot)
	d := &x.docs[slot]
	for _, id := range x.termIDs[d.termOff : d.termOff+d.termN] {
		x.df[id]--
	}
	x.lens[slot] = deadLen
	var zero M
	d.meta = zero // let go of what the metadata references
	x.live--
	x.tokens -= int64(d.length)
	x.dead++
	// Dead slots cost every search that meets them in a posting list:
	// compact once they are a quarter of the slots.
	if x.dead > 1024 && x.dead*4 > len(x.docs) {
		x.compactLocked()
	}
}

// compactLocked drops dead slots from the documents, the term lists and
// every posting list, renumbering the live slots in order.
func (x *Index[M]) compactLocked() {
	remap := make([]uint32, len(x.docs))
	docs := make([]doc[M], 0, x.live)
	termIDs := make([]uint32, 0, len(x.termIDs))
	lens := make([]uint32, 0, x.live)
	keys := make([]byte, 0, len(x.keys))
	x.maxLen = 0
	for slot, d := range x.docs {
		if x.lens[slot] == deadLen {
			continue
		}
		lens = append(lens, x.lens[slot])
		off := uint32(len(keys))
		keys = append(keys, x.key(uint32(slot))...)
		d.keyOff = off
		x.maxLen = max(x.maxLen, d.length)
		remap[slot] = uint32(len(docs))
		toff := uint32(len(termIDs))
		termIDs = append(termIDs, x.termIDs[d.termOff:d.termOff+d.termN]...)
		d.termOff = toff
		docs = append(docs, d)
	}
	for id, ps := range x.posts {
		out := ps[:0]
		for _, p := range ps {
			if x.lens[p.slot] != deadLen {
				out = append(out, posting{slot: remap[p.slot], tf: p.tf})
			}
		}
		x.posts[id] = out
	}
	x.slots.Remap(func(slot uint32) uint32 { return remap[slot] })
	x.docs, x.lens, x.termIDs, x.keys, x.dead = docs, lens, termIDs, keys, 0
	x.compactions++
}

// Search returns the k documents with the highest bm25 for the query terms
// (each as the tokenizer emits it; a term given twice counts twice, as a
// phrase repeated in an FTS5 query does) that keep accepts (nil keeps
// all), best first, ties broken by rank descending. Documents holding none
// of the terms are never returned. keep may not be called for documents
// that cannot enter the top k.
//
// The scores are FTS5's bm25 (negated): the same formula, statistics and
// order of arithmetic, term by term in query order.
//
// A term in at least half the documents weighs almost nothing: bm25 gives
// it FTS5's floor idf, 1e-6. Such common terms are not accumulated over
// their posting lists (every memory holding "uses" or "server"), only
// looked up for the documents that can still make the top k once the
// other terms are counted: those within the common terms' whole possible
// weight of the k-th best. The result is the same as counting them all.
func (x *Index[M]) Search(terms []string, k int, keep func(*M) bool) []Hit[M] {
	if k <= 0 || len(terms) == 0 {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.live == 0 {
		return nil
	}
	sc := x.getScratch(len(x.docs))
	defer x.scratch.Put(sc)
	x.prepare(sc)

	q := sc.query[:0]
	var bound float64 // the most the common terms add to a score
	essential := false
	for _, t := range terms {
		id, ok := x.terms[t]
		if !ok || x.df[id] == 0 {
			continue // FTS5 adds idf × 0 for a phrase a row lacks
		}
		df := float64(x.df[id])
		idf := math.Log((sc.n - df + 0.5) / (df + 0.5))
		qt := queryTerm{id: id, idf: idf}
		if idf <= 0 {
			qt.idf, qt.common = 1e-6, true
			bound += qt.idf * (k1 + 1)
		} else {
			essential = true
		}
		q = append(q, qt)
	}
	sc.query = q
	if len(q) == 0 {
		return nil
	}
	if essential && bound > 0 {
		if hits, ok := x.pruned(sc, k, bound, keep); ok {
			x.prunedSearches.Add(1)
			return hits
		}
	}
	return x.exhaustive(sc, k, keep)
}

// queryTerm is one term of a query that some document holds.
type queryTerm struct {
	id     uint32
	idf    float64
	common bool // idf at FTS5's floor: left out of accumulation (pruned)
}

// prepare sets a search's statistics and tables. By length: bm25's
// normalisation k1·(1 − b + b·|D|/avgdl), and the term frequency part of
// a term found once, (1·(k1 + 1)) / (1 + norm), the most common case.
// Computed as the formula computes them, they spare most postings both
// divisions.
func (x *Index[M]) prepare(sc *scratch) {
	sc.n = float64(x.live)
	sc.avgdl = float64(x.tokens) / sc.n
	norms, once := sc.norms[:0], sc.once[:0]
	for l := range min(x.maxLen, normTable) + 1 {
		norm := k1 * (1 - b + b*float64(l)/sc.avgdl)
		norms = append(norms, norm)
		once = append(once, (1*(k1+1.0))/(1+norm))
	}
	sc.norms, sc.once = norms, once
}

// weight is a term's bm25 part for a document of length l holding it tf
// times: idf × (tf·(k1 + 1)) / (tf + norm), exactly as FTS5 computes it.
func (sc *scratch) weight(idf float64, tf, l uint32) float64 {
	if tf == 1 && int(l) < len(sc.once) {
		return idf * sc.once[l]
	}
	var norm float64
	if int(l) < len(sc.norms) {
		norm = sc.norms[l]
	} else {
		norm = k1 * (1 - b + b*float64(l)/sc.avgdl)
	}
	f := float64(tf)
	return idf * ((f * (k1 + 1.0)) / (f + norm))
}

// accumulate adds the query terms' weights (all of them, or those that
// are not common) to sc.acc and returns the range of slots touched.
func (x *Index[M]) accumulate(sc *scratch, all bool) (lo, hi int) {
	acc, lens := sc.acc[:len(x.docs)], x.lens
	lo, hi = len(x.docs), -1
	for _, qt := range sc.query {
		if qt.common && !all {
			continue
		}
		ps := x.posts[qt.id]
		if len(ps) > 0 {
			lo, hi = min(lo, int(ps[0].slot)), max(hi, int(ps[len(ps)-1].slot))
		}
		for _, p := range ps {
			if l := lens[p.slot]; l != deadLen {
				acc[p.slot] += sc.weight(qt.idf, p.tf, l)
			}
		}
	}
	return lo, hi
}

// exhaustive counts every term over its whole posting list.
func (x *Index[M]) exhaustive(sc *scratch, k int, keep func(*M) bool) []Hit[M] {
	lo, hi := x.accumulate(sc, true)
	acc := sc.acc
	h := make(hitHeap[M], 0, k+1)
	// The accumulators are cleared on the way for the next search.
	for slot := lo; slot <= hi; slot++ {
		s := acc[slot]
		if s == 0 {
			continue
		}
		acc[slot] = 0
		d := &x.docs[slot]
		if len(h) == k && !better(s, d.rank, h[0].Score, h[0].Rank) {
			continue
		}
		if keep != nil && !keep(&d.meta) {
			continue
		}
		h.offer(k, Hit[M]{Meta: d.meta, Rank: d.rank, Score: s, slot: uint32(slot)})
	}
	return x.withKeys(h.sorted())
}

// pruned counts the terms that are not common, keeps the documents that
// keep accepts within bound (the common terms' most) of the k-th best of
// those partial scores, and scores them exactly. ok is false when fewer
// than k documents hold a term that is not common and so a document
// holding common terms only could make the top k: the caller then counts
// everything.
func (x *Index[M]) pruned(sc *scratch, k int, bound float64, keep func(*M) bool) (hits []Hit[M], ok bool) {
	lo, hi := x.accumulate(sc, false)
	acc := sc.acc
	best := sc.best[:0] // min-heap: the best k partial scores so far
	cands := sc.cands[:0]
	slack := func(theta float64) float64 { return bound + 1e-9*max(theta, 1) } // plus rounding: sums in another order
	for slot := lo; slot <= hi; slot++ {
		p := acc[slot]
		if p == 0 {
			continue
		}
		acc[slot] = 0
		if len(best) == k && p+slack(best[0]) < best[0] {
			continue
		}
		if keep != nil && !keep(&x.docs[slot].meta) {
			continue
		}
		best = offerFloat(best, k, p)
		cands = append(cands, candidate{slot: uint32(slot), partial: p})
	}
	sc.best, sc.cands = best, cands
	if len(best) < k || best[0] <= slack(best[0]) {
		return nil, false
	}
	theta := best[0]
	h := make(hitHeap[M], 0, k+1)
	for _, c := range cands {
		if c.partial+slack(theta) < theta {
			continue
		}
		s := x.exactScore(sc, c.slot)
		d := &x.docs[c.slot]
		if len(h) == k && !better(s, d.rank, h[0].Score, h[0].Rank) {
			continue
		}
		h.offer(k, Hit[M]{Meta: d.meta, Rank: d.rank, Score: s, slot: c.slot})
	}
	return x.withKeys(h.sorted()), true
}

// candidate is a document that may make the top k, with its partial score.
type candidate struct {
	slot    uint32
	partial float64
}

// exactScore is slot's bm25 over every query term, in query order, its
// frequencies looked up in the (slot-ordered) posting lists.
func (x *Index[M]) exactScore(sc *scratch, slot uint32) float64 {
	l := x.lens[slot]
	var s float64
	for _, qt := range sc.query {
		ps := x.posts[qt.id]
		i := sort.Search(len(ps), func(i int) bool { return ps[i].slot >= slot })
		if i < len(ps) && ps[i].slot == slot {
			s += sc.weight(qt.idf, ps[i].tf, l)
		}
	}
	return s
}

// offerFloat keeps the best k values in a min-heap.
func offerFloat(h []float64, k int, v float64) []float64 {
	return offer(h, k, v, func(a, b float64) bool { return a < b })
}

// offer keeps the best k values in h, a heap with the worst on top
// (worse(a, b): a ranks below b).
func offer[T any](h []T, k int, v T, worse func(a, b T) bool) []T {
	if len(h) < k {
		h = append(h, v)
		for i := len(h) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(h[i], h[p]) {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		return h
	}
	if !worse(h[0], v) {
		return h
	}
	h[0] = v
	siftDown(h, worse)
	return h
}

// siftDown restores the heap after its top changed.
func siftDown[T any](h []T, worse func(a, b T) bool) {
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && worse(h[l], h[m]) {
			m = l
		}
		if r < len(h) && worse(h[r], h[m]) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// normTable bounds the lengths whose normalisation a search tabulates.
const normTable = 4096

// scratch is a search's memory: one accumulator per slot (zero between
// searches) and the normalisation table.
type scratch struct {
	acc         []float64
	norms, once []float64
	n, avgdl    float64 // documents, their average length
	query       []queryTerm
	best        []float64
	cands       []candidate
}

func (x *Index[M]) getScratch(n int) *scratch {
	if sc, ok := x.scratch.Get().(*scratch); ok && len(sc.acc) >= n {
		return sc
	}
	return &scratch{acc: make([]float64, n+n/8)}
}

// better orders hits: higher score first, then larger rank.
func better(s1 float64, r1 int64, s2 float64, r2 int64) bool {
	if s1 != s2 {
		return s1 > s2
	}
	return r1 > r2
}

// hitHeap is a min-heap (worst on top) of the best hits so far.
type hitHeap[M any] []Hit[M]

func worseHit[M any](a, b Hit[M]) bool { return better(b.Score, b.Rank, a.Score, a.Rank) }

// offer adds v if it is among the best k; callers have checked that it
// beats the top of a full heap.
func (h *hitHeap[M]) offer(k int, v Hit[M]) { *h = offer(*h, k, v, worseHit[M]) }

// sorted empties the heap, best first.
func (h hitHeap[M]) sorted() []Hit[M] {
	out := make([]Hit[M], len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = h[0]
		h[0] = h[len(h)-1]
		h = h[:len(h)-1]
		siftDown(h, worseHit[M])
	}
	return out
}
