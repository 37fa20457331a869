package main

import (
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// An id typed or copied in lowercase finds its memory (ULIDs are
// case-insensitive).
func TestForgetLowercaseID(t *testing.T) {
	cliEnv(t, "")
	r := mustCLI(t, "", "remember", "a memory to forget by a lowercase id", "--json")
	id := jsonLines[service.RememberResult](t, r.stdout)[0].ID
	r = mustCLI(t, "", "forget", "  "+strings.ToLower(id)+" ")
	if !strings.Contains(r.stdout, id) {
		t.Fatalf("forget by lowercase id: %s", r)
	}
	if r := mustCLI(t, "", "list", "--json"); strings.Contains(r.stdout, id) {
		t.Fatalf("still there: %s", r)
	}
}
