package embed

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Rewritten models unused for long go: another entry of the same model
// folder after a day, any entry after 30 days; the one in use, entries of
// other models used lately and folders being written stay.
func TestPruneGraphs(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	mk := func(name string, idle time.Duration) string {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "model.onnx"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(d, now.Add(-idle), now.Add(-idle)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	keep := mk("minilm-aaaaaaaaaaaaaaaa", 0)
	mk("minilm-bbbbbbbbbbbbbbbb", 2*time.Hour)        // same model, used today: stays
	mk("minilm-cccccccccccccccc", 48*time.Hour)       // same model, superseded: goes
	mk("minilm-large-dddddddddddddddd", 48*time.Hour) // another model ("minilm-large"): stays
	mk("bert-eeeeeeeeeeeeeeee", 10*24*time.Hour)      // another model, used this month: stays
	mk("custom-ffffffffffffffff", 40*24*time.Hour)    // unused for 40 days: goes
	mk(".tmp-123", 40*24*time.Hour)                   // being written: stays
	pruneGraphs(root, keep, now)
	want := map[string]bool{
		"minilm-aaaaaaaaaaaaaaaa": true, "minilm-bbbbbbbbbbbbbbbb": true, "minilm-large-dddddddddddddddd": true,
		"bert-eeeeeeeeeeeeeeee": true, ".tmp-123": true,
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range ents {
		got[e.Name()] = true
	}
	for name := range want {
		if !got[name] {
			t.Errorf("%s was removed", name)
		}
	}
	for name := range got {
		if !want[name] {
			t.Errorf("%s was kept", name)
		}
	}
}
