package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The forget tool: delete memories by id.

// ToolForget is the forget tool's name (fixed: clients and prompts refer to it).
const ToolForget = "forget"

type forgetArgs struct {
	ID  string   `json:"id"`
	IDs []string `json:"ids"`
}

// list returns id and ids as one list, for the service to check.
func (a *forgetArgs) list() []string {
	var ids []string
	if a.ID != "" {
		ids = append(ids, a.ID)
	}
	return append(ids, a.IDs...)
}

type forgetOut struct {
	Deleted []string `json:"deleted"`
	Missing []string `json:"missing"`
}

func forgetOutputSchema() schema {
	return object([]string{"deleted", "missing"}, schema{
		"deleted": arrayOf(typed("string", ""), "Ids deleted."),
		"missing": arrayOf(typed("string", ""), "Ids that did not exist."),
	})
}

func forgetTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := mcp.NewTool(ToolForget,
		mcp.WithToolTitle("Forget"),
		mcp.WithDescription("Delete memories that are wrong or outdated, by id (from recall or list_memories). Pass id for one or ids for several. Deleting is permanent; forgetting a new version makes the version it replaced current again. An unknown id is reported as an error."),
		mcp.WithString("id", mcp.MinLength(1), mcp.MaxLength(64), mcp.Description("Id of one memory to delete.")),
		mcp.WithArray("ids", mcp.Description(fmt.Sprintf("Ids of memories to delete (at most %d).", service.MaxForgetIDs)),
			mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(64)), mcp.MaxItems(service.MaxForgetIDs)),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(forgetOutputSchema()),
		annotations("Forget", false, true, true),
	)
	return tool, handle(d, ToolForget, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a forgetArgs) (*mcp.CallToolResult, error) {
		ids := a.list()
		wctx, cancel := writeContext(ctx)
		defer cancel()
		r, err := svc.Forget(wctx, ids)
		if errors.Is(err, memory.ErrNotFound) {
			// The service reports "every id unknown" as an error; the model
			// gets the same answer as for a partly unknown list.
			r, err = service.ForgetResult{Missing: ids}, nil
		}
		if err != nil {
			return nil, err
		}
		out := forgetOut{Deleted: r.Deleted, Missing: r.Missing}
		if out.Deleted == nil {
			out.Deleted = []string{}
		}
		if out.Missing == nil {
			out.Missing = []string{}
		}
		if len(out.Missing) > 0 {
			msg := fmt.Sprintf("No memory with id %s (ids come from recall or list_memories).", strings.Join(out.Missing, ", "))
			if len(out.Deleted) > 0 {
				msg += fmt.Sprintf(" Deleted the others: %s.", strings.Join(out.Deleted, ", "))
			}
			res := mcp.NewToolResultError(msg)
			res.StructuredContent = out
			return res, nil
		}
		return mcp.NewToolResultStructured(out, fmt.Sprintf("Forgot %d memor%s: %s.", len(out.Deleted), plural(len(out.Deleted), "y", "ies"), strings.Join(out.Deleted, ", "))), nil
	})
}
