package mcpserver

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The edit tool: correct one memory. The corrected text becomes a new
// version that supersedes the old one (kept as history, no longer recalled).

// ToolEdit is the edit tool's name.
const ToolEdit = "edit"

type editArgs struct {
	ID      string   `json:"id"`
	Content string   `json:"content"`
	Tags    []string `json:"tags"`
}

func editTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	maxContent := d.opts.MaxContentBytes
	tool := mcp.NewTool(ToolEdit,
		mcp.WithToolTitle("Edit a memory"),
		mcp.WithDescription("Correct one memory that is wrong or outdated: the new content is stored as a new version (new id) that supersedes the old one, "+
			"which is kept as history and no longer recalled. Same project; same tags unless tags is given. Prefer this to forget + remember."),
		mcp.WithString("id", mcp.Required(), mcp.MinLength(1), mcp.MaxLength(64), mcp.Description("Id of the memory to correct (from recall or list_memories).")),
		mcp.WithString("content", mcp.Required(), mcp.MinLength(1), mcp.MaxLength(maxContent),
			mcp.Description(fmt.Sprintf("The corrected text, whole and self-contained, at most %d bytes.", maxContent))),
		tagsProp("Tags of the new version; omit to keep the old version's."),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(rememberOutputSchema()),
		annotations("Edit a memory", false, false, false),
	)
	return tool, handle(d, ToolEdit, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a editArgs) (*mcp.CallToolResult, error) {
		wctx, cancel := writeContext(ctx)
		defer cancel()
		r, err := svc.Edit(wctx, service.EditRequest{ID: a.ID, Content: a.Content, Tags: a.Tags, Source: memory.SourceMCP, ModelWait: d.opts.ModelWait})
		if err != nil {
			return nil, err
		}
		return rememberResult(r), nil
	})
}
