package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/internal/app"
	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/internal/warm"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/project"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// BenchmarkHookLatency measures what Claude Code waits for on every prompt:
// a fresh `mnemo hook user-prompt-submit` process, end to end (exec, read
// stdin, recall, print), with minilm-l6-synthetic and a store of 200
// memories, in three set-ups:
//
//   - no-server:   keyword recall straight from the store (no model load);
//   - warm:        a running server's warm model over the unix socket;
//   - local-model: no server, the hook loads the model itself (budget 30 s
//     so the load is measured, not cut short).
//
// It reports p50_ms and p95_ms. Run (see docs/hooks.md):
//
//	make build && MNEMO_BENCH_BIN=$PWD/bin/mnemo go test -run '^$' \
//	  -bench BenchmarkHookLatency -benchtime 40x ./cmd/mnemo/
func BenchmarkHookLatency(b *testing.B) {
	bin := os.Getenv("MNEMO_BENCH_BIN")
	if bin == "" {
		b.Skip("set MNEMO_BENCH_BIN to a built mnemo binary (make build)")
	}
	home := b.TempDir()
	b.Setenv("MNEMO_HOME", home)
	b.Setenv("MNEMO_CACHE", filepath.Join(home, "cache"))
	b.Setenv("MNEMO_MODEL", testmodels.Dir(b, testmodels.MiniLM))
	b.Setenv("MNEMO_OFFLINE", "1")
	b.Setenv("MNEMO_LOG_LEVEL", "info")
	b.Setenv("CLAUDE_PROJECT_DIR", "")
	work := filepath.Join(home, "work", "bench")
	os.MkdirAll(work, 0o700)

	ctx := context.Background()
	a, err := app.Open(ctx, app.Options{Stderr: os.Stderr, Process: "bench", Source: memory.SourceCLI, Model: app.ModelSync, StderrLevel: "off"})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	proj := project.Detect(os.Getenv, work)
	g := testmodels.LoadGolden(b, testmodels.MiniLM)
	for i := 0; i < 200; i++ {
		content := fmt.Sprintf("%s (note %d)", g.Sentences[i%len(g.Sentences)], i)
		if _, err := a.Svc.Remember(ctx, service.RememberRequest{Content: content, Project: proj}); err != nil {
			b.Fatal(err)
		}
	}
	input, _ := json.Marshal(map[string]any{"session_id": "bench", "cwd": work, "hook_event_name": "UserPromptSubmit",
		"prompt": "Shares dropped steeply on Wall Street after the announcement."})

	runHook := func(b *testing.B, env ...string) {
		b.Helper()
		var durs []time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			cmd := exec.Command(bin, "hook", "user-prompt-submit")
			cmd.Env = append(os.Environ(), env...)
			cmd.Stdin = bytes.NewReader(input)
			var out bytes.Buffer
			cmd.Stdout = &out
			start := time.Now()
			if err := cmd.Run(); err != nil {
				b.Fatalf("hook: %v", err)
			}
			durs = append(durs, time.Since(start))
		}
		b.StopTimer()
		sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
		pct := func(p float64) float64 {
			return float64(durs[int(p*float64(len(durs)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50_ms")
		b.ReportMetric(pct(0.95), "p95_ms")
	}

	b.Run("no-server", func(b *testing.B) { runHook(b, "MNEMO_HOOK_WARM=0") })
	b.Run("warm", func(b *testing.B) {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- warm.Serve(sctx, warm.Dir(home), a.Svc, a.Log) }()
		defer func() { cancel(); <-done }()
		path := warm.SocketPath(warm.Dir(home), os.Getpid())
		for i := 0; i < 500; i++ {
			if _, err := os.Stat(path); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		runHook(b)
	})
	b.Run("local-model", func(b *testing.B) {
		runHook(b, "MNEMO_HOOK_WARM=0", "MNEMO_HOOK_LOCAL_MODEL=1", "MNEMO_HOOK_BUDGET=30s")
	})
}
