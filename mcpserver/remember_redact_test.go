package mcpserver

import (
	"context"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/redact"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// redactingFake redacts as the real service does (service.prepareForStore),
// so the tool's answer can be checked against its outputSchema.
type redactingFake struct{ *fakeMemories }

func (r redactingFake) Remember(ctx context.Context, req service.RememberRequest) (service.RememberResult, error) {
	content, found := redact.String(req.Content)
	req.Content = content
	res, err := r.fakeMemories.Remember(ctx, req)
	res.Redacted = found
	return res, err
}

// newRedactingHarness is newHarness over redactingFake.
func newRedactingHarness(t *testing.T) (*harness, *fakeMemories) {
	fake := newFake()
	h := newHarnessOver(t, redactingFake{fake}, Options{})
	h.svc = fake
	return h, fake
}

func TestRememberReportsRedactions(t *testing.T) {
	h, svc := newRedactingHarness(t)
	const key = "AKIAIOSFODNN7EXAMPLE"
	res := h.call(ToolRemember, map[string]any{"content": "staging deploy key " + key + " <private>pager pin 4411</private>"})
	var rem rememberOut
	h.ok(ToolRemember, res, &rem)
	if redact.Summary(rem.Redacted) != "aws-access-token ×1, private ×1" {
		t.Fatalf("redacted: %+v", rem.Redacted)
	}
	if txt := text(res); !strings.Contains(txt, "Redacted before storing: aws-access-token ×1, private ×1.") || strings.Contains(txt, key) {
		t.Fatalf("text: %q", txt)
	}
	if m := svc.mems[rem.ID]; strings.Contains(m.Content, key) || strings.Contains(m.Content, "4411") {
		t.Fatalf("stored: %q", m.Content)
	}
	// Nothing to redact: the field is absent.
	var plain rememberOut
	res = h.call(ToolRemember, map[string]any{"content": "the build uses make"})
	h.ok(ToolRemember, res, &plain)
	if plain.Redacted != nil || strings.Contains(text(res), "Redacted") {
		t.Fatalf("plain: %+v %q", plain, text(res))
	}
}
