package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/quote"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// Each tool lives in its own file (remember.go, recall.go, forget.go,
// list_memories.go, embed.go, similarity.go) holding its name, arguments and
// their checks, output type and schema, and a constructor that returns the
// definition and the handler (github-mcp-server's pattern). This file holds
// what they share: the list, the typed-handler wrapper, error mapping and
// small helpers.

// toolConstructors lists every tool the server offers.
var toolConstructors = []func(*deps) (mcp.Tool, server.ToolHandlerFunc){
	rememberTool,
	recallTool,
	forgetTool,
	editTool,
	pinTool,
	listMemoriesTool,
	embedTool,
	similarityTool,
}

func (d *deps) tools() []server.ServerTool {
	out := make([]server.ServerTool, 0, len(toolConstructors))
	for _, mk := range toolConstructors {
		tool, handler := mk(d)
		out = append(out, server.ServerTool{Tool: tool, Handler: handler})
	}
	return out
}

func annotations(title string, readOnly, destructive, idempotent bool) mcp.ToolOption {
	return mcp.WithToolAnnotation(mcp.ToolAnnotation{
		Title:           title,
		ReadOnlyHint:    mcp.ToBoolPtr(readOnly),
		DestructiveHint: mcp.ToBoolPtr(destructive),
		IdempotentHint:  mcp.ToBoolPtr(idempotent),
		OpenWorldHint:   mcp.ToBoolPtr(false), // everything is local
	})
}

// Input property helpers shared by several tools.
func tagsProp(desc string) mcp.ToolOption {
	return mcp.WithArray("tags", mcp.Description(desc),
		mcp.WithStringItems(mcp.MinLength(1), mcp.MaxLength(memory.MaxTagLen)),
		mcp.MaxItems(memory.MaxTags))
}

func projectProp(desc string) mcp.ToolOption {
	return mcp.WithString("project", mcp.Description(desc), mcp.MinLength(1), mcp.MaxLength(memory.MaxProjectLen))
}

// handle wraps a typed handler: it decodes the arguments (the one place
// where input is parsed), gets the service (waiting while it opens), maps
// errors, and logs the call.
func handle[A any](d *deps, name string, fn func(context.Context, mcp.CallToolRequest, Memories, A) (*mcp.CallToolResult, error)) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		start := time.Now()
		raw, err := rawArguments(req)
		var res *mcp.CallToolResult
		if err == nil {
			var args A
			if args, err = decodeArgs[A](raw); err == nil {
				var svc Memories
				if svc, err = d.src.Service(ctx); err == nil {
					res, err = fn(ctx, req, svc, args)
				}
			}
		}
		if err != nil {
			res, err = d.toolError(name, err)
		}
		d.log.Debug("tool call", "tool", name, "ms", time.Since(start).Milliseconds(),
			"is_error", res != nil && res.IsError, "err", err)
		return res, err
	}
}

// toolError sorts an error into a tool error the model sees (its input, an
// unknown id, the model not ready) or a protocol error (internal failure).
func (d *deps) toolError(tool string, err error) (*mcp.CallToolResult, error) {
	var ae *argError
	switch {
	case errors.As(err, &ae):
		return mcp.NewToolResultError(ae.msg), nil
	case errors.Is(err, service.ErrInvalidInput), errors.Is(err, memory.ErrInvalid):
		return mcp.NewToolResultError(err.Error()), nil
	case errors.Is(err, memory.ErrNotFound):
		return mcp.NewToolResultError(err.Error() + "; ids come from recall or list_memories"), nil
	case errors.Is(err, ErrServiceUnavailable):
		d.log.Error("tool call without a service", "tool", tool, "err", err)
		return mcp.NewToolResultError(err.Error() + "; see mnemo's log (run `mnemo doctor`)"), nil
	case errors.Is(err, service.ErrModelUnavailable):
		st := d.src.ModelStatus()
		msg := "the embedding model is not available yet (it is still loading); try again in a few seconds"
		if st.Error != "" {
			msg = fmt.Sprintf("the embedding model %s failed to load: %s; remember, recall (keyword) and forget still work", st.Model, st.Error)
		}
		return mcp.NewToolResultError(msg), nil
	}
	d.log.Error("tool failed", "tool", tool, "err", err)
	return nil, fmt.Errorf("%s: %w", tool, err)
}

// writeContext detaches a write from the request's context: shutdown cancels
// request contexts, and a memory the client was told about must be committed
// whole. writeTimeout still bounds it.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}

// memoryOut is one memory as recall, list_memories and the resources show it.
type memoryOut struct {
	ID         string         `json:"id"`
	Content    string         `json:"content"`
	Score      *float64       `json:"score,omitempty"`
	Similarity *float64       `json:"similarity,omitempty"`
	Tags       []string       `json:"tags"`
	Project    string         `json:"project"`
	CreatedAt  string         `json:"created_at"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	Source     string         `json:"source,omitempty"`
	// Versions and pins, only when set.
	Pinned       bool     `json:"pinned,omitempty"`
	Supersedes   []string `json:"supersedes,omitempty"`
	SupersededBy string   `json:"superseded_by,omitempty"`
	// Why: the components of score (recall only).
	Why *memory.ScoreParts `json:"why,omitempty"`
}

func toMemoryOut(m memory.Memory) memoryOut {
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	o := memoryOut{ID: m.ID, Content: m.Content, Tags: tags, Project: m.Project, Source: string(m.Source)}
	if !m.CreatedAt.IsZero() {
		o.CreatedAt = m.CreatedAt.UTC().Format(time.RFC3339)
	}
	if len(m.Metadata) > 0 {
		o.Metadata = m.Metadata
	}
	o.Pinned, o.Supersedes, o.SupersededBy = m.Pinned, m.Supersedes, m.SupersededBy
	return o
}

// idList is an argument that takes one id as a string or several as an
// array ("supersedes": "01J…" or ["01J…", "01K…"]).
type idList []string

func (l *idList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = idList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("supersedes must be one id or an array of ids")
	}
	*l = many
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// quotedLine is stored memory text as the tools' text output shows it: one
// line, cut to n bytes, then quoted (quote.Text), so no tag from a memory
// reaches the model as markup.
func quotedLine(s string, n int) string { return quote.Text(truncate(oneLine(s), n)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
