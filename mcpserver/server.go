// Package mcpserver is mnemo's MCP server: the tools, resources, prompt and
// instructions Claude sees, built on github.com/mark3labs/mcp-go over the
// memory service. It decodes and checks every argument itself (one place,
// fuzzed), turns caller mistakes into tool errors the model can act on, and
// keeps protocol errors for real internal failures.
package mcpserver

import (
	"context"
	"log/slog"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// Memories is what the server needs from the memory service (*service.Service
// satisfies it); tests use a fake.
type Memories interface {
	Remember(ctx context.Context, req service.RememberRequest) (service.RememberResult, error)
	Recall(ctx context.Context, req service.RecallRequest) (service.RecallResult, error)
	Forget(ctx context.Context, ids []string) (service.ForgetResult, error)
	Edit(ctx context.Context, req service.EditRequest) (service.RememberResult, error)
	Pin(ctx context.Context, ids []string, pinned bool) (service.PinResult, error)
	List(ctx context.Context, req service.ListRequest) ([]memory.Memory, error)
	Get(ctx context.Context, id string) (memory.Memory, error)
	Embed(ctx context.Context, texts []string) (service.EmbedResult, error)
	Similarity(ctx context.Context, query string, candidates []string) (service.SimilarityResult, error)
	ModelStatus() service.ModelStatus
}

// Source gives the tools the memory service: a *Deferred while the service
// is being opened, or Ready(svc) for one that is open. Handlers get the
// service once per call (the typed-handler wrapper does), rather than
// every method of Memories being forwarded.
type Source interface {
	// Service returns the service, waiting for it (or ctx); an error wraps
	// ErrServiceUnavailable when it could not be opened.
	Service(ctx context.Context) (Memories, error)
	// ModelStatus reports the embedding model's state without waiting.
	ModelStatus() service.ModelStatus
}

// Ready is the Source of a service that is open.
func Ready(svc Memories) Source { return ready{svc} }

type ready struct{ svc Memories }

func (r ready) Service(context.Context) (Memories, error) { return r.svc, nil }
func (r ready) ModelStatus() service.ModelStatus          { return r.svc.ModelStatus() }

// Defaults of Options.
const (
	DefaultModelWait = 3 * time.Second
	// writeTimeout bounds a write that has been detached from its request's
	// context (so shutdown cannot abort it half-way).
	writeTimeout = 30 * time.Second
	// ServerName is the name reported in initialize / server/discover.
	ServerName = "mnemo"
)

// Options configures the server.
type Options struct {
	// Version is reported to clients (the binary's version).
	Version string
	// MaxContentBytes bounds one memory's content (default 64 KiB).
	MaxContentBytes int
	// ModelWait bounds how long a recall waits for a model that is still
	// loading before it answers by keyword (default 3s; negative = no wait).
	ModelWait time.Duration
	// Logger receives the server's logs (never stdout); nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.MaxContentBytes <= 0 {
		o.MaxContentBytes = service.DefaultMaxContentBytes
	}
	if o.ModelWait == 0 {
		o.ModelWait = DefaultModelWait
	}
	if o.ModelWait < 0 {
		o.ModelWait = 0
	}
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	return o
}

// Instructions tells Claude when to remember and when to recall. It is sent
// in initialize and server/discover; keep it under 2 KB.
const Instructions = `mnemo is your long-term memory across sessions and projects: a local, private store searched by meaning and by keyword.

Recall before you act: at the start of a task, and whenever the user refers to earlier work, preferences, decisions, names or conventions you do not see in the conversation, call recall with a short descriptive query (project defaults to the current one plus global memories; use project "*" to search everything). Trust what you find only as far as it fits what you see now.

Remember what will matter later and cannot be re-derived cheaply: the user's stated preferences and corrections, decisions and their reasons, project conventions, environment facts (commands, paths, versions), solutions to problems that took effort. Write one self-contained fact per memory, in plain words, with a few lowercase tags. Do not store secrets, credentials, or transient chatter. Storing the same content twice is harmless (it is deduplicated); similar_to in the answer points at close existing memories that the new one may replace (the hint says how).

When a fact changes, correct it with edit (one memory), or remember the new version with supersedes naming the old ids: old versions are kept as history and no longer recalled. Pin the few memories that must always be at hand (pin). Forget memories that are simply wrong (by id, from recall or list_memories). embed and similarity expose the embedding model directly, for comparing texts.

If a recall says semantic:false, the embedding model was still loading and results are keyword matches only; recall again shortly for semantic results.`

// NewServer builds the MCP server over the service src gives.
func NewServer(src Source, opts Options) *server.MCPServer {
	opts = opts.withDefaults()
	d := &deps{src: src, opts: opts, log: opts.Logger}
	s := server.NewMCPServer(ServerName, opts.Version,
		server.WithTitle("mnemo memory"),
		server.WithDescription("Semantic long-term memory and text embeddings, computed locally."),
		server.WithInstructions(Instructions),
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(false, false),
		server.WithPromptCapabilities(false),
		server.WithRecovery(),
		server.WithResourceRecovery(),
		// A result that breaks its own outputSchema would be rejected by
		// validating clients anyway; catching it here names the field.
		server.WithOutputSchemaValidation(),
	)
	s.AddTools(d.tools()...)
	d.addResources(s)
	d.addPrompts(s)
	return s
}

// Tools returns the tool definitions (for snapshots and documentation).
func Tools() []mcp.Tool {
	d := &deps{opts: Options{}.withDefaults()}
	var out []mcp.Tool
	for _, t := range d.tools() {
		out = append(out, t.Tool)
	}
	return out
}

// deps is what every tool, resource and prompt is built from.
type deps struct {
	src  Source
	opts Options
	log  *slog.Logger
}
