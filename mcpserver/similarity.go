package mcpserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The similarity tool: rank candidate texts against a query text.

// ToolSimilarity is the similarity tool's name (fixed: clients and prompts refer to it).
const ToolSimilarity = "similarity"

type similarityArgs struct {
	Query      string   `json:"query"`
	Candidates []string `json:"candidates"`
}

type similarityOut struct {
	Model   string           `json:"model"`
	Results []service.Scored `json:"results"`
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

func similarityTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := mcp.NewTool(ToolSimilarity,
		mcp.WithToolTitle("Text similarity"),
		mcp.WithDescription(fmt.Sprintf("Rank 1-%d candidate texts by semantic similarity (cosine of embeddings) to a query text, most similar first.", service.MaxEmbedTexts)),
		mcp.WithString("query", mcp.Required(), mcp.MinLength(1), mcp.MaxLength(service.MaxQueryBytes),
			mcp.Description("The text to compare against.")),
		mcp.WithArray("candidates", mcp.Required(), mcp.MinItems(1), mcp.MaxItems(service.MaxEmbedTexts),
			mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(d.opts.MaxContentBytes)),
			mcp.Description("The texts to score.")),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(similarityOutputSchema()),
		annotations("Text similarity", true, false, true),
	)
	return tool, handle(d, ToolSimilarity, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a similarityArgs) (*mcp.CallToolResult, error) {
		r, err := svc.Similarity(ctx, a.Query, a.Candidates)
		if err != nil {
			return nil, err
		}
		out := similarityOut{Model: r.Model, Results: make([]service.Scored, len(r.Results))}
		copy(out.Results, r.Results)
		var b strings.Builder
		fmt.Fprintf(&b, "Similarity to the query (%s), most similar first:", r.Model)
		for i := range out.Results {
			out.Results[i].Similarity = round4(out.Results[i].Similarity)
			fmt.Fprintf(&b, "\n%.4f  [%d] %s", out.Results[i].Similarity, out.Results[i].Index, truncate(oneLine(out.Results[i].Text), 120))
		}
		return mcp.NewToolResultStructured(out, b.String()), nil
	})
}
