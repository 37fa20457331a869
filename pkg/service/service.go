package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mnemo-mcp/mnemo/pkg/logging"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
)

// Embedder is the part of the embedding engine the service uses. The
// engine (*embed.Engine, through a thin adapter) satisfies it; tests use a
// deterministic fake.
type Embedder interface {
	// Ready reports whether the model is loaded and embedding is possible.
	Ready() bool
	// Wait blocks until the model is loaded (nil), has failed (the load
	// error), or ctx is done (ctx.Err()).
	Wait(ctx context.Context) error
	// LoadError is the error the model failed to load with, nil while it is
	// loading or once it is ready.
	LoadError() error
	// EmbedQuery embeds a search query (the engine adds any query prefix).
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
	// EmbedDocuments embeds texts to be stored (any document prefix added).
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	// Embed embeds raw texts, with no prefix.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model describes the model; ID is known (the configured name) before it
	// is loaded, Dims and LoadTime only once it is ready.
	Model() ModelInfo
}

// BesideEmbedder is an Embedder that can embed a query on one core while
// the caller works on the others: a hybrid recall embeds its query beside
// the store's keyword ranking (memory.Query.Embed).
type BesideEmbedder interface {
	EmbedQueryBeside(ctx context.Context, text string) ([]float32, error)
}

// ModelInfo describes the embedding model behind an Embedder.
type ModelInfo struct {
	ID       string
	Dims     int
	LoadTime time.Duration
}

// Options configures a Service.
type Options struct {
	// Store persists memories (required).
	Store memory.Store
	// Embedder computes embeddings; nil means no model at all (keyword only).
	Embedder Embedder
	// Project is the current project: the default for writes and, with the
	// global project, for searches. Empty means memory.GlobalProject.
	Project string
	// Source stamps memories whose request names none (default cli).
	Source memory.Source
	// Author is recorded on new memories (user@host); optional.
	Author string
	// MaxContentBytes bounds one memory (default 64 KiB).
	MaxContentBytes int
	// EmbedWait bounds how long Embed, Similarity and Reembed wait for a
	// model that is still loading (default 2 minutes; ctx still applies).
	EmbedWait time.Duration
	// Logger receives warnings about best-effort steps (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests pin it.
	Now func() time.Time
	// KeepSecrets stores text verbatim; by default credentials and
	// <private> blocks are redacted before anything is written
	// (MNEMO_REDACT=off sets it).
	KeepSecrets bool
	// SpillUses receives, at Close, the ids of recalled memories whose use
	// could not be recorded in time (the store stayed busy), so that a later
	// process can record them (cmd spools them); nil drops them.
	SpillUses func(ids []string)
	// HalfLife is the recency half-life of recall ranking
	// (MNEMO_RECENCY_HALF_LIFE); 0 means memory.DefaultHalfLife, negative
	// turns recency off.
	HalfLife time.Duration
}

// waitTick is how often a waiting recall reports progress through OnWait.
const waitTick = 500 * time.Millisecond

// Service is mnemo's memory service. It is safe for concurrent use.
type Service struct {
	store    memory.Store
	emb      Embedder
	project  string
	source   memory.Source
	author   string
	maxBytes int
	embWait  time.Duration
	log      *slog.Logger
	now      func() time.Time

	keepSecrets bool
	uses        *useRecorder
	halfLife    time.Duration

	embeddedMu sync.Mutex
	embedded   embeddedCount
}

// New returns a Service over o.Store and o.Embedder.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("service: a store is required")
	}
	s := &Service{
		store:    o.Store,
		emb:      o.Embedder,
		project:  o.Project,
		source:   o.Source,
		author:   o.Author,
		maxBytes: o.MaxContentBytes,
		embWait:  o.EmbedWait,
		log:      o.Logger,
		now:      o.Now,

		keepSecrets: o.KeepSecrets,
		halfLife:    o.HalfLife,
	}
	switch {
	case s.halfLife == 0:
		s.halfLife = memory.DefaultHalfLife
	case s.halfLife < 0:
		s.halfLife = 0
	}
	if s.project == "" {
		s.project = memory.GlobalProject
	}
	if err := memory.ValidateProject(s.project); err != nil {
		return nil, fmt.Errorf("service: current project %q: %w", s.project, err)
	}
	if s.source == "" {
		s.source = memory.SourceCLI
	}
	if !s.source.Valid() {
		return nil, fmt.Errorf("service: unknown source %q", s.source)
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxContentBytes
	}
	if s.embWait <= 0 {
		s.embWait = 2 * time.Minute
	}
	if s.log == nil {
		s.log = logging.Discard()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.uses = newUseRecorder(s.store, s.log, o.SpillUses)
	return s, nil
}

