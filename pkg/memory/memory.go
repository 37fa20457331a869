// Package memory holds mnemo's domain types and the Store interface that every
// storage backend (SQLite, PostgreSQL) implements. It imports no backend and
// no engine: the packages that do the work depend on it, never the reverse.
package memory

import (
	"context"
	"errors"
	"time"
)

// Source says which entry point wrote a memory.
type Source string

const (
	SourceMCP    Source = "mcp"
	SourceCLI    Source = "cli"
	SourceHook   Source = "hook"
	SourceImport Source = "import"
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourceMCP, SourceCLI, SourceHook, SourceImport:
		return true
	}
	return false
}

// GlobalProject is the project name of memories that belong to no project;
// they are searched together with the current project by default.
const GlobalProject = "global"

// Memory is one remembered piece of text.
type Memory struct {
	ID          string         `json:"id"`           // ULID: unique, sortable by creation time, never reused
	Content     string         `json:"content"`      // the text itself
	ContentHash string         `json:"content_hash"` // hex sha256 of Content
	Project     string         `json:"project"`      // project name, or GlobalProject
	Tags        []string       `json:"tags"`         // normalised: trimmed, lower-case, unique, sorted
	Metadata    map[string]any `json:"metadata"`     // arbitrary JSON object
	Source      Source         `json:"source"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
	AccessedAt  time.Time      `json:"accessed_at"`
	// Author records who wrote the memory (user@host); shared stores use it.
	Author string `json:"author,omitempty"`

	// Vector is the L2-normalised embedding of Content, nil when the memory
	// was written while no model was available (it is embedded later).
	Vector []float32 `json:"vector,omitempty"`
	// Model and Dims stamp the vector: vectors from another model are never
	// mixed into a search.
	Model string `json:"model,omitempty"`
	Dims  int    `json:"dims,omitempty"`

	// Supersedes lists the ids of the memories this one replaces (its
	// earlier versions). On Put, each of them that exists is marked
	// superseded by this memory; ids that do not exist are kept in the list
	// as they are (an import may bring the old version later).
	Supersedes []string `json:"supersedes,omitempty"`
	// SupersededBy is the id of the newer version that replaced this
	// memory, "" while it is current. Superseded memories are kept but
	// hidden from searches and lists unless Filter.IncludeSuperseded.
	SupersededBy string `json:"superseded_by,omitempty"`
	// Pinned memories always compete in a recall and are always injected
	// at session start (Store.SetPinned).
	Pinned bool `json:"pinned,omitempty"`
	// RecallCount counts the uses of this memory (Touch): recalls that
	// returned it, and prompt-hook injections.
	RecallCount int `json:"recall_count,omitempty"`
}

// Mode selects which rankings a search uses.
type Mode string

const (
	ModeHybrid   Mode = "hybrid"   // keyword + semantic, fused by reciprocal rank fusion
	ModeSemantic Mode = "semantic" // cosine similarity only
	ModeKeyword  Mode = "keyword"  // FTS bm25 only
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == ModeHybrid || m == ModeSemantic || m == ModeKeyword }

// Filter narrows which memories a search or listing considers.
type Filter struct {
	// Projects to include; empty means every project.
	Projects []string
	// TagsAny keeps memories with at least one of these tags.
	TagsAny []string
	// TagsAll keeps memories with all of these tags.
	TagsAll []string
	// Since and Until bound CreatedAt (zero means unbounded; Until exclusive).
	Since, Until time.Time
	// IncludeSuperseded keeps memories a newer version replaced; by
	// default only current versions are searched and listed.
	IncludeSuperseded bool
	// PinnedOnly keeps pinned memories only.
	PinnedOnly bool
}

// Query is a search request to a Store. The caller (the memory service)
// embeds the text, before the search (Vector) or during it (Embed); the
// store never calls the model itself.
type Query struct {
	Text   string    // for the keyword ranking
	Vector []float32 // for the semantic ranking; nil when no model is available
	Model  string    // model id of Vector; only vectors of this model are compared
	Mode   Mode
	K      int // number of results wanted, 1..MaxK
	Filter Filter
	// Embed, when set (and Vector nil), computes the vector during the
	// search: in hybrid mode a store may call it beside its keyword
	// ranking, so that embedding the query and a costly keyword search
	// overlap (the larger parts of a recall); it then marks the context
	// (WithWorkBeside). Every store calls it exactly once per Search, in
	// any mode (ResolveVector). A nil vector and no error mean none is
	// available: the search then answers by keyword alone, as with a nil
	// Vector. Model must name the model it embeds with.
	Embed func(context.Context) ([]float32, error)

	// normalized is set by Normalize: a normalised query is not checked
	// again (the service normalises the query it builds; the store then
	// takes it as it is).
	normalized bool
}

// MaxK bounds the number of results one search may return.
const MaxK = 100

// RRFConstant is the k of reciprocal rank fusion: score = Σ 1/(RRFConstant + rank).
const RRFConstant = 60

// Hit is one search result.
type Hit struct {
	Memory Memory `json:"memory"`
	// Score, as a store returns it, is the fused RRF score in hybrid mode,
	// the cosine similarity in semantic mode, and the negated bm25 (higher
	// is better) in keyword mode. The memory service replaces it with the
	// recall score of Ranker (the same formula in every mode; Why).
	Score float64 `json:"score"`
	// KeywordRank and SemanticRank are 1-based ranks in each ranking, 0 when
	// that ranking did not find the memory.
	KeywordRank  int `json:"keyword_rank,omitempty"`
	SemanticRank int `json:"semantic_rank,omitempty"`
	// Similarity is the cosine similarity to the query when known.
	Similarity float64 `json:"similarity,omitempty"`
	// Why holds the components of Score when the memory service ranked the
	// hit (Ranker); stores leave it nil.
	Why *ScoreParts `json:"why,omitempty"`
}

// PutResult reports what a Put did.
type PutResult struct {
	ID string `json:"id"`
	// Duplicate is true when the same content already existed in the same
	// project; ID is then the existing memory's id and nothing was written.
	Duplicate bool `json:"duplicate"`
}

// ListOptions selects a page of memories, newest first.
type ListOptions struct {
	Filter Filter
	Limit  int
	Offset int
}

// Stats summarises a store.
type Stats struct {
	Total     int            `json:"total"`
	ByProject map[string]int `json:"by_project"`
	ByModel   map[string]int `json:"by_model"` // model id → vectors; "" counts memories with no vector
	// DimsByModel counts vectors by model id and size: model → dims → count.
	// One model makes vectors of one size, so a model with two sizes holds
	// vectors that can never be compared (a bad import); doctor reports it.
	DimsByModel map[string]map[int]int `json:"dims_by_model"`
	Path        string                 `json:"path"`       // file or URL (without password)
	SizeBytes   int64                  `json:"size_bytes"` // on-disk size where known
	SchemaVers  int                    `json:"schema_version"`
}

// Store persists memories. Implementations are safe for concurrent use by
// many goroutines and by many processes sharing the same underlying store.
type Store interface {
	// Put inserts m (ID, timestamps and hash are filled in when empty) unless
	// a memory with the same content hash exists in the same project.
	Put(ctx context.Context, m *Memory) (PutResult, error)
	// Get returns one memory; ErrNotFound when the id is unknown.
	Get(ctx context.Context, id string) (Memory, error)
	// Delete removes memories; the returned slice lists the ids that did not
	// exist (deleting the others still happens).
	Delete(ctx context.Context, ids []string) (missing []string, err error)
	// List returns memories newest first.
	List(ctx context.Context, o ListOptions) ([]Memory, error)
	// Search ranks memories for q. Only vectors stamped with q.Model are compared.
	Search(ctx context.Context, q Query) ([]Hit, error)
	// Similar returns the ids of memories in project whose vector (of model)
	// has cosine ≥ threshold with vec, most similar first, at most limit.
	Similar(ctx context.Context, vec []float32, model, project string, threshold float64, limit int) ([]Hit, error)
	// SetVector stamps a memory's vector (re-embedding); ErrNotFound when gone.
	SetVector(ctx context.Context, id string, vec []float32, model string) error
	// NeedEmbedding lists memories with no vector or a vector from another
	// model, oldest first, at most limit, starting after the id afterID.
	NeedEmbedding(ctx context.Context, model string, afterID string, limit int) ([]Memory, error)
	// Touch records that memories were returned to a user: last accessed
	// time, and one more recall in RecallCount.
	Touch(ctx context.Context, ids []string) error
	// SetPinned pins or unpins memories; missing lists the ids that do not
	// exist (the others are still changed). It changes no other field.
	SetPinned(ctx context.Context, ids []string, pinned bool) (missing []string, err error)
	// Stats summarises the store.
	Stats(ctx context.Context) (Stats, error)
	Close() error
}

// VectorChecker is implemented by a store that can hold vectors its writes
// would refuse (SQLite: a blob of the wrong length or non-finite values,
// from older versions or a damaged file; PostgreSQL's constraints and
// pgvector refuse both). Reembed replaces the vectors it lists.
type VectorChecker interface {
	BadVectorIDs(ctx context.Context) ([]string, error)
}

// VectorCounter is implemented by stores that count cheaply (from an index,
// without reading vectors) the memories a search with model's vectors cannot
// compare: missing have no vector, other have another model's. A recall
// reports them (the memory service falls back to Stats otherwise).
type VectorCounter interface {
	CountUnembedded(ctx context.Context, model string) (missing, other int, err error)
}

// IndexWarmer is a store that keeps in-memory indexes, loaded on the first
// search that needs them; WarmIndexes loads them now, and marks the
// process as one that keeps them (a long-running process calls it at
// start, so that no recall waits for the load; the SQLite store then also
// keeps a keyword index, which a process answering once does not build).
type IndexWarmer interface {
	WarmIndexes(ctx context.Context) error
}

// Errors shared by all stores; wrap them with detail, test with errors.Is.
var (
	ErrNotFound = errors.New("memory not found")
	ErrInvalid  = errors.New("invalid memory")
)

// Salvager is implemented by stores that can read what is still readable of
// a damaged store (an export after corruption): every memory they can read,
// in storage order, skipping the unreadable parts and reporting them.
type Salvager interface {
	// Salvage calls fn for every readable memory (with its vector); it
	// stops early only when fn or ctx fails. skipped lists what could not
	// be read.
	Salvage(ctx context.Context, fn func(Memory) error) (skipped []SkippedRange, err error)
}

// SkippedRange is a run of storage rows a salvage could not read.
type SkippedRange struct {
	From  int64  `json:"from"` // first row (SQLite rowid) not read
	To    int64  `json:"to"`   // last row not read (inclusive)
	Error string `json:"error"`
}

// ErrReadOnly marks a write refused because the store was opened read-only
// (this user may read it but not write it).
var ErrReadOnly = errors.New("the store is read-only for this user")

// workBesideKey marks a context: see WithWorkBeside.
type workBesideKey struct{}

// WithWorkBeside marks ctx as that of a Query.Embed call that runs beside
// other work of the store (a costly keyword ranking on another core), so
// that the embedder keeps to fewer cores rather than compete with it.
func WithWorkBeside(ctx context.Context) context.Context {
	return context.WithValue(ctx, workBesideKey{}, true)
}

// WorkBeside reports whether ctx was marked by WithWorkBeside.
func WorkBeside(ctx context.Context) bool {
	v, _ := ctx.Value(workBesideKey{}).(bool)
	return v
}
