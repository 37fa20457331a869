package mcpserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The pin tool: pin or unpin memories. Pinned memories always compete in a
// recall (and rank above unpinned ones) and are injected at session start.

// ToolPin is the pin tool's name.
const ToolPin = "pin"

type pinArgs struct {
	ID     string   `json:"id"`
	IDs    []string `json:"ids"`
	Pinned *bool    `json:"pinned"`
}

type pinOut struct {
	Changed []string `json:"changed"`
	Missing []string `json:"missing"`
	Pinned  bool     `json:"pinned"`
}

func pinOutputSchema() schema {
	return object([]string{"changed", "missing", "pinned"}, schema{
		"changed": arrayOf(typed("string", ""), "Ids now pinned (or unpinned)."),
		"missing": arrayOf(typed("string", ""), "Ids that did not exist."),
		"pinned":  typed("boolean", "True when pinned, false when unpinned."),
	})
}

func pinTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := mcp.NewTool(ToolPin,
		mcp.WithToolTitle("Pin memories"),
		mcp.WithDescription("Pin memories that must always be at hand (standing instructions, key facts): a pinned memory is in every recall's results "+
			"of its project and injected at session start. pinned:false unpins. Pin few: every pinned memory takes a result slot."),
		mcp.WithString("id", mcp.MinLength(1), mcp.MaxLength(64), mcp.Description("Id of one memory.")),
		mcp.WithArray("ids", mcp.Description(fmt.Sprintf("Ids of several memories (at most %d).", service.MaxForgetIDs)),
			mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(64)), mcp.MaxItems(service.MaxForgetIDs)),
		mcp.WithBoolean("pinned", mcp.DefaultBool(true), mcp.Description("true (default) pins, false unpins.")),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(pinOutputSchema()),
		annotations("Pin memories", false, false, true),
	)
	return tool, handle(d, ToolPin, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a pinArgs) (*mcp.CallToolResult, error) {
		ids := a.IDs
		if a.ID != "" {
			ids = append([]string{a.ID}, ids...)
		}
		pinned := a.Pinned == nil || *a.Pinned
		wctx, cancel := writeContext(ctx)
		defer cancel()
		r, err := svc.Pin(wctx, ids, pinned)
		if err != nil {
			return nil, err
		}
		out := pinOut{Changed: r.Changed, Missing: r.Missing, Pinned: pinned}
		if out.Changed == nil {
			out.Changed = []string{}
		}
		if out.Missing == nil {
			out.Missing = []string{}
		}
		verb := "Pinned"
		if !pinned {
			verb = "Unpinned"
		}
		if len(out.Missing) > 0 {
			msg := fmt.Sprintf("No memory with id %s (ids come from recall or list_memories).", strings.Join(out.Missing, ", "))
			if len(out.Changed) > 0 {
				msg += fmt.Sprintf(" %s the others: %s.", verb, strings.Join(out.Changed, ", "))
			}
			res := mcp.NewToolResultError(msg)
			res.StructuredContent = out
			return res, nil
		}
		return mcp.NewToolResultStructured(out, fmt.Sprintf("%s %s.", verb, strings.Join(out.Changed, ", "))), nil
	})
}
