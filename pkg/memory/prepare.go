package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the validation every Store applies, so that the SQLite and
// PostgreSQL stores accept and reject exactly the same input.

// DefaultK is the number of results of a recall that asks for no number:
// the memory service's default (service.DefaultK is this constant), and what
// a Store answers to a Query.K or a Similar limit of 0.
const DefaultK = 5

// CandidateDepth is how many entries each single ranking (keyword, semantic)
// contributes to reciprocal rank fusion for a search that wants k results.
// Going deeper than k lets a memory that is second-tier in both rankings beat
// one that is found by only one of them, which is the point of RRF.
func CandidateDepth(k int) int {
	d := 4 * k
	if d < 100 {
		d = 100
	}
	if d > 400 {
		d = 400
	}
	return d
}

// Rankings says which rankings a normalised query runs and how deep each
// goes. Without a query vector (no model ready) semantic and hybrid searches
// fall back to the keyword ranking alone, exactly as keyword mode; only a
// search that fuses both rankings goes deeper than K (see CandidateDepth).
// Every Store plans its search with it so the stores rank alike.
func (q Query) Rankings() (keyword, semantic bool, depth int) {
	semantic = q.Mode != ModeKeyword && (q.Vector != nil || q.Embed != nil)
	keyword = q.Mode != ModeSemantic || !semantic
	depth = q.K
	if keyword && semantic {
		depth = CandidateDepth(q.K)
	}
	return keyword, semantic, depth
}

// UnixMilliTime converts stored unix milliseconds back to a UTC time.
func UnixMilliTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// msPrecision rounds t to the millisecond precision stores keep, in UTC.
func msPrecision(t time.Time) time.Time { return UnixMilliTime(t.UnixMilli()) }

// Prepare validates m for insertion and returns a completed copy: ID (a new
// ULID when empty), ContentHash, normalised Tags, non-nil Metadata, times
// (CreatedAt defaults to now, UpdatedAt and AccessedAt to CreatedAt; all in
// UTC at millisecond precision) and a normalised, stamped vector. m itself is
// not modified. Errors wrap ErrInvalid and say what to fix.
func Prepare(m Memory, now time.Time) (Memory, error) {
	out := m
	if strings.TrimSpace(m.Content) == "" {
		return out, fmt.Errorf("%w: content is empty", ErrInvalid)
	}
	if !utf8.ValidString(m.Content) {
		return out, fmt.Errorf("%w: content is not valid UTF-8", ErrInvalid)
	}
	// NUL is never meaningful text, and PostgreSQL cannot store it: refusing
	// it in every store keeps a SQLite store migratable to a team store.
	if err := NoNUL("content", m.Content); err != nil {
		return out, err
	}
	if err := NoNUL("author", m.Author); err != nil {
		return out, err
	}
	if err := NoNUL("model", m.Model); err != nil {
		return out, err
	}
	if err := ValidateProject(m.Project); err != nil {
		return out, err
	}
	if !m.Source.Valid() {
		return out, fmt.Errorf("%w: source %q is not one of mcp, cli, hook, import", ErrInvalid, m.Source)
	}
	if out.ID == "" {
		out.ID = NewID(now)
	} else if !ValidID(out.ID) {
		return out, fmt.Errorf("%w: id %q is not a ULID", ErrInvalid, out.ID)
	}
	hash := ContentHash(m.Content)
	if m.ContentHash != "" && !strings.EqualFold(m.ContentHash, hash) {
		return out, fmt.Errorf("%w: content_hash does not match the content", ErrInvalid)
	}
	out.ContentHash = hash
	tags, err := NormalizeTags(m.Tags)
	if err != nil {
		return out, err
	}
	out.Tags = tags
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	md, err := MetadataJSON(out.Metadata)
	if err != nil {
		return out, err
	}
	if bytes.Contains(md, []byte(`\u0000`)) { // cheap pre-check; decode to be exact
		var v any
		if json.Unmarshal(md, &v) == nil && jsonHasNUL(v) {
			return out, fmt.Errorf("%w: metadata contains a NUL character", ErrInvalid)
		}
	}
	if out.CreatedAt.IsZero() {
		out.CreatedAt = now
	}
	out.CreatedAt = msPrecision(out.CreatedAt)
	if out.UpdatedAt.IsZero() {
		out.UpdatedAt = out.CreatedAt
	}
	out.UpdatedAt = msPrecision(out.UpdatedAt)
	if out.AccessedAt.IsZero() {
		out.AccessedAt = out.CreatedAt
	}
	out.AccessedAt = msPrecision(out.AccessedAt)
	if out.RecallCount < 0 {
		return out, fmt.Errorf("%w: recall_count is negative", ErrInvalid)
	}
	if out.SupersededBy != "" && (!ValidID(out.SupersededBy) || out.SupersededBy == out.ID) {
		return out, fmt.Errorf("%w: superseded_by %q is not the id of another memory", ErrInvalid, out.SupersededBy)
	}
	sup, err := normalizeSupersedes(out.ID, m.Supersedes)
	if err != nil {
		return out, err
	}
	out.Supersedes = sup
	if len(m.Vector) == 0 {
		// No vector: nothing to stamp. The memory is embedded later (reembed).
		out.Vector, out.Model, out.Dims = nil, "", 0
		return out, nil
	}
	if m.Dims != 0 && m.Dims != len(m.Vector) {
		return out, fmt.Errorf("%w: dims is %d but the vector has %d values", ErrInvalid, m.Dims, len(m.Vector))
	}
	if strings.TrimSpace(m.Model) == "" {
		return out, fmt.Errorf("%w: a vector needs the model id that made it", ErrInvalid)
	}
	v, err := PrepareVector(m.Vector)
	if err != nil {
		return out, err
	}
	out.Vector, out.Dims = v, len(v)
	return out, nil
}

