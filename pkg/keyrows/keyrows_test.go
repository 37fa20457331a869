package keyrows

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Random sets, moves, deletes and remaps against a Go map, with real
// hashes and with hashes that collide all the time.
func TestMatchesMap(t *testing.T) {
	real := Hasher()
	for name, hash := range map[string]func(string) uint64{
		"hashed": real,
		"one":    func(string) uint64 { return 7 },
		"three":  func(k string) uint64 { return uint64(len(k) % 3) },
	} {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			m := New(0)
			var keys []string // by row; "" = free
			want := map[string]uint32{}
			keyOf := func(row uint32) []byte { return []byte(keys[row]) }
			for step := range 5000 {
				switch r := rng.IntN(10); {
				case r < 5: // add at the end
					k := fmt.Sprint("k", rng.IntN(800))
					if _, ok := want[k]; ok {
						continue
					}
					row := uint32(len(keys))
					keys = append(keys, k)
					m.Set(k, hash(k), row, keyOf)
					want[k] = row
				case r < 8 && len(want) > 0: // swap-remove a random live row
					row := uint32(rng.IntN(len(keys)))
					k := keys[row]
					got, ok := m.Find(k, hash(k), keyOf)
					if !ok || got != row {
						t.Fatalf("step %d: Find(%q) = %d %v, want %d", step, k, got, ok, row)
					}
					m.Delete(k, hash(k), row)
					delete(want, k)
					last := uint32(len(keys) - 1)
					if row != last {
						lk := keys[last]
						m.Move([]byte(lk), hash(lk), last, row)
						keys[row] = lk
						want[lk] = row
					}
					keys = keys[:last]
				case r < 9: // reverse the rows
					n := uint32(len(keys))
					for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
						keys[i], keys[j] = keys[j], keys[i]
					}
					m.Remap(func(row uint32) uint32 { return n - 1 - row })
					for k, row := range want {
						want[k] = n - 1 - row
					}
				default: // look up a key that may be absent
					k := fmt.Sprint("k", rng.IntN(800))
					got, ok := m.Find(k, hash(k), keyOf)
					if w, wok := want[k]; ok != wok || ok && got != w {
						t.Fatalf("step %d: Find(%q) = %d %v, want %d %v", step, k, got, ok, w, wok)
					}
				}
			}
			for k, row := range want {
				if got, ok := m.Find(k, hash(k), keyOf); !ok || got != row {
					t.Fatalf("Find(%q) = %d %v, want %d", k, got, ok, row)
				}
			}
			if name != "hashed" && m.Collided() == 0 {
				t.Fatal("no key went by string: the collision path was not tested")
			}
		})
	}
}
