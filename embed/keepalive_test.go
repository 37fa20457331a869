package embed

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// waitUnloaded polls until the engine released its model.
func waitUnloaded(t *testing.T, e *Engine) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e.Loaded() {
		if time.Now().After(deadline) {
			t.Fatalf("model still loaded long after the keep-alive: %+v", e.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeepAliveUnloadsAndReloads(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	e := loadTest(t, Options{Model: dir, KeepAlive: 300 * time.Millisecond})
	ctx := context.Background()
	texts := g.Sentences[:5]
	before, err := e.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	waitUnloaded(t, e)
	st := e.Stats()
	if st.Loaded || st.Unloads < 1 || st.Loads != 1 {
		t.Fatalf("after keep-alive: %+v, want unloaded once after one load", st)
	}
	if !e.Ready() {
		t.Fatal("Ready() false while unloaded: the engine must stay usable (it reloads)")
	}
	// The tokenizer survives the unload: counting needs no reload.
	if n, err := e.CountTokens(texts[0]); err != nil || n != len(g.TokenIDs[0]) {
		t.Fatalf("CountTokens while unloaded: %d, %v; want %d", n, err, len(g.TokenIDs[0]))
	}
	if e.Stats().Loads != 1 {
		t.Fatal("CountTokens reloaded the model")
	}

	after, err := e.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Loads != 2 {
		t.Fatalf("after the next call: %+v, want a second load", st)
	}
	for i := range texts {
		if d := maxAbsDiff(before[i], after[i]); d > 1e-6 {
			t.Errorf("text %d: vector after reload differs by %.2e", i, d)
		}
		checkClose(t, texts[i], after[i], g.Embeddings[i])
	}

	// Concurrent callers after an unload share one reload, and Close
	// during use is clean.
	waitUnloaded(t, e)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := e.EmbedQuery(ctx, g.Sentences[10+i])
			if err != nil {
				t.Error(err)
				return
			}
			checkClose(t, "concurrent", v, g.Embeddings[10+i])
		}()
	}
	wg.Wait()
	// Normally exactly one more load; a very slow machine may let the
	// 300ms keep-alive expire again between callers, never once per caller.
	if st := e.Stats(); st.Loads < 3 || st.Loads >= 6 {
		t.Errorf("4 concurrent calls after an unload: %+v, want them to share reloads", st)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if e.Loaded() || e.Ready() {
		t.Error("closed engine reports loaded/ready")
	}
}

func TestKeepAliveZeroNeverUnloads(t *testing.T) {
	dir := testmodels.Dir(t, testmodels.BertTiny)
	e := loadTest(t, Options{Model: dir, NoWarmup: true})
	if _, err := e.Embed(context.Background(), []string{"hello"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if st := e.Stats(); !st.Loaded || st.Unloads != 0 {
		t.Fatalf("keep-alive 0: %+v, want loaded forever", st)
	}
}
