// Package keyrows maps string keys to row numbers without a pointer per
// key. A Go map keyed by string holds a pointer per entry, which every
// garbage collection follows: 100k of them per in-memory index of a large
// store, a stall for whatever request is in flight (docs/store-bench.md).
// Here the caller keeps the keys' bytes itself (back to back in one slice,
// say) and the map holds rows by the key's 64-bit hash, reading a row's
// key through the caller to tell keys with equal hashes apart; a key
// whose hash another key already has goes to a small map by string.
package keyrows

import "hash/maphash"

// Map is the row of every key. It is not safe for concurrent writes; its
// callers hold their own locks.
type Map struct {
	byHash   map[uint64]uint32
	collided map[string]uint32
}

// New returns an empty map with room for n keys.
func New(n int) *Map {
	return &Map{byHash: make(map[uint64]uint32, n), collided: map[string]uint32{}}
}

// Hasher returns a hash function for keys (seeded at random: the rows do
// not depend on it).
func Hasher() func(string) uint64 {
	seed := maphash.MakeSeed()
	return func(key string) uint64 { return maphash.String(seed, key) }
}

// Find returns key's row; h is key's hash and keyOf reads a row's key.
func (m *Map) Find(key string, h uint64, keyOf func(row uint32) []byte) (uint32, bool) {
	if row, ok := m.byHash[h]; ok && string(keyOf(row)) == key {
		return row, true
	}
	if len(m.collided) == 0 {
		return 0, false
	}
	row, ok := m.collided[key]
	return row, ok
}

// Set records that key (hash h, not in the map) is at row.
func (m *Map) Set(key string, h uint64, row uint32, keyOf func(row uint32) []byte) {
	if other, ok := m.byHash[h]; ok && string(keyOf(other)) != key {
		m.collided[key] = row
		return
	}
	m.byHash[h] = row
}

// Delete forgets key (hash h), which Find found at row.
func (m *Map) Delete(key string, h uint64, row uint32) {
	if r, ok := m.byHash[h]; ok && r == row {
		delete(m.byHash, h)
		return
	}
	delete(m.collided, key)
}

// Move records that key (hash h) moved from row from to row to.
func (m *Map) Move(key []byte, h uint64, from, to uint32) {
	if r, ok := m.byHash[h]; ok && r == from {
		m.byHash[h] = to
		return
	}
	m.collided[string(key)] = to
}

// Remap renumbers every row (after the caller compacted its rows).
func (m *Map) Remap(f func(row uint32) uint32) {
	for h, row := range m.byHash {
		m.byHash[h] = f(row)
	}
	for key, row := range m.collided {
		m.collided[key] = f(row)
	}
}

// Collided returns how many keys are held by string because their hash
// was taken (tests check that they exercise that path).
func (m *Map) Collided() int { return len(m.collided) }
