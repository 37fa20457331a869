package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// putVectors stores n memories with a 4-d vector each.
func putVectors(t *testing.T, s *Store, from, n int) {
	t.Helper()
	fill(t, s, n, func(i int) memory.Memory {
		return memory.Memory{Content: fmt.Sprintf("memory %d", from+i), Project: "p", Source: memory.SourceCLI,
			Vector: []float32{1, float32((from+i)%7) / 7, 0, 0}, Model: "m"}
	})
}

// The change log keeps only its newest rows, and a process that fell
// further behind than that reloads its index instead of missing changes;
// one that is less far behind catches up from the log.
func TestChangeLogPruned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.db")
	ctx := context.Background()
	writer, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	putVectors(t, writer, 0, 10)
	count := func(want int) {
		t.Helper()
		idx, err := reader.index(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if idx.Len() != want {
			t.Fatalf("reader's index holds %d vectors, want %d", idx.Len(), want)
		}
	}
	count(10)
	// Less than the kept window behind: caught up from the log.
	putVectors(t, writer, 10, 100)
	count(110)

	// Far behind: the rows after the reader's position are pruned.
	n := changeLogKeep + 3*changeLogPruneEvery
	putVectors(t, writer, 110, n)
	var rows, maxSeq, minSeq int
	if err := writer.DB().QueryRow(`SELECT COUNT(*), MAX(seq), MIN(seq) FROM changes`).Scan(&rows, &maxSeq, &minSeq); err != nil {
		t.Fatal(err)
	}
	if rows > changeLogKeep+changeLogPruneEvery || maxSeq != 110+n || minSeq <= 1 {
		t.Fatalf("change log holds %d rows, seq %d..%d; want at most %d rows up to %d", rows, minSeq, maxSeq, changeLogKeep+changeLogPruneEvery, 110+n)
	}
	count(110 + n)
	// And deletes still reach a reader after a prune.
	ids, err := writer.List(ctx, memory.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Delete(ctx, []string{ids[0].ID, ids[1].ID}); err != nil {
		t.Fatal(err)
	}
	count(110 + n - 2)
}

// CountUnembedded answers from the vector index and FTS5's row count; it
// must agree with counting the rows, also after another process's writes.
func TestCountUnembedded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mnemo.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if m, o, err := s.CountUnembedded(ctx, "a"); err != nil || m != 0 || o != 0 {
		t.Fatalf("empty store: %d, %d, %v", m, o, err)
	}
	put := func(st *Store, content, model string) string {
		m := memory.Memory{Content: content, Project: "p", Source: memory.SourceCLI}
		if model != "" {
			m.Vector, m.Model = []float32{1, 0}, model
		}
		if _, err := st.Put(ctx, &m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	put(s, "none 1", "")
	put(s, "none 2", "")
	put(s, "a 1", "a")
	put(other, "b 1", "b")
	id := put(other, "b 2", "b")
	check := func(wantMissing, wantOther int) {
		t.Helper()
		m, o, err := s.CountUnembedded(ctx, "a")
		if err != nil || m != wantMissing || o != wantOther {
			t.Fatalf("CountUnembedded(a) = %d, %d, %v; want %d, %d", m, o, err, wantMissing, wantOther)
		}
	}
	check(2, 2)
	if _, err := other.Delete(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	check(2, 1)
}
