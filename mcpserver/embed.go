package mcpserver

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The embed tool: sentence embeddings of a few texts.

// ToolEmbed is the embed tool's name (fixed: clients and prompts refer to it).
const ToolEmbed = "embed"

type embedArgs struct {
	Texts []string `json:"texts"`
}

type embedOut struct {
	Model      string      `json:"model"`
	Dimensions int         `json:"dimensions"`
	Vectors    [][]float32 `json:"vectors"`
}

func embedOutputSchema() schema {
	return object([]string{"model", "dimensions", "vectors"}, schema{
		"model":      typed("string", ""),
		"dimensions": typed("integer", ""),
		"vectors":    arrayOf(arrayOf(typed("number", ""), ""), "One L2-normalised vector per input text, in order."),
	})
}

func embedTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := mcp.NewTool(ToolEmbed,
		mcp.WithToolTitle("Embed texts"),
		mcp.WithDescription(fmt.Sprintf("Compute sentence embeddings (L2-normalised vectors) of 1-%d texts with the local embedding model. For comparing texts prefer similarity, which returns scores instead of raw vectors.", service.MaxEmbedTexts)),
		mcp.WithArray("texts", mcp.Required(), mcp.MinItems(1), mcp.MaxItems(service.MaxEmbedTexts),
			mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(d.opts.MaxContentBytes)),
			mcp.Description("The texts to embed, in order.")),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(embedOutputSchema()),
		annotations("Embed texts", true, false, true),
	)
	return tool, handle(d, ToolEmbed, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a embedArgs) (*mcp.CallToolResult, error) {
		r, err := svc.Embed(ctx, a.Texts)
		if err != nil {
			return nil, err
		}
		if r.Vectors == nil {
			r.Vectors = [][]float32{}
		}
		out := embedOut{Model: r.Model, Dimensions: r.Dims, Vectors: r.Vectors}
		text := fmt.Sprintf("%d vectors of %d dimensions from %s (the vectors are in structuredContent).", len(r.Vectors), r.Dims, r.Model)
		return mcp.NewToolResultStructured(out, text), nil
	})
}
