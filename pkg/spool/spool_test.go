package spool

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// A spooled note is stored once however often the spool is applied, the
// file is private, and an unreadable file is set aside, not retried forever.
func TestDrainIsIdempotent(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	dir := Dir(home)
	st, err := sqlite.Open(ctx, filepath.Join(home, "mnemo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	note := &memory.Memory{ID: memory.NewID(time.Now()), Content: "keep this", Project: "p", Source: memory.SourceHook, Tags: []string{"captured"}}
	path, err := Write(dir, Record{Kind: KindNote, Note: note})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("spool file: %v %v", fi, err)
	}
	copyOf, _ := os.ReadFile(path)
	r, err := Drain(ctx, dir, st, nil)
	if err != nil || r.Notes != 1 || r.Files != 1 {
		t.Fatalf("first drain: %+v %v", r, err)
	}
	// The same file again (a process killed before removing it).
	os.WriteFile(path, copyOf, 0o600)
	os.WriteFile(filepath.Join(dir, "0-bad.jsonl"), []byte("{not json\n"), 0o600)
	r, err = Drain(ctx, dir, st, nil)
	if err != nil || r.Notes != 0 || r.Dups != 1 {
		t.Fatalf("second drain: %+v %v", r, err)
	}
	if left, _ := Pending(dir); len(left) != 0 {
		t.Fatalf("left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "0-bad.jsonl.bad")); err != nil {
		t.Fatalf("bad file not set aside: %v", err)
	}
	all, _ := st.List(ctx, memory.ListOptions{})
	if len(all) != 1 || all[0].ID != note.ID {
		t.Fatalf("stored: %+v", all)
	}
}
