package ui

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/jsonl"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// seed stores n memories (through the service's import, like a user's
// store) over ten projects, the newest first in time order.
func seed(tb testing.TB, svc *service.Service, n int) {
	tb.Helper()
	var buf bytes.Buffer
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	srcs := []memory.Source{memory.SourceMCP, memory.SourceCLI, memory.SourceHook, memory.SourceImport}
	for i := range n {
		t := start.Add(time.Duration(i) * time.Minute)
		m := memory.Memory{
			ID:        memory.NewID(t),
			Content:   fmt.Sprintf("memory %d: the service on host-%d listens on port %d; deploys go through pipeline %d", i, i%37, 1000+i%5000, i%11),
			Project:   fmt.Sprintf("project-%d", i%10),
			Tags:      []string{fmt.Sprintf("t%d", i%7)},
			Metadata:  map[string]any{"session_id": fmt.Sprintf("s-%d", i/50)},
			Source:    srcs[i%len(srcs)],
			Author:    "ann@host",
			CreatedAt: t, UpdatedAt: t, AccessedAt: t,
		}
		if err := jsonl.Write(&buf, m, false); err != nil {
			tb.Fatal(err)
		}
	}
	res, err := svc.Import(context.Background(), &buf, service.ImportOptions{})
	if err != nil || res.Imported != n {
		tb.Fatalf("seed: %+v %v", res, err)
	}
}

// BenchmarkBrowseFirstPage is the server time of the first page (the
// newest 25 memories, project counts) of a store of 10k memories.
func BenchmarkBrowseFirstPage(b *testing.B) {
	f := newFixture(b)
	seed(b, f.svc, 10000)
	b.ResetTimer()
	for b.Loop() {
		if rec := f.get("/"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkBrowseFirstPageCold is the first page when the store changed
// since the last one (the project counts are computed again).
func BenchmarkBrowseFirstPageCold(b *testing.B) {
	f := newFixture(b)
	seed(b, f.svc, 10000)
	b.ResetTimer()
	for b.Loop() {
		f.srv.mu.Lock()
		f.srv.statsVersion = ""
		f.srv.mu.Unlock()
		if rec := f.get("/"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkBrowseScanFilter is a page filtered by session, which the
// store cannot apply: the server scans.
func BenchmarkBrowseScanFilter(b *testing.B) {
	f := newFixture(b)
	seed(b, f.svc, 10000)
	b.ResetTimer()
	for b.Loop() {
		if rec := f.get("/?session=s-3"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkSearchKeyword is a keyword search page over 10k memories.
func BenchmarkSearchKeyword(b *testing.B) {
	f := newFixture(b)
	seed(b, f.svc, 10000)
	b.ResetTimer()
	for b.Loop() {
		if rec := f.get("/search?mode=keyword&q=pipeline+port"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkHealth is the health page (counts, chart) over 10k memories.
func BenchmarkHealth(b *testing.B) {
	f := newFixture(b)
	seed(b, f.svc, 10000)
	b.ResetTimer()
	for b.Loop() {
		if rec := f.get("/health"); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
