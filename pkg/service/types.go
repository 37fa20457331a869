// Package service is mnemo's memory service: the one place where the
// embedding engine and the store meet. The CLI, the MCP server and the hooks
// call it; it calls embed and a memory.Store, never the other way round.
//
// Method set of *Service (the contract the MCP server and hooks code against):
//
//	Remember(ctx, RememberRequest) (RememberResult, error)
//	Recall(ctx, RecallRequest) (RecallResult, error)
//	Forget(ctx, ids []string) (ForgetResult, error)
//	List(ctx, ListRequest) ([]memory.Memory, error)
//	Get(ctx, id string) (memory.Memory, error)
//	Embed(ctx, texts []string) (EmbedResult, error)
//	Similarity(ctx, query string, candidates []string) (SimilarityResult, error)
//	Stats(ctx) (memory.Stats, error)
//	ModelStatus() ModelStatus
//
// Errors caused by the caller's input wrap ErrInvalidInput (and say exactly
// what to change); an unknown id wraps memory.ErrNotFound. Everything else is
// an internal failure.
package service

import (
	"errors"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
)

// ErrInvalidInput marks errors the caller can fix (empty query, k out of
// range, content too large …). The MCP server turns them into tool errors.
var ErrInvalidInput = errors.New("invalid input")

// ErrModelUnavailable marks an operation that needs the model (embed,
// similarity) when the model failed to load or is still loading past the wait.
var ErrModelUnavailable = errors.New("embedding model unavailable")

// Defaults and limits. The service owns every one of them and is the one
// place that checks a request against them: the MCP server's schemas and
// the CLI's flags quote these constants, and neither checks them again.
const (
	// DefaultMaxContentBytes bounds one memory's content, and each text of
	// Embed and Similarity, unless Options.MaxContentBytes (MNEMO_MAX_CONTENT)
	// says otherwise.
	DefaultMaxContentBytes = 64 << 10
	// MaxQueryBytes bounds the query of Recall and of Similarity.
	MaxQueryBytes = 8 << 10
	// MaxMetadataBytes bounds a memory's metadata, as JSON.
	MaxMetadataBytes = 16 << 10

	DefaultK   = memory.DefaultK // results of a recall when RecallRequest.K is 0
	MaxRecallK = 50              // most results of one recall

	DefaultListLimit = 20 // page size of List when ListRequest.Limit is 0
	MaxListLimit     = 200
	MaxListOffset    = 1 << 30

	MaxForgetIDs  = 100 // ids one Forget may delete
	MaxEmbedTexts = 64  // texts of one Embed, candidates of one Similarity

	// NearDuplicateThreshold is the cosine at or above which a new memory is
	// reported as similar_to an existing one in the same project.
	NearDuplicateThreshold = 0.95
)

// RememberRequest asks to store one memory.
type RememberRequest struct {
	Content  string
	Tags     []string
	Project  string // "" = the service's current project; memory.GlobalProject for global
	Metadata map[string]any
	Source   memory.Source
	// ModelWait, when positive, lets a write wait that long for a model that
	// is still loading so the memory is stored with its vector (the CLI
	// waits; the MCP server and hooks never block a write on the model).
	ModelWait time.Duration
	// Supersedes names the memories this one replaces (earlier versions of
	// it): each must exist; they are kept, hidden from recall and lists.
	Supersedes []string
}

// SimilarRef names an existing memory close to a new one.
type SimilarRef struct {
	ID         string  `json:"id"`
	Similarity float64 `json:"similarity"`
}

// RememberResult reports what Remember did.
type RememberResult struct {
	ID        string       `json:"id"`
	Duplicate bool         `json:"duplicate"`            // same content already stored in that project; ID is the existing one
	SimilarTo []SimilarRef `json:"similar_to,omitempty"` // near-duplicates (cosine ≥ 0.95) in the same project
	Project   string       `json:"project"`
	Embedded  bool         `json:"embedded"` // false when stored without a vector (model not ready); it is embedded later
	// Redacted says what was removed before storing (kind and count, never
	// the secret); empty when nothing was.
	Redacted []redact.Finding `json:"redacted,omitempty"`
	// Supersedes lists the memories this one replaced.
	Supersedes []string `json:"supersedes,omitempty"`
	// Hint suggests what to do about SimilarTo (supersede a near-duplicate).
	Hint string `json:"hint,omitempty"`
}

