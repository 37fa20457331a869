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

// MaxForgetIDs bounds one forget call.
const MaxForgetIDs = 100

type forgetArgs struct {
	ID  string   `json:"id"`
	IDs []string `json:"ids"`
}

// check returns the ids to delete, de-duplicated, in the order given.
func (a *forgetArgs) check() ([]string, error) {
	var ids []string
	if a.ID != "" {
		ids = append(ids, a.ID)
	}
	ids = append(ids, a.IDs...)
	if len(ids) == 0 {
		return nil, argErrorf("pass \"id\" (one memory id) or \"ids\" (an array of ids) to forget; ids come from recall or list_memories")
	}
	if len(ids) > MaxForgetIDs {
		return nil, argErrorf("%d ids given; forget at most %d per call", len(ids), MaxForgetIDs)
	}
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !memory.ValidID(id) {
			return nil, argErrorf("%q is not a memory id (ids are 26-character ULIDs such as 01HZY3G7Q5E2M8R9T0V1W2X3Y4, as returned by recall or list_memories)", truncate(id, 40))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
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
		mcp.WithDescription("Delete memories that are wrong or outdated, by id (from recall or list_memories). Pass id for one or ids for several. Deleting is permanent. An unknown id is reported as an error."),
		mcp.WithString("id", mcp.MinLength(1), mcp.MaxLength(64), mcp.Description("Id of one memory to delete.")),
		mcp.WithArray("ids", mcp.Description(fmt.Sprintf("Ids of memories to delete (at most %d).", MaxForgetIDs)),
			mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(64)), mcp.MaxItems(MaxForgetIDs)),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(forgetOutputSchema()),
		annotations("Forget", false, true, true),
	)
	return tool, handle(d, ToolForget, func(ctx context.Context, _ mcp.CallToolRequest, a forgetArgs) (*mcp.CallToolResult, error) {
		ids, err := a.check()
		if err != nil {
			return nil, err
		}
		wctx, cancel := writeContext(ctx)
		defer cancel()
		r, err := d.svc.Forget(wctx, ids)
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
