package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// fakeAdapter stands in for the engine adapter.
type fakeAdapter struct{ service.Embedder }

func (fakeAdapter) Ready() bool                    { return false }
func (fakeAdapter) LoadError() error               { return context.Canceled }
func (fakeAdapter) Model() service.ModelInfo       { return service.ModelInfo{ID: "loaded-id", Dims: 3} }
func (fakeAdapter) Wait(ctx context.Context) error { return nil }

// The model is started by the first call that needs it, never by Model or
// LoadError, and only once.
func TestLazyEmbedderStartsOnFirstUse(t *testing.T) {
	starts := 0
	dir := filepath.Join(t.TempDir(), "my-model")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l := NewLazyEmbedder(dir, func() *embed.Engine {
		starts++
		return nil
	}, func(*embed.Engine) service.Embedder { return fakeAdapter{} })
	if id := l.Model().ID; id != "my-model" || starts != 0 {
		t.Fatalf("Model() = %q, starts %d: want the configured id without loading", id, starts)
	}
	if l.LoadError() != nil || l.Engine() != nil || starts != 0 {
		t.Fatal("LoadError/Engine started the model")
	}
	l.Ready()
	l.Ready()
	_ = l.Wait(context.Background())
	if starts != 1 {
		t.Fatalf("started %d times, want 1", starts)
	}
	if l.Model().ID != "loaded-id" || l.LoadError() == nil {
		t.Fatal("after start, the adapter answers")
	}
}
