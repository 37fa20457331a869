package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// putVectors stores n memories with a 4-d vector each, in one transaction.
func putVectors(t *testing.T, s *Store, from, n int) {
	t.Helper()
	err := s.write(context.Background(), "test fill", func(ctx context.Context, tx *sql.Tx) error {
		for i := from; i < from+n; i++ {
			p, err := memory.Prepare(memory.Memory{Content: fmt.Sprintf("memory %d", i), Project: "p", Source: memory.SourceCLI,
				Vector: []float32{1, float32(i%7) / 7, 0, 0}, Model: "m"}, s.o.now())
			if err != nil {
				return err
			}
			if _, err := putTx(ctx, tx, &p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