// Close finishes the service's background work: the memory uses recalls
// queued are written, waiting at most until ctx is done; what is left is
// handed to Options.SpillUses. It does not close the store. A service must
// not be used after Close.
func (s *Service) Close(ctx context.Context) error {
	s.uses.close(ctx)
	return nil
}

// Project returns the service's current project.
func (s *Service) Project() string { return s.project }

// MaxContentBytes returns the content limit in force.
func (s *Service) MaxContentBytes() int { return s.maxBytes }

// Store returns the underlying store (for doctor-style diagnostics).
func (s *Service) Store() memory.Store { return s.store }

// inputError is an error the caller can fix. Its message is the problem
// alone ("content is empty"); errors.Is(err, ErrInvalidInput) is true.
type inputError struct {
	msg   string
	cause error
}

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Unwrap() error { return e.cause }
func (e *inputError) Is(target error) bool {
	return target == ErrInvalidInput
}

func invalidf(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

// invalidFrom turns a validation error of pkg/memory ("invalid memory: …")
// into an input error that names what was wrong.
func invalidFrom(what string, err error) error {
	msg := strings.TrimPrefix(err.Error(), memory.ErrInvalid.Error()+": ")
	return &inputError{msg: what + ": " + msg, cause: err}
}

// ---------------------------------------------------------------- remember

// validateContent checks one memory's text against the limits.
func (s *Service) validateContent(what, content string) error {
	if strings.TrimSpace(content) == "" {
		return invalidf("%s is empty", what)
	}
	if !utf8.ValidString(content) {
		return invalidf("%s is not valid UTF-8 text", what)
	}
	if len(content) > s.maxBytes {
		return invalidf("%s is %d bytes, over the limit of %d bytes (MNEMO_MAX_CONTENT); split it or store a summary", what, len(content), s.maxBytes)
	}
	return nil
}

// validateQuery checks a query (of Recall or Similarity).
func validateQuery(query string) error {
	if strings.TrimSpace(query) == "" {
		return invalidf("query is empty: describe what you are looking for in a few words")
	}
	if !utf8.ValidString(query) {
		return invalidf("query is not valid UTF-8 text")
	}
	if len(query) > MaxQueryBytes {
		return invalidf("query is %d bytes, over the limit of %d bytes: use a shorter query", len(query), MaxQueryBytes)
	}
	return nil
}

// checkMemoryText is mnemo's one policy for text that becomes a memory,
// whatever the entry (CLI, MCP, hook capture, import): it must be valid
// UTF-8 and must not hold U+FFFD. JSON decoders (MCP arguments, hook input,
// import lines) silently turn invalid bytes, and lone surrogate escapes, into
// U+FFFD, so the replacement character is how lost text shows once it gets
// here; storing it would keep a memory whose words are already gone, and say
// nothing. Refusing it loses nothing the caller still has.
func checkMemoryText(content string) error {
	if !utf8.ValidString(content) {
		i := 0
		for i < len(content) {
			r, n := utf8.DecodeRuneInString(content[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return invalidf("content is not valid UTF-8 (byte %d is 0x%02x): mnemo stores text only; convert it to UTF-8 first", i, content[i])
	}
	if i := strings.IndexRune(content, utf8.RuneError); i >= 0 {
		return invalidf("content holds U+FFFD, the replacement character decoders put where bytes were not valid UTF-8 (at byte %d): "+
			"part of the text is already lost; send the original text as UTF-8, or remove the character", i)
	}
	return nil
}

// validateMetadata checks that metadata is a JSON object that can be stored.
func (s *Service) validateMetadata(md map[string]any) error {
	if md == nil {
		return nil
	}
	b, err := json.Marshal(md)
	if err != nil {
		return invalidf("metadata is not serialisable as JSON: %v", err)
	}
	if len(b) > MaxMetadataBytes {
		return invalidf("metadata is %d bytes of JSON, over the limit of %d bytes", len(b), MaxMetadataBytes)
	}
	return nil
}

// resolveProject validates an explicit project or returns the current one.
func (s *Service) resolveProject(p string) (string, error) {
	if p == "" {
		return s.project, nil
	}
	if err := memory.ValidateProject(p); err != nil {
		return "", invalidFrom("project", err)
	}
	return p, nil
}

// Remember stores one memory. It never waits for a model that is still
// loading unless req.ModelWait asks it to: without a model the memory is
// stored without a vector and embedded later (reembed).
func (s *Service) Remember(ctx context.Context, req RememberRequest) (RememberResult, error) {
	content := strings.TrimSpace(req.Content)
	if err := checkMemoryText(req.Content); err != nil {
		return RememberResult{}, err
	}
	if err := s.validateContent("content", req.Content); err != nil {
		return RememberResult{}, err
	}
	// Tags are redacted before they are normalised: lower-casing would
	// hide case-sensitive credentials (AKIA…) from the rules.
	rawTags, tagsFound := s.redactTags(req.Tags)
	tags, err := memory.NormalizeTags(rawTags)
	if err != nil {
		return RememberResult{}, invalidFrom("tags", err)
	}
	project, err := s.resolveProject(req.Project)
	if err != nil {
		return RememberResult{}, err
	}
	if err := s.validateMetadata(req.Metadata); err != nil {
		return RememberResult{}, err
	}
	source := req.Source
	if source == "" {
		source = s.source
	}
	if !source.Valid() {
		return RememberResult{}, invalidf("source %q is not one of mcp, cli, hook, import", source)
	}

	supersedes, err := s.checkSupersedes(ctx, req.Supersedes)
	if err != nil {
		return RememberResult{}, err
	}

	content, metadata, redacted, err := s.prepareForStore(content, req.Metadata)
	if err != nil {
		return RememberResult{}, err
	}
	redacted = redact.Merge(redacted, tagsFound)
	m := &memory.Memory{
		Content:    content,
		Project:    project,
		Tags:       tags,
		Metadata:   metadata,
		Source:     source,
		Author:     s.author,
		Supersedes: supersedes,
	}
	if req.ModelWait > 0 && s.emb != nil && !s.emb.Ready() {
		wctx, cancel := context.WithTimeout(ctx, req.ModelWait)
		_ = s.emb.Wait(wctx) // a failure or timeout just means no vector now
		cancel()
		if err := ctx.Err(); err != nil {
			return RememberResult{}, err
		}
	}
	if s.emb != nil && s.emb.Ready() {
		vecs, err := s.emb.EmbedDocuments(ctx, []string{content})
		switch {
		case err == nil && len(vecs) == 1 && len(vecs[0]) > 0:
			info := s.emb.Model()
			m.Vector, m.Model, m.Dims = vecs[0], info.ID, len(vecs[0])
		case ctx.Err() != nil:
			return RememberResult{}, ctx.Err()
		default:
			// Never lose a write because embedding failed: store the text,
			// reembed will retry.
			s.log.Warn("remember: embedding failed; storing without a vector", "err", err)
		}
	}

	put, err := s.store.Put(ctx, m)
	if err != nil {
		if errors.Is(err, memory.ErrInvalid) {
			return RememberResult{}, invalidFrom("memory", err)
		}
		return RememberResult{}, fmt.Errorf("store memory: %w", err)
	}
	res := RememberResult{ID: put.ID, Duplicate: put.Duplicate, Project: project, Embedded: m.Vector != nil, Redacted: redacted}
	res.Supersedes = slices.DeleteFunc(slices.Clone(supersedes), func(x string) bool { return x == put.ID })
	if m.Vector == nil {
		return res, nil
	}
	if put.Duplicate {
		s.fillMissingVector(ctx, put.ID, m)
	}
	hits, err := s.store.Similar(ctx, m.Vector, m.Model, project, NearDuplicateThreshold, 6)
	if err != nil {
		// The memory is stored; near-duplicate reporting is advisory.
		s.log.Warn("remember: near-duplicate lookup failed", "id", put.ID, "err", err)
		return res, nil
	}
	for _, h := range hits {
		if h.Memory.ID == put.ID {
			continue
		}
		sim := h.Similarity
		if sim == 0 {
			sim = h.Score
		}
		res.SimilarTo = append(res.SimilarTo, SimilarRef{ID: h.Memory.ID, Similarity: round4(sim)})
		if len(res.SimilarTo) == 5 {
			break
		}
	}
	res.Hint = supersedeHint(res)
	return res, nil
}

// fillMissingVector gives an existing duplicate the vector just computed
// when it has none from this model (it was stored while the model loaded).
func (s *Service) fillMissingVector(ctx context.Context, id string, m *memory.Memory) {
	old, err := s.store.Get(ctx, id)
	if err != nil || (old.Model == m.Model && old.Dims == m.Dims && old.Dims > 0) {
		return
	}
	if err := s.store.SetVector(ctx, id, m.Vector, m.Model); err != nil {
		s.log.Warn("remember: could not add vector to existing duplicate", "id", id, "err", err)
	}
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// ------------------------------------------------------------------ recall

// searchProjects turns a request's project into the store filter:
// "" → current + global, "*" → all, else that project + global.
func (s *Service) searchProjects(p string) ([]string, error) {
	switch p {
	case "*":
		return nil, nil
	case "":
		p = s.project
	default:
		if err := memory.ValidateProject(p); err != nil {
			return nil, invalidFrom("project", err)
		}
	}
	if p == memory.GlobalProject {
		return []string{memory.GlobalProject}, nil
	}
	return []string{p, memory.GlobalProject}, nil
}

// Recall searches memories. Semantic and hybrid recalls wait up to
// req.ModelWait for a model that is still loading and then answer by
// keyword, saying so in Note; keyword recalls never touch the model.
func (s *Service) Recall(ctx context.Context, req RecallRequest) (RecallResult, error) {
	query := strings.TrimSpace(req.Query)
	if err := validateQuery(req.Query); err != nil {
		return RecallResult{}, err
	}
	k := req.K
	if k == 0 {
		k = DefaultK
	}
	if k < 1 || k > MaxRecallK {
		return RecallResult{}, invalidf("k is %d; it must be between 1 and %d", req.K, MaxRecallK)
	}
	mode := req.Mode
	if mode == "" {
		mode = memory.ModeHybrid
	}
	if !mode.Valid() {
		return RecallResult{}, invalidf("mode %q is not one of hybrid, semantic, keyword", req.Mode)
	}
	tags, err := memory.NormalizeTags(req.Tags)
	if err != nil {
		return RecallResult{}, invalidFrom("tags", err)
	}
	projects, err := s.searchProjects(req.Project)
	if err != nil {
		return RecallResult{}, err
	}
	if !req.Since.IsZero() && !req.Until.IsZero() && !req.Until.After(req.Since) {
		return RecallResult{}, invalidf("until (%s) is not after since (%s)", req.Until.Format(time.RFC3339), req.Since.Format(time.RFC3339))
	}

	// The store ranks a deeper list than k: the service's own ranking
	// (recency, use, pins: rank.go) then chooses the k best of it.
	q := memory.Query{
		Text: query,
		Mode: mode,
		K:    candidateK(k),
		Filter: memory.Filter{
			Projects:          projects,
			Since:             req.Since,
			Until:             req.Until,
			IncludeSuperseded: req.IncludeSuperseded,
		},
	}
	if req.TagsAll {
		q.Filter.TagsAll = tags
	} else {
		q.Filter.TagsAny = tags
	}
	res := RecallResult{Mode: mode}
	// A hybrid recall with the model loaded embeds the query during the
	// search, beside the keyword ranking (memory.Query.Embed); otherwise
	// (semantic mode, or a model still loading, which may mean waiting
	// and notes) the vector comes first.
	var late lateVector
	switch {
	case mode == memory.ModeHybrid && s.emb != nil && s.emb.Ready():
		q.Model = s.emb.Model().ID
		q.Embed = func(ctx context.Context) ([]float32, error) {
			var err error
			late.vec, late.model, late.note, err = s.queryVector(ctx, query, req.ModelWait, req.OnWait, memory.WorkBeside(ctx))
			return late.vec, err
		}
	case mode != memory.ModeKeyword:
		vec, model, note, err := s.queryVector(ctx, query, req.ModelWait, req.OnWait, false)
		if err != nil {
			return RecallResult{}, err
		}
		if vec == nil {
			q.Mode, res.Mode, res.Note = memory.ModeKeyword, memory.ModeKeyword, note
		} else {
			q.Vector, q.Model = vec, model
			res.Model, res.Semantic = model, true
		}
	}

	// The one validation of the query on its way to the store: the request
	// was checked above, and the store takes a normalised query as it is.
	if q, err = q.Normalize(); err != nil {
		return RecallResult{}, invalidFrom("query", err)
	}
	hits, err := s.store.Search(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return RecallResult{}, ctx.Err()
		}
		if errors.Is(err, memory.ErrInvalid) {
			return RecallResult{}, invalidFrom("query", err)
		}
		return RecallResult{}, fmt.Errorf("search: %w", err)
	}
	if q.Embed != nil {
		// What the search embedded decides how it ranked.
		q.Embed = nil
		if late.vec != nil {
			q.Vector = late.vec
			res.Model, res.Semantic = late.model, true
		} else {
			q.Mode, res.Mode, res.Note = memory.ModeKeyword, memory.ModeKeyword, late.note
		}
	}
	if hits, err = s.rank(ctx, q, hits, k, req.IgnorePins); err != nil {
		return RecallResult{}, err
	}
	if res.Semantic {
		res.NotEmbedded, res.NotEmbeddedWhy = s.notEmbedded(ctx, res.Model)
		if res.NotEmbedded > 0 {
			res.Note = strings.TrimSpace(res.Note + " " + fmt.Sprintf("%d stored memories could not be compared by meaning (found by keyword at most): %s.", res.NotEmbedded, res.NotEmbeddedWhy))
		}
	}
	res.Results = hits
	if len(hits) > 0 && !req.NoUse {
		// Recorded in the background: the answer must not wait for the
		// write lock (see uses.go).
		ids := make([]string, len(hits))
		for i, h := range hits {
			ids[i] = h.Memory.ID
		}
		s.uses.add(ids)
	}
	return res, nil
}

// lateVector is what a hybrid recall's Embed computed during the search.
type lateVector struct {
	vec         []float32
	model, note string
}

// queryVector embeds a query, waiting up to wait for the model; beside
// keeps the embedding to one core while the caller works on the others
// (BesideEmbedder, when the embedder is one). A nil vector with a note
// means: answer by keyword and tell the caller why. Only a cancelled ctx
// is an error.
func (s *Service) queryVector(ctx context.Context, query string, wait time.Duration, onWait func(elapsed, limit time.Duration), beside bool) ([]float32, string, string, error) {
	if s.emb == nil {
		return nil, "", "no embedding model is configured; answered by keyword search only", nil
	}
	if !s.emb.Ready() {
		if err := s.waitModel(ctx, wait, onWait); err != nil {
			if ctx.Err() != nil {
				return nil, "", "", ctx.Err()
			}
			return nil, "", s.unavailableNote(wait), nil
		}
	}
	embedQuery := s.emb.EmbedQuery
	if b, ok := s.emb.(BesideEmbedder); ok && beside {
		embedQuery = b.EmbedQueryBeside
	}
	vec, err := embedQuery(ctx, query)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", "", ctx.Err()
		}
		s.log.Warn("recall: embedding the query failed; answering by keyword", "err", err)
		return nil, "", fmt.Sprintf("embedding the query failed (%v); answered by keyword search only", err), nil
	}
	return vec, s.emb.Model().ID, "", nil
}

func (s *Service) unavailableNote(wait time.Duration) string {
	id := s.emb.Model().ID
	if err := s.emb.LoadError(); err != nil {
		return fmt.Sprintf("embedding model %s failed to load (%v); answered by keyword search only", id, err)
	}
	return fmt.Sprintf("embedding model %s is still loading (waited %s); answered by keyword search only — retry shortly for semantic results", id, wait.Round(time.Millisecond))
}

// waitModel waits up to limit for the model, calling onWait about every
// waitTick. It returns nil once the model is ready.
func (s *Service) waitModel(ctx context.Context, limit time.Duration, onWait func(elapsed, limit time.Duration)) error {
	if s.emb.Ready() {
		return nil
	}
	if err := s.emb.LoadError(); err != nil {
		return err
	}
	if limit <= 0 {
		return errors.New("model not ready")
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.emb.Wait(wctx) }()
	tick := time.NewTicker(waitTick)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err == nil && s.emb.Ready() {
				return nil
			}
			if err == nil {
				err = errors.New("model not ready")
			}
			return err
		case <-tick.C:
			if onWait != nil {
				onWait(time.Since(start), limit)
			}
		}
	}
}

