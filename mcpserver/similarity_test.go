package mcpserver

import "testing"

func TestSimilarity(t *testing.T) {
	h := newHarness(t, newFake(), Options{})
	var sim similarityOut
	h.ok(ToolSimilarity, h.call(ToolSimilarity, map[string]any{"query": "cat", "candidates": []string{"dog", "act", "tac cat"}}), &sim)
	if len(sim.Results) != 3 || sim.Results[0].Similarity < sim.Results[1].Similarity || sim.Results[2].Text != "dog" || sim.Results[2].Index != 0 {
		t.Fatalf("similarity: %+v", sim)
	}
}

func TestSimilarityBadInput(t *testing.T) {
	h := newServiceHarness(t, 100)
	checkToolErrors(t, h, ToolSimilarity, []badCall{
		{map[string]any{"candidates": []string{"a"}}, []string{"query", "empty"}},
		{map[string]any{"query": "a"}, []string{"candidates", "empty"}},
		{map[string]any{"query": "a", "candidates": "b"}, []string{`"candidates"`, "array"}},
		{map[string]any{"query": "a", "candidates": make([]string, 65)}, []string{"candidates", "at most 64"}},
	})
}
