package mcpserver

import (
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

func TestForgetBadInput(t *testing.T) {
	h := newServiceHarness(t, 100)
	checkToolErrors(t, h, ToolForget, []badCall{
		{map[string]any{}, []string{"id", "ids"}},
		{map[string]any{"id": "not-an-id"}, []string{"not-an-id", "not a memory id"}},
		{map[string]any{"ids": "01HZY3G7Q5E2M8R9T0V1W2X3Y4"}, []string{`"ids"`, "array of strings"}},
		{map[string]any{"ids": make([]string, service.MaxForgetIDs+1)}, []string{"at most 100"}},
	})
}
