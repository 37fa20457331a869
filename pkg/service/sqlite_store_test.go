package service

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
)

// The service tests also run over the real SQLite store.
func init() {
	storeFactories["sqlite"] = func(t *testing.T) memory.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "mnemo.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}
