package mcpserver

import (
	"fmt"
	"testing"
)

func TestListMemories(t *testing.T) {
	svc := newFake()
	h := newHarness(t, svc, Options{})
	for i := 0; i < 5; i++ {
		h.ok(ToolRemember, h.call(ToolRemember, map[string]any{"content": fmt.Sprintf("fact number %d", i), "tags": []string{"n"}}), nil)
	}
	var page listOut
	h.ok(ToolList, h.call(ToolList, map[string]any{"limit": 2}), &page)
	if page.Count != 2 || page.NextOffset == nil || *page.NextOffset != 2 || page.Memories[0].Content != "fact number 4" {
		t.Fatalf("page 1: %+v", page)
	}
	page = listOut{}
	h.ok(ToolList, h.call(ToolList, map[string]any{"limit": 2, "offset": 4, "tags": []string{"n"}, "project": "*"}), &page)
	if page.Count != 1 || page.NextOffset != nil || page.Offset != 4 {
		t.Fatalf("last page: %+v", page)
	}
	if svc.lastList.Project != "*" || svc.lastList.Offset != 4 {
		t.Errorf("list request: %+v", svc.lastList)
	}
	// No arguments at all: defaults.
	h.ok(ToolList, h.call(ToolList, nil), &page)
	if svc.lastList.Limit != 0 || page.Count != 5 {
		t.Errorf("defaults: %+v %+v", svc.lastList, page)
	}
}

func TestListMemoriesBadInput(t *testing.T) {
	h := newServiceHarness(t, 100)
	checkToolErrors(t, h, ToolList, []badCall{
		{map[string]any{"limit": 0}, nil}, // 0 = the service's default
		{map[string]any{"limit": 201}, []string{"limit", "between 1 and 200"}},
		{map[string]any{"limit": 201}, []string{"limit"}},
		{map[string]any{"offset": -1}, []string{"offset"}},
		{map[string]any{"project": ""}, nil}, // "" = default: fine
	})
}
