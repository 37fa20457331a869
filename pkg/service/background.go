package service

import (
	"context"
	"fmt"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Background embedding: `mnemo serve` gives every memory a vector of the
// model it runs, so that no recall is silently half-semantic. Memories with
// no vector (written while the model loaded, by hooks, imported without
// vectors) come first, then those whose vector is from another model (the
// configured model changed). It runs at low priority: small batches, and a
// pause after each as long as the batch took, so it takes at most about half
// of the time of the cores it runs on while the server answers calls.

// BackgroundBatch is the batch size of background embedding.
const BackgroundBatch = 16

// BackgroundProgress reports background embedding: Done of Total memories
// (Total as counted at the start; other processes may add more), Missing
// and Other the memories without a vector and with another model's vector
// at the start.
type BackgroundProgress struct {
	Done, Total, Missing, Other int
	Finished                    bool
}

// WarmIndexes loads the store's in-memory indexes (memory.IndexWarmer)
// once the model is ready or has failed (the model is what a first recall
// needs first), so that no recall pays for the load. Stores without such
// indexes do nothing.
func (s *Service) WarmIndexes(ctx context.Context) error {
	w, ok := s.store.(memory.IndexWarmer)
	if !ok {
		return nil
	}
	if s.emb != nil {
		if err := s.emb.Wait(ctx); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return w.WarmIndexes(ctx)
}

// EmbedBackground waits for the model (as long as ctx allows), then embeds
// the memories without a vector of it: first those with none, then those
// with another model's. progress, when set, is called after every batch and
// at the end. It returns how many vectors it stored.
func (s *Service) EmbedBackground(ctx context.Context, progress func(BackgroundProgress)) (int, error) {
	if s.emb == nil {
		return 0, fmt.Errorf("%w: no embedding model configured", ErrModelUnavailable)
	}
	if err := s.emb.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("%w: %v", ErrModelUnavailable, err)
	}
	model := s.emb.Model().ID
	var p BackgroundProgress
	if st, err := s.store.Stats(ctx); err == nil {
		p.Missing = st.ByModel[""]
		p.Other = st.Total - p.Missing - st.ByModel[model]
		p.Total = p.Missing + p.Other
	}
	report := func() {
		if progress != nil {
			progress(p)
		}
	}
	// Two passes over NeedEmbedding's id order: vectorless first, so the
	// memories no semantic search can see at all are served soonest.
	for _, missingPass := range []bool{true, false} {
		after := ""
		for {
			page, err := s.store.NeedEmbedding(ctx, model, after, 256)
			if err != nil {
				return p.Done, fmt.Errorf("list memories to embed: %w", err)
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].ID
			var batch []memory.Memory
			for _, m := range page {
				if (m.Model == "" || len(m.Vector) == 0) == missingPass {
					batch = append(batch, m)
				}
			}
			for len(batch) > 0 {
				n := min(len(batch), BackgroundBatch)
				start := time.Now()
				stored, err := s.storeVectors(ctx, batch[:n], model)
				p.Done += stored
				if err != nil {
					return p.Done, err
				}
				p.Total = max(p.Total, p.Done)
				batch = batch[n:]
				report()
				// Low priority: yield as long as the batch took.
				if err := sleepCtx(ctx, max(time.Since(start), 10*time.Millisecond)); err != nil {
					return p.Done, err
				}
			}
		}
	}
	s.embeddedMu.Lock()
	s.embedded = embeddedCount{} // recount for the next recall
	s.embeddedMu.Unlock()
	p.Finished = true
	report()
	return p.Done, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
