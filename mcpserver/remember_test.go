package mcpserver

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// A remember that arrives while the model loads waits as long as a recall
// would, so memories written right after start-up get their vectors.
func TestRememberWaitsBrieflyForTheModel(t *testing.T) {
	svc := newFake()
	h := newHarness(t, svc, Options{ModelWait: 1234 * time.Millisecond})
	h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": "deploys go through the staging cluster first"}), nil)
	svc.mu.Lock()
	defer svc.mu.Unlock()
	if svc.rememberWait != 1234*time.Millisecond {
		t.Fatalf("remember passed ModelWait %v to the service, want the server's 1.234s", svc.rememberWait)
	}
}

// A write is not cancelled with its request: shutdown cancels request
// contexts, and the memory must still be committed.
func TestWriteContextSurvivesCancellation(t *testing.T) {
	svc := newFake()
	var errAtWrite error
	var hasDeadline bool
	svc.onRemember = func(ctx context.Context) { errAtWrite = ctx.Err(); _, hasDeadline = ctx.Deadline() }
	s := NewServer(Ready(svc), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = ToolRemember
	req.Params.Arguments = map[string]any{"content": "written during shutdown"}
	res, err := s.GetTool(ToolRemember).Handler(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("remember with a cancelled request context: %v %s", err, text(res))
	}
	if errAtWrite != nil {
		t.Error("write ran with a cancelled context")
	}
	if !hasDeadline {
		t.Error("detached write context has no deadline")
	}
}

func TestRememberBadInput(t *testing.T) {
	h := newServiceHarness(t, 100)
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	long := strings.Repeat("x", 101)
	checkToolErrors(t, h, ToolRemember, []badCall{
		{nil, []string{"content", "empty"}},
		{map[string]any{"content": "  "}, []string{"content", "empty"}},
		{map[string]any{"content": long}, []string{"101 bytes", "limit of 100"}},
		{map[string]any{"content": "x", "tags": "a,b"}, []string{`"tags"`, "array of strings", "string"}},
		{map[string]any{"content": "x", "tags": []any{1}}, []string{`"tags"`, "array of strings"}},
		{map[string]any{"content": "x", "tags": []string{""}}, []string{"tags", "empty"}},
		{map[string]any{"content": "x", "tags": []string{"a,b"}}, []string{"tags", "comma"}},
		{map[string]any{"content": "x", "tags": []string{strings.Repeat("t", 65)}}, []string{"tags", "longer"}},
		{map[string]any{"content": "x", "project": "*"}, []string{"project", "all projects"}},
		{map[string]any{"content": "x", "project": "a\x00b"}, []string{"project", "control"}},
		{map[string]any{"content": "x", "project": strings.Repeat("p", 300)}, []string{"project", "longer"}},
		{map[string]any{"content": "x", "metadata": "nope"}, []string{`"metadata"`, "JSON object"}},
		{map[string]any{"content": 42}, []string{`"content"`, "a string", "number"}},
		{map[string]any{"content": "x", "Content": "y"}, []string{`unknown argument "Content"`}},
		{map[string]any{"content": "x", "importance": 3}, []string{`unknown argument "importance"`, "content, metadata, project, supersedes, tags"}},
		{raw(`["content"]`), []string{"JSON object", "array"}},
		{raw(`"remember this"`), []string{"JSON object", "string"}},
	})
}
