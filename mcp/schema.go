package mcp

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
		"id":         typed("string", "Memory id (use it with forget or memory://{id})."),
		"content":    typed("string", ""),
		"tags":       arrayOf(typed("string", ""), ""),
		"project":    typed("string", ""),
		"created_at": typed("string", "RFC 3339 time the memory was stored."),
		"metadata":   typed("object", ""),
		"source":     typed("string", "Which entry point wrote it: mcp, cli, hook or import."),
	})
}

func hitSchema() schema {
	s := memorySchema()
	props := s["properties"].(schema)
	props["score"] = typed("number", "Ranking score; higher is better. Comparable only within one answer.")
	props["similarity"] = typed("number", "Cosine similarity to the query, when semantic ranking found it.")
	s["required"] = []string{"id", "content", "score", "tags", "project", "created_at"}
	return s
}

func rememberOutputSchema() schema {
	return object([]string{"id", "duplicate", "project", "embedded"}, schema{
		"id":        typed("string", "Id of the stored memory (the existing one when duplicate)."),
		"duplicate": typed("boolean", "True when the same content was already stored in this project; nothing new was written."),
		"similar_to": arrayOf(object([]string{"id", "similarity"}, schema{
			"id":         typed("string", ""),
			"similarity": typed("number", ""),
		}), "Existing memories in the same project that say nearly the same thing (cosine ≥ 0.95)."),
		"project":  typed("string", "Project the memory belongs to."),
		"embedded": typed("boolean", "False when stored before the model was ready; it is embedded later."),
		"note":     typed("string", ""),
		"redacted": arrayOf(object([]string{"kind", "count"}, schema{
			"kind":  typed("string", "What was removed: a credential kind such as aws-access-token or password, or private for a <private> block."),
			"count": typed("integer", ""),
		}), "What was removed before storing (never the secret itself); the stored text has [REDACTED:kind] markers in its place."),
	})
}

func recallOutputSchema() schema {
	return object([]string{"results", "model", "semantic", "mode"}, schema{
		"results":  arrayOf(hitSchema(), "Best first."),
		"model":    typed("string", "Embedding model used for the query; empty when none."),
		"semantic": typed("boolean", "False when results are keyword matches only (model not ready)."),
		"mode":     schema{"type": "string", "enum": []string{"hybrid", "semantic", "keyword"}, "description": "Mode actually used."},
		"note":     typed("string", "Why the answer differs from what was asked, when it does."),
	})
}

func forgetOutputSchema() schema {
	return object([]string{"deleted", "missing"}, schema{
		"deleted": arrayOf(typed("string", ""), "Ids deleted."),
		"missing": arrayOf(typed("string", ""), "Ids that did not exist."),
	})
}

func listOutputSchema() schema {
	return object([]string{"memories", "count", "offset"}, schema{
		"memories":    arrayOf(memorySchema(), "Newest first."),
		"count":       typed("integer", "Number of memories in this page."),
		"offset":      typed("integer", ""),
		"next_offset": typed("integer", "Pass as offset for the next page; absent on the last page."),
	})
}

func embedOutputSchema() schema {
	return object([]string{"model", "dimensions", "vectors"}, schema{
		"model":      typed("string", ""),
		"dimensions": typed("integer", ""),
		"vectors":    arrayOf(arrayOf(typed("number", ""), ""), "One L2-normalised vector per input text, in order."),
	})
}

func similarityOutputSchema() schema {
	return object([]string{"model", "results"}, schema{
		"model": typed("string", ""),
		"results": arrayOf(object([]string{"index", "text", "similarity"}, schema{
			"index":      typed("integer", "Position in candidates."),
			"text":       typed("string", ""),
			"similarity": typed("number", "Cosine similarity to the query, -1..1."),
		}), "Most similar first."),
	})
}
