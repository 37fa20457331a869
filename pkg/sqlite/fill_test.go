package sqlite

import (
	"context"
	"database/sql"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// fill stores n memories made by mk(i), i from 0, a thousand a
// transaction (the tests' and benchmarks' stores).
func fill(tb testing.TB, s *Store, n int, mk func(i int) memory.Memory) {
	tb.Helper()
	for done := 0; done < n; {
		batch := min(1000, n-done)
		err := s.write(context.Background(), "test fill", func(ctx context.Context, tx *sql.Tx) error {
			for i := range batch {
				p, err := memory.Prepare(mk(done+i), s.o.now())
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
			tb.Fatal(err)
		}
		done += batch
	}
}