// ---------------------------------------------------------- forget / list

// Forget deletes memories by id. Unknown ids are listed in Missing; when
// every id is unknown the error wraps memory.ErrNotFound.
func (s *Service) Forget(ctx context.Context, ids []string) (ForgetResult, error) {
	if len(ids) == 0 {
		return ForgetResult{}, invalidf("no id given: pass the id of each memory to forget (ids come from recall or list)")
	}
	if len(ids) > MaxForgetIDs {
		return ForgetResult{}, invalidf("%d ids given; forget at most %d per call", len(ids), MaxForgetIDs)
	}
	seen := make(map[string]bool, len(ids))
	var uniq []string
	for i, given := range ids {
		given = strings.TrimSpace(given)
		id := memory.NormalizeID(given)
		if !memory.ValidID(id) {
			if len(ids) == 1 {
				return ForgetResult{}, invalidf("id %q is not a memory id (26-character ULID such as 01J9Z3M4Q8X1V2B3C4D5E6F7G8)", given)
			}
			return ForgetResult{}, invalidf("ids[%d] %q is not a memory id (26-character ULID)", i, given)
		}
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	missing, err := s.store.Delete(ctx, uniq)
	if err != nil {
		return ForgetResult{}, fmt.Errorf("delete: %w", err)
	}
	gone := make(map[string]bool, len(missing))
	for _, id := range missing {
		gone[id] = true
	}
	res := ForgetResult{Deleted: []string{}, Missing: missing}
	for _, id := range uniq {
		if !gone[id] {
			res.Deleted = append(res.Deleted, id)
		}
	}
	if len(res.Deleted) == 0 {
		return res, fmt.Errorf("no memory with id %s: %w", strings.Join(missing, ", "), memory.ErrNotFound)
	}
	return res, nil
}

// List returns recent memories, newest first, without their vectors
// (Model and Dims still say whether and how each is embedded).
func (s *Service) List(ctx context.Context, req ListRequest) ([]memory.Memory, error) {
	limit := req.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, invalidf("limit is %d; it must be between 1 and %d", req.Limit, MaxListLimit)
	}
	if req.Offset < 0 || req.Offset > MaxListOffset {
		return nil, invalidf("offset is %d; it must be between 0 and %d", req.Offset, MaxListOffset)
	}
	tags, err := memory.NormalizeTags(req.Tags)
	if err != nil {
		return nil, invalidFrom("tags", err)
	}
	projects, err := s.searchProjects(req.Project)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.List(ctx, memory.ListOptions{
		Filter: memory.Filter{Projects: projects, TagsAny: tags, IncludeSuperseded: req.IncludeSuperseded, PinnedOnly: req.Pinned},
		Limit:  limit,
		Offset: req.Offset,
	})
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if ms == nil {
		ms = []memory.Memory{}
	}
	for i := range ms {
		ms[i].Vector = nil // listings show text; vectors are export's business
	}
	return ms, nil
}

