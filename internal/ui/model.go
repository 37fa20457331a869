package ui

import (
	"context"
	"log/slog"
	"sync"

	"github.com/mnemo-mcp/mnemo/embed"
	"github.com/mnemo-mcp/mnemo/embed/hub"
	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// NewModel is the configured engine, started on first use, with the
// configuration's keep-alive: an idle viewer releases the model
// (MNEMO_KEEP_ALIVE) and reloads it for the next semantic search.
func NewModel(cfg config.Config, log *slog.Logger) *LazyEmbedder {
	return NewLazyEmbedder(cfg.Model, func() *embed.Engine {
		o := app.EngineOptions(cfg, log)
		o.KeepAlive = cfg.KeepAlive
		return embed.New(o)
	}, func(e *embed.Engine) service.Embedder { return app.NewEmbedder(e, cfg.Model) })
}

// LazyEmbedder is a service.Embedder that starts the engine only when a
// search first asks for the model. Browsing, curating and keyword search
// never load it, so `mnemo ui` stays small until a semantic search; the
// service answers by keyword (and says so) while it loads.
type LazyEmbedder struct {
	newEngine func() *embed.Engine
	id        string // configured model id, known before loading

	mu      sync.Mutex
	started bool
	e       *embed.Engine
	emb     service.Embedder
}

// NewLazyEmbedder returns an embedder that calls newEngine on first use
// and adapts it with adapt (internal/app.NewEmbedder).
func NewLazyEmbedder(model string, newEngine func() *embed.Engine, adapt func(*embed.Engine) service.Embedder) *LazyEmbedder {
	id := model
	if ref, err := hub.ParseRef(model); err == nil {
		id = ref.ID
	}
	l := &LazyEmbedder{id: id}
	l.newEngine = func() *embed.Engine {
		e := newEngine()
		l.emb = adapt(e)
		return e
	}
	return l
}

// start loads the engine once and returns its adapter.
func (l *LazyEmbedder) start() service.Embedder {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started {
		l.started = true
		l.e = l.newEngine()
	}
	return l.emb
}

// loaded returns the adapter when the engine was started, else nil.
func (l *LazyEmbedder) loaded() service.Embedder {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.emb
}

// Engine returns the engine once started (for the health page), else nil.
func (l *LazyEmbedder) Engine() *embed.Engine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e
}

// Ready starts loading on first call: the service asks it before a
// semantic recall, and waits (bounded) for the model.
func (l *LazyEmbedder) Ready() bool { return l.start().Ready() }

func (l *LazyEmbedder) Wait(ctx context.Context) error { return l.start().Wait(ctx) }

func (l *LazyEmbedder) LoadError() error {
	if e := l.loaded(); e != nil {
		return e.LoadError()
	}
	return nil
}

func (l *LazyEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return l.start().EmbedQuery(ctx, text)
}

func (l *LazyEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return l.start().EmbedDocuments(ctx, texts)
}

func (l *LazyEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return l.start().Embed(ctx, texts)
}

// Model describes the model without loading it.
func (l *LazyEmbedder) Model() service.ModelInfo {
	if e := l.loaded(); e != nil {
		return e.Model()
	}
	return service.ModelInfo{ID: l.id}
}

// Close frees the engine if it was started.
func (l *LazyEmbedder) Close() error {
	if e := l.Engine(); e != nil {
		return e.Close()
	}
	return nil
}
