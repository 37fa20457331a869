package mcpserver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mnemo-mcp/mnemo/pkg/humantime"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// A recall before the model is ready waits (sending progress when asked),
// then answers by keyword and says so.
func TestRecallWhileModelLoads(t *testing.T) {
	svc := newFake()
	h := newHarness(t, svc, Options{ModelWait: 80 * time.Millisecond})
	h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": "kubernetes cluster runs in eu-west"}), nil)
	svc.mu.Lock()
	svc.ready = false
	svc.mu.Unlock()

	var rec recallOut
	res := h.callMeta(ToolRecall, map[string]any{"query": "kubernetes"}, &mcp.Meta{ProgressToken: "tok-1"})
	h.ok(ToolRecall, res, &rec)
	if rec.Semantic || rec.Note == "" || len(rec.Results) != 1 || !strings.Contains(text(res), "keyword only") {
		t.Fatalf("recall while loading: %+v / %s", rec, text(res))
	}
	// Progress notifications arrive asynchronously; wait for them a little.
	var progress []mcp.JSONRPCNotification
	for i := 0; i < 200 && len(progress) == 0; i++ {
		h.mu.Lock()
		for _, n := range h.notifications {
			if n.Method == "notifications/progress" {
				progress = append(progress, n)
			}
		}
		h.mu.Unlock()
		if len(progress) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if len(progress) == 0 {
		t.Fatal("no progress notification while waiting for the model")
	}
	last := -1.0
	for _, n := range progress {
		f := n.Params.AdditionalFields
		if f["progressToken"] != "tok-1" {
			t.Errorf("progress token: %v", f["progressToken"])
		}
		p, _ := f["progress"].(float64)
		if p <= last {
			t.Errorf("progress not increasing: %v after %v", p, last)
		}
		last = p
	}

	// Without a progress token: same answer, no notifications needed.
	h.ok(ToolRecall, h.call(ToolRecall, map[string]any{"query": "kubernetes"}), &rec)
	if rec.Semantic {
		t.Error("semantic with no model")
	}
	// An explicit keyword recall is not "degraded": no note.
	rec = recallOut{}
	h.ok(ToolRecall, h.call(ToolRecall, map[string]any{"query": "kubernetes", "mode": "keyword"}), &rec)
	if rec.Note != "" {
		t.Errorf("keyword recall has a note: %q", rec.Note)
	}
}

func TestRecallBadInput(t *testing.T) {
	h := newServiceHarness(t, 100)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	checkToolErrors(t, h, ToolRecall, []badCall{
		{map[string]any{}, []string{"query", "empty"}},
		{map[string]any{"query": ""}, []string{"query", "empty"}},
		{map[string]any{"query": "x", "k": 0}, nil}, // 0 = the service's default
		{map[string]any{"query": "x", "k": 51}, []string{"k is 51", "between 1 and 50"}},
		{map[string]any{"query": "x", "k": 2.5}, []string{`"k"`, "integer"}},
		{map[string]any{"query": "x", "k": "5"}, []string{`"k"`, "integer", "string"}},
		{raw(`{"query":"x","k":1e30}`), []string{`"k"`, "integer"}},
		{map[string]any{"query": "x", "mode": "fuzzy"}, []string{"mode", "hybrid, semantic, keyword"}},
		{map[string]any{"query": "x", "since": "last tuesday"}, []string{"since", "RFC 3339"}},
		{map[string]any{"query": "x", "tags": "go"}, []string{`"tags"`, "array"}},
		{map[string]any{"query": strings.Repeat("q", service.MaxQueryBytes+1)}, []string{"query", "limit"}},
	})
}

// recall's since reaches the service as humantime.Parse reads it, as the
// CLI's --since does (cmd/mnemo's TestParseTimeFlagIsHumantime): a date is
// the user's midnight (it used to be UTC's here) and 1.5d is 36 hours.
func TestRecallSinceIsHumantime(t *testing.T) {
	local := time.Local
	time.Local = time.FixedZone("UTC-5", -5*3600) // a user whose midnight is not UTC's
	t.Cleanup(func() { time.Local = local })
	svc := newFake()
	h := newHarness(t, svc, Options{})
	for _, in := range []string{"2026-01-02", "1.5d", "7d", "2w", "36h", "2026-01-02T03:04:05Z"} {
		before := time.Now()
		h.ok(ToolRecall, h.call(ToolRecall, map[string]any{"query": "x", "since": in}), nil)
		after := time.Now()
		lo, _ := humantime.Parse(in, before)
		hi, err := humantime.Parse(in, after)
		if err != nil {
			t.Fatal(err)
		}
		if got := svc.lastRec.Since; got.Before(lo) || got.After(hi) {
			t.Errorf("since %q: the service got %v, humantime reads %v..%v", in, got, lo, hi)
		}
	}
}
