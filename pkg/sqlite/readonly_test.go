//go:build unix

package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/asuser"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Issue 13 #6: a store this user may read but not write (the file's mode,
// or its folder's) opens read-only with WithReadOnlyFallback: listing and
// searching work, writes fail with ErrReadOnly saying why. Without the
// option, Open says why it cannot write. Root ignores file modes, so as
// root the checks re-run as an unprivileged user.
func TestReadOnlyFallback(t *testing.T) {
	for _, c := range []struct{ name, fileMode, dirMode string }{
		{"file", "0444", "0755"},
		{"folder", "0644", "0555"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := os.Getenv("MNEMO_RO_DIR")
			if !asuser.IsChild() {
				dir = filepath.Join(t.TempDir(), "home")
				s, err := Open(context.Background(), filepath.Join(dir, "mnemo.db"))
				if err != nil {
					t.Fatal(err)
				}
				m := memory.Memory{Content: "readable but not writable", Project: "p", Source: memory.SourceCLI, Vector: []float32{1, 0}, Model: "m"}
				if _, err := s.Put(context.Background(), &m); err != nil {
					t.Fatal(err)
				}
				s.Close()
				if os.Geteuid() == 0 {
					out, err := asuser.Rerun(t, "TestReadOnlyFallback/"+c.name, []string{"MNEMO_RO_DIR=" + dir}, dir)
					if err != nil || !strings.Contains(out, "--- PASS") {
						t.Fatalf("as uid %d: %v\n%s", asuser.Nobody, err, out)
					}
					return
				}
			}
			db := filepath.Join(dir, "mnemo.db")
			chmod(t, db, c.fileMode)
			chmod(t, dir, c.dirMode)
			defer chmod(t, dir, "0700")
			defer chmod(t, db, "0600")

			_, err := Open(context.Background(), db)
			if !errors.Is(err, memory.ErrReadOnly) || !strings.Contains(err.Error(), "reading commands") {
				t.Fatalf("read-write open of a read-only store: %v", err)
			}
			s, err := Open(context.Background(), db, WithReadOnlyFallback())
			if err != nil {
				t.Fatalf("read-only fallback: %v", err)
			}
			defer s.Close()
			if s.ReadOnly() == "" {
				t.Fatal("store not marked read-only")
			}
			ms, err := s.List(context.Background(), memory.ListOptions{})
			if err != nil || len(ms) != 1 {
				t.Fatalf("list: %v %v", ms, err)
			}
			hits, err := s.Search(context.Background(), memory.Query{Text: "readable", Vector: []float32{1, 0}, Model: "m", Mode: memory.ModeHybrid, K: 5})
			if err != nil || len(hits) != 1 {
				t.Fatalf("search: %v %v", hits, err)
			}
			if err := s.Touch(context.Background(), []string{ms[0].ID}); err != nil {
				t.Fatalf("touch (best effort) on a read-only store: %v", err)
			}
			if err := s.IntegrityCheck(context.Background()); err != nil {
				t.Fatalf("integrity check read-only: %v", err)
			}
			m := memory.Memory{Content: "new", Project: "p", Source: memory.SourceCLI}
			if _, err := s.Put(context.Background(), &m); !errors.Is(err, memory.ErrReadOnly) {
				t.Fatalf("put on a read-only store: %v", err)
			}
			t.Logf("read-only because: %s", s.ReadOnly())
		})
	}
}

func chmod(t *testing.T, path, mode string) {
	t.Helper()
	var m uint32
	for _, c := range mode {
		m = m*8 + uint32(c-'0')
	}
	if err := os.Chmod(path, os.FileMode(m)); err != nil {
		t.Fatal(err)
	}
}