// Get returns one memory; the error wraps memory.ErrNotFound when unknown.
func (s *Service) Get(ctx context.Context, given string) (memory.Memory, error) {
	id := memory.NormalizeID(given)
	if !memory.ValidID(id) {
		return memory.Memory{}, invalidf("id %q is not a memory id (26-character ULID)", strings.TrimSpace(given))
	}
	m, err := s.store.Get(ctx, id)
	if err != nil {
		if errors.Is(err, memory.ErrNotFound) {
			return memory.Memory{}, fmt.Errorf("no memory with id %s: %w", id, memory.ErrNotFound)
		}
		return memory.Memory{}, fmt.Errorf("get %s: %w", id, err)
	}
	return m, nil
}

// Stats summarises the store.
func (s *Service) Stats(ctx context.Context) (memory.Stats, error) {
	st, err := s.store.Stats(ctx)
	if err != nil {
		return memory.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// ModelStatus reports the embedding model's state without waiting.
func (s *Service) ModelStatus() ModelStatus {
	if s.emb == nil {
		return ModelStatus{Error: "no embedding model configured"}
	}
	info := s.emb.Model()
	st := ModelStatus{Model: info.ID, Ready: s.emb.Ready()}
	if st.Ready {
		st.Dims = info.Dims
		st.LoadMS = info.LoadTime.Milliseconds()
	} else if err := s.emb.LoadError(); err != nil {
		st.Error = err.Error()
	}
	return st
}

// ------------------------------------------------------ embed / similarity

// readyModel waits (up to the EmbedWait option) for the model and returns
// an error wrapping ErrModelUnavailable when there is none.
func (s *Service) readyModel(ctx context.Context) error {
	if s.emb == nil {
		return fmt.Errorf("%w: no embedding model configured", ErrModelUnavailable)
	}
	if s.emb.Ready() {
		return nil
	}
	if err := s.emb.LoadError(); err != nil {
		return fmt.Errorf("%w: model %s failed to load: %v", ErrModelUnavailable, s.emb.Model().ID, err)
	}
	wctx, cancel := context.WithTimeout(ctx, s.embWait)
	defer cancel()
	err := s.emb.Wait(wctx)
	if err == nil && s.emb.Ready() {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if lerr := s.emb.LoadError(); lerr != nil {
		return fmt.Errorf("%w: model %s failed to load: %v", ErrModelUnavailable, s.emb.Model().ID, lerr)
	}
	return fmt.Errorf("%w: model %s is still loading after %s; retry shortly", ErrModelUnavailable, s.emb.Model().ID, s.embWait)
}

func (s *Service) validateTexts(what string, texts []string) error {
	if len(texts) == 0 {
		return invalidf("%s is empty; give 1 to %d texts", what, MaxEmbedTexts)
	}
	if len(texts) > MaxEmbedTexts {
		return invalidf("%s has %d texts; at most %d are allowed per call", what, len(texts), MaxEmbedTexts)
	}
	for i, t := range texts {
		if err := s.validateContent(fmt.Sprintf("%s[%d]", what, i), t); err != nil {
			return err
		}
	}
	return nil
}

// Embed returns raw embeddings of texts (1..MaxEmbedTexts, each non-empty).
func (s *Service) Embed(ctx context.Context, texts []string) (EmbedResult, error) {
	if err := s.validateTexts("texts", texts); err != nil {
		return EmbedResult{}, err
	}
	if err := s.readyModel(ctx); err != nil {
		return EmbedResult{}, err
	}
	vecs, err := s.emb.Embed(ctx, texts)
	if err != nil {
		return EmbedResult{}, fmt.Errorf("embed: %w", err)
	}
	dims := 0
	if len(vecs) > 0 {
		dims = len(vecs[0])
	}
	return EmbedResult{Vectors: vecs, Model: s.emb.Model().ID, Dims: dims}, nil
}

// Similarity scores each candidate against query by cosine similarity,
// most similar first.
func (s *Service) Similarity(ctx context.Context, query string, candidates []string) (SimilarityResult, error) {
	if err := validateQuery(query); err != nil {
		return SimilarityResult{}, err
	}
	if err := s.validateTexts("candidates", candidates); err != nil {
		return SimilarityResult{}, err
	}
	if err := s.readyModel(ctx); err != nil {
		return SimilarityResult{}, err
	}
	qv, err := s.emb.EmbedQuery(ctx, query)
	if err != nil {
		return SimilarityResult{}, fmt.Errorf("embed query: %w", err)
	}
	cv, err := s.emb.EmbedDocuments(ctx, candidates)
	if err != nil {
		return SimilarityResult{}, fmt.Errorf("embed candidates: %w", err)
	}
	if len(cv) != len(candidates) {
		return SimilarityResult{}, fmt.Errorf("embed candidates: got %d vectors for %d texts", len(cv), len(candidates))
	}
	out := make([]Scored, len(candidates))
	for i, v := range cv {
		out[i] = Scored{Index: i, Text: candidates[i], Similarity: round4(Cosine(qv, v))}
	}
	sortScored(out)
	return SimilarityResult{Results: out, Model: s.emb.Model().ID}, nil
}

func sortScored(out []Scored) {
	// Insertion sort keeps equal scores in request order; n ≤ 64.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Similarity > out[j-1].Similarity; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
}

// Cosine is the cosine similarity of a and b (0 when either is zero or the
// lengths differ).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