// MaxSupersedes bounds how many memories one version may replace.
const MaxSupersedes = 100

// normalizeSupersedes checks the ids a memory replaces: ULIDs, not the
// memory itself, at most MaxSupersedes; duplicates are dropped, order kept.
// nil for none.
func normalizeSupersedes(self string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxSupersedes {
		return nil, fmt.Errorf("%w: supersedes names %d memories, at most %d", ErrInvalid, len(ids), MaxSupersedes)
	}
	var out []string
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !ValidID(id) {
			return nil, fmt.Errorf("%w: supersedes: %q is not a memory id", ErrInvalid, id)
		}
		if strings.EqualFold(id, self) {
			return nil, fmt.Errorf("%w: a memory cannot supersede itself", ErrInvalid)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// PreparePut begins every Store's Put: m must not be nil, and is validated
// and completed by Prepare (the returned copy is what the store writes).
func PreparePut(m *Memory, now time.Time) (Memory, error) {
	if m == nil {
		return Memory{}, fmt.Errorf("%w: nil memory", ErrInvalid)
	}
	return Prepare(*m, now)
}

// PrepareSimilar checks the arguments of Store.Similar, for every store
// alike: a model id is required (only that model's vectors are compared),
// the project must be valid and the vector usable (it is returned
// L2-normalised); a limit of 0 or less is DefaultK, and at most MaxK.
func PrepareSimilar(vec []float32, model, project string, limit int) ([]float32, int, error) {
	if strings.TrimSpace(model) == "" {
		return nil, 0, fmt.Errorf("%w: a query vector needs its model id", ErrInvalid)
	}
	if err := ValidateProject(project); err != nil {
		return nil, 0, err
	}
	v, err := PrepareVector(vec)
	if err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = DefaultK
	}
	return v, min(limit, MaxK), nil
}

// MaxDims bounds vector dimensions (large models use up to a few thousand).
const MaxDims = 8192

// PrepareVector checks that vec is usable for cosine ranking (non-empty,
// finite, not all zero, at most MaxDims) and returns it L2-normalised. A
// vector that is already unit length (within 1e-4) is returned as a copy of
// itself, unchanged, so embeddings round-trip exactly.
func PrepareVector(vec []float32) ([]float32, error) {
	if len(vec) == 0 {
		return nil, fmt.Errorf("%w: empty vector", ErrInvalid)
	}
	if len(vec) > MaxDims {
		return nil, fmt.Errorf("%w: vector has %d dimensions, at most %d allowed", ErrInvalid, len(vec), MaxDims)
	}
	var sum float64
	for i, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%w: vector value %d is %v", ErrInvalid, i, x)
		}
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return nil, fmt.Errorf("%w: vector is all zeros", ErrInvalid)
	}
	out := make([]float32, len(vec))
	copy(out, vec)
	norm := math.Sqrt(sum)
	if math.Abs(norm-1) > 1e-4 {
		for i := range out {
			out[i] = float32(float64(out[i]) / norm)
		}
	}
	return out, nil
}

// MetadataJSON encodes metadata as a JSON object ("{}" for nil), or returns
// an ErrInvalid error when a value cannot be encoded as JSON.
func MetadataJSON(md map[string]any) ([]byte, error) {
	if md == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("%w: metadata is not a JSON object: %v", ErrInvalid, err)
	}
	return b, nil
}

