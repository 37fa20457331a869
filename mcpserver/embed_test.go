package mcpserver

import (
	"strings"
	"testing"
)

func TestEmbed(t *testing.T) {
	h := newHarness(t, newFake(), Options{})
	var emb embedOut
	h.ok(ToolEmbed, h.call(ToolEmbed, map[string]any{"texts": []string{"alpha", "beta"}}), &emb)
	if emb.Model != fakeModel || emb.Dimensions != fakeDims || len(emb.Vectors) != 2 || len(emb.Vectors[0]) != fakeDims {
		t.Fatalf("embed: %+v", emb)
	}
}

func TestEmbedBadInput(t *testing.T) {
	h := newServiceHarness(t, 100)
	long := strings.Repeat("x", 101)
	checkToolErrors(t, h, ToolEmbed, []badCall{
		{map[string]any{}, []string{"texts", "empty"}},
		{map[string]any{"texts": []string{}}, []string{"texts", "1 to 64"}},
		{map[string]any{"texts": "hello"}, []string{`"texts"`, "array of strings", "string"}},
		{map[string]any{"texts": make([]string, 65)}, []string{"65 texts", "at most 64"}},
		{map[string]any{"texts": []string{"ok", ""}}, []string{"texts[1]", "empty"}},
		{map[string]any{"texts": []string{long}}, []string{"texts[0]", "limit of 100"}},
	})
}