// RecallRequest asks for the memories most related to a query.
type RecallRequest struct {
	Query   string
	K       int         // 0 = DefaultK; 1..MaxRecallK
	Tags    []string    // filter: memories with any of these tags
	TagsAll bool        // require all Tags instead of any
	Project string      // "" = current project + global; "*" = all projects; else that project + global
	Mode    memory.Mode // "" = hybrid
	Since   time.Time
	Until   time.Time
	// ModelWait bounds how long a semantic/hybrid recall waits for a model
	// that is still loading before it answers by keyword (and says so).
	ModelWait time.Duration
	// OnWait is called (if set) while waiting for the model, for progress
	// notifications; elapsed is the time waited so far.
	OnWait func(elapsed, limit time.Duration)
	// IncludeSuperseded also searches memories a newer version replaced.
	IncludeSuperseded bool
	// IgnorePins ranks pinned memories like any other: no pin boost, and
	// they compete only when a ranking finds them (the prompt hook, whose
	// session already started with them).
	IgnorePins bool
	// NoUse records no use of the results: the caller records, with
	// RecordUse, only the memories it actually puts in front of the model
	// (the prompt hook injects some of what it recalls).
	NoUse bool
}

// RecallResult is the answer to a recall.
type RecallResult struct {
	Results  []memory.Hit `json:"results"`
	Model    string       `json:"model"`    // model id that embedded the query ("" when none)
	Semantic bool         `json:"semantic"` // whether a semantic ranking was used
	Mode     memory.Mode  `json:"mode"`     // mode actually used (hybrid may degrade to keyword)
	Note     string       `json:"note,omitempty"`
	// NotEmbedded counts the stored memories a semantic ranking could not
	// consider (no vector, or a vector from another model); NotEmbeddedWhy
	// says why. Zero when every memory has a current vector or the recall
	// used no vectors at all.
	NotEmbedded    int    `json:"not_embedded,omitempty"`
	NotEmbeddedWhy string `json:"not_embedded_why,omitempty"`
}

// ForgetResult reports which ids were deleted and which were unknown.
type ForgetResult struct {
	Deleted []string `json:"deleted"`
	Missing []string `json:"missing,omitempty"`
}

// ListRequest selects recent memories.
type ListRequest struct {
	Project string // "" = current + global; "*" = all
	Tags    []string
	Limit   int // 0 = DefaultListLimit; at most MaxListLimit
	Offset  int // at most MaxListOffset
	// IncludeSuperseded also lists memories a newer version replaced.
	IncludeSuperseded bool
	// Pinned lists pinned memories only.
	Pinned bool
}

// EditRequest corrects one memory: a new version with Content supersedes it.
// Tags and Metadata, when nil, are the old version's; the project is always
// the old version's.
type EditRequest struct {
	ID       string
	Content  string
	Tags     []string
	Metadata map[string]any
	Source   memory.Source
	// ModelWait: as RememberRequest.ModelWait.
	ModelWait time.Duration
}

// PinResult reports which memories were pinned or unpinned.
type PinResult struct {
	Changed []string `json:"changed"`
	Missing []string `json:"missing,omitempty"`
	Pinned  bool     `json:"pinned"`
}

// Shown is one memory whole (Show): the memory, every version of it oldest
// first (the memory itself included), and whether its vector is usable.
type Shown struct {
	Memory   memory.Memory `json:"memory"`
	Versions []VersionRef  `json:"versions"`
	Vector   VectorStatus  `json:"vector"`
	Current  string        `json:"current"` // id of the newest version
}

// VersionRef is one version in a chain.
type VersionRef struct {
	ID           string    `json:"id"`
	CreatedAt    time.Time `json:"created_at"`
	SupersededBy string    `json:"superseded_by,omitempty"`
	Preview      string    `json:"preview"`
}

// VectorStatus says whether a memory can be found by meaning.
type VectorStatus struct {
	Model   string `json:"model,omitempty"` // model of the stored vector
	Dims    int    `json:"dims,omitempty"`
	Current bool   `json:"current"` // made by the model this process uses
	Status  string `json:"status"`  // "current", "other model", "missing"
}

// EmbedResult carries raw embeddings.
type EmbedResult struct {
	Vectors [][]float32 `json:"vectors"`
	Model   string      `json:"model"`
	Dims    int         `json:"dims"`
}

// Scored is one candidate's cosine similarity to a query.
type Scored struct {
	Index      int     `json:"index"` // position in the request's candidates
	Text       string  `json:"text"`
	Similarity float64 `json:"similarity"`
}

// SimilarityResult lists candidates most similar first.
type SimilarityResult struct {
	Results []Scored `json:"results"`
	Model   string   `json:"model"`
}

// ModelStatus reports the engine's state for responses and doctor.
type ModelStatus struct {
	Model  string `json:"model"`
	Ready  bool   `json:"ready"`
	Error  string `json:"error,omitempty"`
	Dims   int    `json:"dims,omitempty"`
	LoadMS int64  `json:"load_ms,omitempty"`
}
