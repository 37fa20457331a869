package mcpserver

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// Tool schemas are part of the product's contract with clients and models.
// Each tool's definition, as sent in tools/list, is snapshotted in
// testdata/mcp/toolsnaps/<tool>.json; a change fails this test until the
// snapshot is regenerated on purpose:
//
//	UPDATE_TOOLSNAPS=true go test ./mcpserver/ -run TestToolSnapshots
const toolsnapsDir = "../testdata/mcp/toolsnaps"

func TestToolSnapshots(t *testing.T) {
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	live := map[string]bool{}
	for _, tool := range Tools() {
		live[tool.Name] = true
		got, err := json.MarshalIndent(tool, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		got = append(got, '\n')
		path := filepath.Join(toolsnapsDir, tool.Name+".json")
		if update {
			if err := os.MkdirAll(toolsnapsDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot (%v); run UPDATE_TOOLSNAPS=true go test ./mcpserver/ -run TestToolSnapshots", tool.Name, err)
			continue
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatalf("%s: snapshot is not JSON: %v", path, err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: live schema differs from %s (if intended, run UPDATE_TOOLSNAPS=true go test ./mcpserver/ -run TestToolSnapshots):\n%s",
				tool.Name, path, lineDiff(string(want), string(got)))
		}
	}
	// A snapshot of a tool that no longer exists is stale.
	entries, _ := os.ReadDir(toolsnapsDir)
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		if !live[name] {
			if update {
				_ = os.Remove(filepath.Join(toolsnapsDir, e.Name()))
			} else {
				t.Errorf("stale snapshot %s: tool %q is gone", e.Name(), name)
			}
		}
	}
}

// lineDiff is a minimal line diff: lines only in want (-) or only in got (+).
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	inW, inG := map[string]int{}, map[string]int{}
	for _, l := range wl {
		inW[l]++
	}
	for _, l := range gl {
		inG[l]++
	}
	var b bytes.Buffer
	for _, l := range wl {
		if inG[l] == 0 {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range gl {
		if inW[l] == 0 {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

// TestSchemasPortable enforces the subset of JSON Schema that every client
// accepts: no $ref/$defs, no format, no union types, an explicit type on every
// schema, object schemas with properties, and array schemas with items.
func TestSchemasPortable(t *testing.T) {
	for _, tool := range Tools() {
		b, err := json.Marshal(tool)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"inputSchema", "outputSchema"} {
			s, ok := doc[key].(map[string]any)
			if !ok {
				t.Errorf("%s: no %s", tool.Name, key)
				continue
			}
			if s["type"] != "object" {
				t.Errorf("%s.%s: top-level type must be object", tool.Name, key)
			}
			checkPortable(t, tool.Name+"."+key, s)
		}
		if in := doc["inputSchema"].(map[string]any); in["additionalProperties"] != false {
			t.Errorf("%s: inputSchema must set additionalProperties:false (arguments are decoded strictly)", tool.Name)
		}
	}
}

var allowedKeywords = map[string]bool{
	"type": true, "properties": true, "required": true, "items": true, "description": true,
	"additionalProperties": true, "enum": true, "minimum": true, "maximum": true, "default": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "title": true,
}

func checkPortable(t *testing.T, path string, s map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowedKeywords[k] {
			t.Errorf("%s: keyword %q outside the portable subset", path, k)
		}
	}
	typ, ok := s["type"].(string)
	if !ok {
		t.Errorf("%s: type must be a single string, got %v", path, s["type"])
		return
	}
	switch typ {
	case "object":
		props, _ := s["properties"].(map[string]any)
		if props == nil && s["additionalProperties"] == nil {
			// A free-form object (metadata) is fine.
			return
		}
		for name, p := range props {
			ps, ok := p.(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not a schema object", path, name)
				continue
			}
			checkPortable(t, path+"."+name, ps)
		}
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := props[r.(string)]; !ok {
					t.Errorf("%s: required %q is not a property", path, r)
				}
			}
		}
	case "array":
		items, ok := s["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: array without items schema", path)
			return
		}
		checkPortable(t, path+"[]", items)
	}
}
