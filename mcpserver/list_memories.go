package mcpserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/quote"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The list_memories tool: page through memories without a query.

// ToolList is the list_memories tool's name (fixed: clients and prompts refer to it).
const ToolList = "list_memories"

type listArgs struct {
	Limit   *int     `json:"limit"`
	Offset  *int     `json:"offset"`
	Tags    []string `json:"tags"`
	Project string   `json:"project"`
	// IncludeSuperseded also lists old versions; Pinned lists pinned only.
	IncludeSuperseded bool `json:"include_superseded"`
	Pinned            bool `json:"pinned"`
}

type listOut struct {
	Memories   []memoryOut `json:"memories"`
	Count      int         `json:"count"`
	Offset     int         `json:"offset"`
	NextOffset *int        `json:"next_offset,omitempty"`
}

func listOutputSchema() schema {
	return object([]string{"memories", "count", "offset"}, schema{
		"memories":    arrayOf(memorySchema(), "Newest first."),
		"count":       typed("integer", "Number of memories in this page."),
		"offset":      typed("integer", ""),
		"next_offset": typed("integer", "Pass as offset for the next page; absent on the last page."),
	})
}

func listMemoriesTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := mcp.NewTool(ToolList,
		mcp.WithToolTitle("List memories"),
		mcp.WithDescription("List stored memories, newest first, without a query: to review what is known about a project or to find ids. Use recall to search."),
		mcp.WithInteger("limit", mcp.Min(1), mcp.Max(service.MaxListLimit), mcp.DefaultNumber(service.DefaultListLimit),
			mcp.Description(fmt.Sprintf("Page size, 1-%d (default %d).", service.MaxListLimit, service.DefaultListLimit))),
		mcp.WithInteger("offset", mcp.Min(0), mcp.DefaultNumber(0), mcp.Description("Memories to skip (from next_offset).")),
		tagsProp("Only memories with at least one of these tags."),
		projectProp("Project to list (plus global); \"*\" for all projects; omit for the current project."),
		mcp.WithBoolean("include_superseded", mcp.DefaultBool(false), mcp.Description("Also list old versions that newer memories replaced.")),
		mcp.WithBoolean("pinned", mcp.DefaultBool(false), mcp.Description("Only pinned memories.")),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(listOutputSchema()),
		annotations("List memories", true, false, true),
	)
	return tool, handle(d, ToolList, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a listArgs) (*mcp.CallToolResult, error) {
		limit, offset := 0, 0
		if a.Limit != nil {
			limit = *a.Limit
		}
		if a.Offset != nil {
			offset = *a.Offset
		}
		ms, err := svc.List(ctx, service.ListRequest{Project: a.Project, Tags: a.Tags, Limit: limit, Offset: offset,
			IncludeSuperseded: a.IncludeSuperseded, Pinned: a.Pinned})
		if err != nil {
			return nil, err
		}
		out := listOut{Memories: make([]memoryOut, 0, len(ms)), Count: len(ms), Offset: offset}
		for _, m := range ms {
			out.Memories = append(out.Memories, toMemoryOut(m))
		}
		if limit == 0 {
			limit = service.DefaultListLimit
		}
		if len(ms) == limit {
			next := offset + limit
			out.NextOffset = &next
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d memor%s (offset %d).", out.Count, plural(out.Count, "y", "ies"), out.Offset)
		if len(out.Memories) > 0 {
			b.WriteString("\n" + quote.DataNotice)
		}
		for _, m := range out.Memories {
			fmt.Fprintf(&b, "\n- %s [%s] %s", m.ID, quote.Text(m.Project), quotedLine(m.Content, 200))
		}
		if out.NextOffset != nil {
			fmt.Fprintf(&b, "\nMore: offset %d.", *out.NextOffset)
		}
		return mcp.NewToolResultStructured(out, b.String()), nil
	})
}
