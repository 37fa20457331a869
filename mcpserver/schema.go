package mcpserver

import (
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// Output schemas are plain, self-contained JSON Schema (no $ref, no formats,
// no union types) so that strict validators — MCP Inspector --strict, ajv in
// strict mode — accept them as they are.

type schema = map[string]any

func object(required []string, props schema) schema {
	if required == nil {
		required = []string{}
	}
	return schema{"type": "object", "properties": props, "required": required}
}

func typed(t, desc string) schema {
	s := schema{"type": t}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func arrayOf(items schema, desc string) schema {
	s := schema{"type": "array", "items": items}
	if desc != "" {
		s["description"] = desc
	}
	return s
}

// withRawOutputSchema sets a tool's outputSchema from a Go map.
func withRawOutputSchema(s schema) mcp.ToolOption {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("mcp: output schema does not encode: %v", err)) // a programming error, caught by every test
	}
	return mcp.WithRawOutputSchema(b)
}

// memorySchema describes one memory in list_memories and resources.
func memorySchema() schema {
	return object([]string{"id", "content", "tags", "project", "created_at"}, schema{
		"id":            typed("string", "Memory id (use it with forget or memory://{id})."),
		"content":       typed("string", ""),
		"tags":          arrayOf(typed("string", ""), ""),
		"project":       typed("string", ""),
		"created_at":    typed("string", "RFC 3339 time the memory was stored."),
		"metadata":      typed("object", ""),
		"source":        typed("string", "Which entry point wrote it: mcp, cli, hook or import."),
		"pinned":        typed("boolean", "Pinned: always competes in recall and is injected at session start."),
		"supersedes":    arrayOf(typed("string", ""), "Ids of the earlier versions this memory replaced."),
		"superseded_by": typed("string", "Id of the newer version that replaced this one (only with include_superseded)."),
	})
}
