package mcpserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// The remember tool: store one memory.

// ToolRemember is the remember tool's name (fixed: clients and prompts refer to it).
const ToolRemember = "remember"

type rememberArgs struct {
	Content  string         `json:"content"`
	Tags     []string       `json:"tags"`
	Project  string         `json:"project"`
	Metadata map[string]any `json:"metadata"`
	// Supersedes: one id or several (idList).
	Supersedes idList `json:"supersedes"`
}

type rememberOut struct {
	ID        string               `json:"id"`
	Duplicate bool                 `json:"duplicate"`
	SimilarTo []service.SimilarRef `json:"similar_to,omitempty"`
	Project   string               `json:"project"`
	Embedded  bool                 `json:"embedded"`
	Note      string               `json:"note,omitempty"`
	Redacted  []redact.Finding     `json:"redacted,omitempty"`
	// Supersedes lists the memories this one replaced; Hint suggests
	// superseding near-duplicates.
	Supersedes []string `json:"supersedes,omitempty"`
	Hint       string   `json:"hint,omitempty"`
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
		"supersedes": arrayOf(typed("string", ""), "Ids of the earlier versions this memory replaced; they are kept as history and no longer recalled."),
		"hint":       typed("string", "What to do about similar_to: how to make this memory replace a near-duplicate."),
	})
}

func rememberTool(d *deps) (mcp.Tool, server.ToolHandlerFunc) {
	maxContent := d.opts.MaxContentBytes
	tool := mcp.NewTool(ToolRemember,
		mcp.WithToolTitle("Remember"),
		mcp.WithDescription("Store one durable fact in long-term memory: a user preference or correction, a decision and its reason, a project convention, an environment fact, a hard-won solution. "+
			"Write it self-contained (it will be read later without this conversation). Storing identical content again returns the existing id (duplicate:true); similar_to lists near-identical memories. "+
			"When a fact changed, pass supersedes with the id(s) of the outdated memories: they are kept as history but no longer recalled (edit does this for one memory). "+
			"Credentials and text between <private> and </private> are replaced by markers before storing; redacted says what was removed."),
		mcp.WithString("content", mcp.Required(), mcp.MinLength(1), mcp.MaxLength(maxContent),
			mcp.Description(fmt.Sprintf("The text to remember, at most %d bytes.", maxContent))),
		tagsProp("A few short lowercase keywords to filter by later, e.g. [\"preference\",\"go\"]."),
		projectProp("Project to file it under; omit for the current project, \"global\" for facts that apply everywhere."),
		mcp.WithObject("metadata", mcp.Description("Optional JSON object stored with the memory (e.g. {\"file\":\"main.go\"}).")),
		supersedesProp(),
		mcp.WithSchemaAdditionalProperties(false),
		withRawOutputSchema(rememberOutputSchema()),
		annotations("Remember", false, false, true),
	)
	return tool, handle(d, ToolRemember, func(ctx context.Context, _ mcp.CallToolRequest, svc Memories, a rememberArgs) (*mcp.CallToolResult, error) {
		wctx, cancel := writeContext(ctx)
		defer cancel()
		r, err := svc.Remember(wctx, service.RememberRequest{
			Content: a.Content, Tags: a.Tags, Project: a.Project, Metadata: a.Metadata, Source: memory.SourceMCP,
			// A memory written while the model loads waits as briefly as a
			// recall would, so it usually gets its vector (and near-duplicate
			// check) now; past that it is stored without one and embedded once
			// the model is ready. The write itself never depends on the model.
			ModelWait:  d.opts.ModelWait,
			Supersedes: a.Supersedes,
		})
		if err != nil {
			return nil, err
		}
		return rememberResult(r), nil
	})
}

// supersedesProp is remember's supersedes argument: an array of ids (the
// decoder also takes one id as a plain string, which models often send).
func supersedesProp() mcp.ToolOption {
	return mcp.WithArray("supersedes",
		mcp.Description(fmt.Sprintf("Ids of memories this one replaces (outdated versions of the same fact), at most %d; "+
			"they are kept as history and no longer recalled.", memory.MaxSupersedes)),
		mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(64)), mcp.MaxItems(memory.MaxSupersedes))
}

// rememberResult is the answer of remember and edit.
func rememberResult(r service.RememberResult) *mcp.CallToolResult {
	out := rememberOut{ID: r.ID, Duplicate: r.Duplicate, SimilarTo: r.SimilarTo, Project: r.Project, Embedded: r.Embedded, Redacted: r.Redacted,
		Supersedes: r.Supersedes, Hint: r.Hint}
	for i := range out.SimilarTo {
		out.SimilarTo[i].Similarity = round4(out.SimilarTo[i].Similarity)
	}
	var text string
	switch {
	case r.Duplicate:
		out.Note = "identical content was already stored; nothing new was written"
		text = fmt.Sprintf("Already remembered as %s (project %s).", r.ID, r.Project)
	default:
		text = fmt.Sprintf("Remembered as %s (project %s).", r.ID, r.Project)
	}
	if len(r.SimilarTo) > 0 {
		ids := make([]string, len(r.SimilarTo))
		for i, s := range r.SimilarTo {
			ids[i] = s.ID
		}
		text += " Nearly identical existing memories: " + strings.Join(ids, ", ") + "."
		if r.Hint != "" {
			text += " Hint: " + r.Hint + "."
		}
	}
	if len(r.Supersedes) > 0 {
		text += " It replaces " + strings.Join(r.Supersedes, ", ") + " (kept as history, no longer recalled)."
	}
	if len(r.Redacted) > 0 {
		text += " Redacted before storing: " + redact.Summary(r.Redacted) + "."
	}
	return mcp.NewToolResultStructured(out, text)
}