// Normalize validates a filter and returns it with normalised tags and
// de-duplicated projects.
func (f Filter) Normalize() (Filter, error) {
	out := f
	var err error
	if out.TagsAny, err = normalizeFilterTags(f.TagsAny); err != nil {
		return out, err
	}
	if out.TagsAll, err = normalizeFilterTags(f.TagsAll); err != nil {
		return out, err
	}
	if len(f.Projects) > 0 {
		seen := map[string]bool{}
		out.Projects = make([]string, 0, len(f.Projects))
		for _, p := range f.Projects {
			if err := ValidateProject(p); err != nil {
				return out, err
			}
			if !seen[p] {
				seen[p] = true
				out.Projects = append(out.Projects, p)
			}
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return out, fmt.Errorf("%w: until (%s) must be after since (%s)", ErrInvalid,
			f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	return out, nil
}

func normalizeFilterTags(tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	return NormalizeTags(tags)
}

// Normalize validates a query and fills in defaults: Mode hybrid when empty,
// K DefaultK when 0 and at most MaxK, normalised filter. A vector is
// validated (finite, non-zero) and normalised; a vector without a model id
// is an error.
//
// The result is marked normalised, and Normalize returns a normalised query
// as it is: every Store normalises the query it is given, so a query the
// memory service built and normalised is checked once, not twice. A caller
// that changes a normalised query must build it again instead.
func (q Query) Normalize() (Query, error) {
	if q.normalized {
		return q, nil
	}
	out := q
	if out.Mode == "" {
		out.Mode = ModeHybrid
	}
	if !out.Mode.Valid() {
		return out, fmt.Errorf("%w: mode %q is not hybrid, semantic or keyword", ErrInvalid, q.Mode)
	}
	switch {
	case out.K < 0:
		return out, fmt.Errorf("%w: k is %d, want 1..%d", ErrInvalid, q.K, MaxK)
	case out.K == 0:
		out.K = DefaultK
	case out.K > MaxK:
		out.K = MaxK
	}
	var err error
	if out.Filter, err = q.Filter.Normalize(); err != nil {
		return out, err
	}
	if q.Embed != nil {
		if len(q.Vector) > 0 {
			return out, fmt.Errorf("%w: a query has a vector or computes one (Embed), not both", ErrInvalid)
		}
		if strings.TrimSpace(q.Model) == "" {
			return out, fmt.Errorf("%w: a query that embeds its text needs the model id", ErrInvalid)
		}
	}
	if len(q.Vector) > 0 {
		if strings.TrimSpace(q.Model) == "" {
			return out, fmt.Errorf("%w: a query vector needs its model id", ErrInvalid)
		}
		if out.Vector, err = PrepareVector(q.Vector); err != nil {
			return out, err
		}
	} else {
		out.Vector = nil
	}
	out.normalized = true
	return out, nil
}

// ResolveVector calls q.Embed, if set, and returns the query with the
// vector it computed (validated as Normalize validates Vector) and Embed
// cleared. An error from Embed is returned as it is (a cancelled context);
// a nil vector leaves a keyword-only query.
func (q Query) ResolveVector(ctx context.Context) (Query, error) {
	if q.Embed == nil {
		return q, nil
	}
	v, err := q.Embed(ctx)
	q.Embed = nil
	if err != nil {
		return q, err
	}
	if len(v) == 0 {
		q.Vector = nil
		return q, nil
	}
	if q.Vector, err = PrepareVector(v); err != nil {
		return q, err
	}
	return q, nil
}

// Keep reports whether a memory with these attributes passes the filter
// (Projects, TagsAny, TagsAll, Since inclusive, Until exclusive, superseded
// and pinned). tags must be normalised (sorted); f must have been normalised.
func (f Filter) Keep(project string, tags []string, created time.Time, superseded, pinned bool) bool {
	if superseded && !f.IncludeSuperseded {
		return false
	}
	if f.PinnedOnly && !pinned {
		return false
	}
	if len(f.Projects) > 0 && !contains(f.Projects, project) {
		return false
	}
	if !f.Since.IsZero() && created.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	if len(f.TagsAny) > 0 {
		any := false
		for _, t := range f.TagsAny {
			if contains(tags, t) {
				any = true
				break
			}
		}
		if !any {
			return false
		}
	}
	for _, t := range f.TagsAll {
		if !contains(tags, t) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// NoNUL rejects text holding a NUL character, naming the field.
func NoNUL(field, text string) error {
	if strings.IndexByte(text, 0) >= 0 {
		return fmt.Errorf("%w: %s contains a NUL character", ErrInvalid, field)
	}
	return nil
}

// jsonHasNUL reports whether a decoded JSON value holds a NUL character in
// any key or string.
func jsonHasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case []any:
		for _, x := range v {
			if jsonHasNUL(x) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.IndexByte(k, 0) >= 0 || jsonHasNUL(x) {
				return true
			}
		}
	}
	return false
}
