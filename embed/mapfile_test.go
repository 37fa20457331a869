package embed

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// mappingsOf counts this process's memory mappings of files under dir
// (Linux only; -1 elsewhere).
func mappingsOf(t *testing.T, dir string) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		return -1
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(maps), dir)
}

// TestEmbeddingTableMapped: the word-embedding table is mapped from the
// graph cache's file rather than read into the heap, the vectors are the
// golden ones, and a keep-alive unload and Close release the mapping
// (a reload maps it again).
func TestEmbeddingTableMapped(t *testing.T) {
	if !mapsWeights {
		t.Skip("weights are not mapped on " + runtime.GOOS)
	}
	g := testmodels.LoadGolden(t, testmodels.BertTiny)
	cache := t.TempDir()
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), CacheDir: cache, CacheEntries: -1, KeepAlive: 300 * time.Millisecond})
	ctx := context.Background()
	check := func(when string) {
		t.Helper()
		got, err := e.Embed(ctx, g.Sentences[:8])
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if d := maxAbsDiff(v, g.Embeddings[i]); d > 1e-4 {
				t.Fatalf("%s: sentence %d differs from golden by %g", when, i, d)
			}
		}
		rt, err := e.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mapped := rt.mappedBytes
		e.mu.RUnlock()
		if mapped < 1<<20 || !strings.Contains(e.Info().Kernels, "mapped from the graph cache") {
			t.Fatalf("%s: %d bytes mapped, Info().Kernels %q", when, mapped, e.Info().Kernels)
		}
		if n := mappingsOf(t, cache); n == 0 {
			t.Fatalf("%s: no mapping of the graph cache", when)
		}
	}
	check("first load")
	waitUnloaded(t, e)
	if n := mappingsOf(t, cache); n > 0 {
		t.Fatalf("%d mappings left after the keep-alive unload", n)
	}
	check("reload")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := mappingsOf(t, cache); n > 0 {
		t.Fatalf("%d mappings left after Close", n)
	}
}

// Without the rewritten graph's external data file nothing is mapped.
func TestNothingMappedWithoutRewrite(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), NoGraphRewrite: true, NoWarmup: true})
	rt, err := e.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer e.mu.RUnlock()
	if rt.mappedBytes != 0 {
		t.Fatalf("%d bytes mapped from the original model", rt.mappedBytes)
	}
}
