package embed

import (
	"context"
	"log/slog"

	"github.com/mnemo-mcp/mnemo/embed/hub"
)

// ErrNotCached is wrapped by the error for a Hugging Face model that is not in
// the cache while Offline forbids downloading it (hub.ErrNotCached).
var ErrNotCached = hub.ErrNotCached

// resolve finds the engine's model on disk: its local folder, or its
// cached copy, downloaded first if needed.
func (e *Engine) resolve(ctx context.Context) (hub.Model, error) {
	return hubClient(e.o, e.log).Ensure(ctx, e.ref, false)
}

func hubClient(o Options, log *slog.Logger) hub.Client {
	return hub.Client{URL: o.HubURL, CacheDir: o.CacheDir, Offline: o.Offline, Progress: o.Progress, Logger: log}
}

// Pull makes sure o.Model is available locally and returns its folder: a
// local folder is checked; a hub model is downloaded into the cache if
// missing, and an existing cached copy is re-verified file by file (sha256)
// and repaired. It does not load the model.
func Pull(ctx context.Context, o Options) (string, error) {
	ref, err := hub.ParseRef(o.Model)
	if err != nil {
		return "", err
	}
	if ref.Local() {
		if _, err := inspectModel(ref.Dir, ref.OnnxFile); err != nil {
			return "", err
		}
		return ref.Dir, nil
	}
	m, err := hubClient(o, o.Logger).Ensure(ctx, ref, true)
	return m.Dir, err
}

// CachedModelDir is where a hub model lives under cacheDir ("" = default).
func CachedModelDir(cacheDir, model string) (string, error) {
	ref, err := hub.ParseRef(model)
	if err != nil {
		return "", err
	}
	if ref.Local() {
		return ref.Dir, nil
	}
	return hub.ModelDir(hub.CacheRoot(cacheDir), ref), nil
}
