package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/jsonl"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
)

// ReembedBatch is how many memories Reembed embeds and stores per step.
const ReembedBatch = 32

// Reembed gives every memory without a vector of the current model (none,
// or one from another model) a vector of the current model, in batches.
// Each batch is committed before the next, so an interrupted run loses at
// most one batch of work and a rerun continues where it stopped. progress,
// if set, is called after each batch with the memories done so far and the
// total that needed embedding when the run started.
func (s *Service) Reembed(ctx context.Context, progress func(done, total int)) (int, error) {
	if err := s.readyModel(ctx); err != nil {
		return 0, err
	}
	model := s.emb.Model()
	total := 0
	st, err := s.store.Stats(ctx)
	if err == nil {
		total = st.Total - st.ByModel[model.ID]
	}
	// Vectors stamped with this model that cannot be its (another size: a bad
	// import of older versions) or cannot be read (non-finite values) are
	// listed by no NeedEmbedding: find and replace them first.
	broken, err := s.brokenVectors(ctx, model, st)
	if err != nil {
		return 0, err
	}
	total += len(broken)
	if progress != nil {
		progress(0, total)
	}
	done, after := 0, ""
	for len(broken) > 0 {
		var batch []memory.Memory
		for _, id := range broken[:min(len(broken), ReembedBatch)] {
			m, err := s.store.Get(ctx, id)
			if errors.Is(err, memory.ErrNotFound) {
				continue
			}
			if err != nil {
				return done, fmt.Errorf("read %s: %w", id, err)
			}
			batch = append(batch, m)
		}
		broken = broken[min(len(broken), ReembedBatch):]
		n, err := s.storeVectors(ctx, batch, model.ID)
		done += n
		if err != nil {
			return done, err
		}
		if progress != nil {
			progress(done, total)
		}
	}
	for {
		batch, err := s.store.NeedEmbedding(ctx, model.ID, after, ReembedBatch)
		if err != nil {
			return done, fmt.Errorf("list memories to embed: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].ID
		// One bad text must not stop the run: embedEach skips (and logs)
		// what cannot be embedded.
		vecs := s.embedEach(ctx, batch)
		if err := ctx.Err(); err != nil {
			return done, err
		}
		for i, m := range batch {
			if vecs[i] == nil {
				continue
			}
			if err := s.store.SetVector(ctx, m.ID, vecs[i], model.ID); err != nil {
				if errors.Is(err, memory.ErrNotFound) {
					continue // deleted meanwhile
				}
				return done, fmt.Errorf("store vector of %s: %w", m.ID, err)
			}
			done++
		}
		if total < done {
			total = done // other processes wrote meanwhile
		}
		if progress != nil {
			progress(done, total)
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
	}
	return done, nil
}

// brokenVectors lists the memories whose vector is stamped with model but
// has another size than model's, or that the store reports unreadable
// (memory.VectorChecker).
func (s *Service) brokenVectors(ctx context.Context, model ModelInfo, st memory.Stats) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	if vc, ok := s.store.(memory.VectorChecker); ok {
		bad, err := vc.BadVectorIDs(ctx)
		if err != nil {
			return nil, fmt.Errorf("check stored vectors: %w", err)
		}
		for _, id := range bad {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sizes := st.DimsByModel[model.ID]
	if model.Dims <= 0 || len(sizes) == 0 || (len(sizes) == 1 && sizes[model.Dims] > 0) {
		return ids, nil
	}
	for offset := 0; ; offset += exportPage {
		page, err := s.store.List(ctx, memory.ListOptions{Limit: exportPage, Offset: offset})
		if err != nil {
			return nil, fmt.Errorf("list memories: %w", err)
		}
		if len(page) == 0 {
			return ids, nil
		}
		for _, m := range page {
			if m.Model == model.ID && m.Dims > 0 && m.Dims != model.Dims && !seen[m.ID] {
				seen[m.ID] = true
				ids = append(ids, m.ID)
			}
		}
	}
}

// storeVectors embeds batch and stores each vector; memories deleted
// meanwhile or that cannot be embedded are skipped. It returns how many it stored.
func (s *Service) storeVectors(ctx context.Context, batch []memory.Memory, model string) (int, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	vecs := s.embedEach(ctx, batch)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	done := 0
	for i, m := range batch {
		if vecs[i] == nil {
			continue
		}
		if err := s.store.SetVector(ctx, m.ID, vecs[i], model); err != nil {
			if errors.Is(err, memory.ErrNotFound) {
				continue
			}
			return done, fmt.Errorf("store vector of %s: %w", m.ID, err)
		}
		done++
	}
	return done, nil
}

// embedEach embeds a batch, falling back to one text at a time (skipping
// and logging the ones that fail) when the batch as a whole fails.
func (s *Service) embedEach(ctx context.Context, batch []memory.Memory) [][]float32 {
	texts := make([]string, len(batch))
	for i, m := range batch {
		texts[i] = m.Content
	}
	if vecs, err := s.emb.EmbedDocuments(ctx, texts); err == nil && len(vecs) == len(batch) {
		return vecs
	}
	out := make([][]float32, len(batch))
	for i, m := range batch {
		v, err := s.emb.EmbedDocuments(ctx, []string{m.Content})
		if err != nil || len(v) != 1 {
			s.log.Warn("reembed: skipping a memory that cannot be embedded", "id", m.ID, "err", err)
			continue
		}
		out[i] = v[0]
	}
	return out
}

// ExportOptions selects what Export writes.
type ExportOptions struct {
	// Project: "" = current project + global, "*" = all, else that project + global.
	Project string
	// Vectors includes each memory's vector (with its model and dims).
	Vectors bool
	// OnSkip, when the store is damaged, is told about each run of rows
	// that could not be read and was left out of the export.
	OnSkip func(memory.SkippedRange)
}

// exportPage is the page size Export reads the store with.
const exportPage = 200

// Export writes memories as JSON lines, newest first, and returns how many
// it wrote.
func (s *Service) Export(ctx context.Context, w io.Writer, o ExportOptions) (int, error) {
	projects, err := s.searchProjects(o.Project)
	if err != nil {
		return 0, err
	}
	n := 0
	seen := map[string]bool{}
	for offset := 0; ; offset += exportPage {
		page, err := s.store.List(ctx, memory.ListOptions{
			// Every version: an export carries the chains whole.
			Filter: memory.Filter{Projects: projects, IncludeSuperseded: true},
			Limit:  exportPage,
			Offset: offset,
		})
		if err != nil {
			sv, ok := s.store.(memory.Salvager)
			if !ok || ctx.Err() != nil {
				return n, fmt.Errorf("list memories: %w", err)
			}
			// A damaged store fails a listing at its first bad page: read
			// the rest row by row, skipping (and reporting) what cannot be
			// read, so an export still saves everything readable.
			s.log.Info("export: listing failed; reading the store row by row", "exported", n, "err", err)
			return s.salvageExport(ctx, sv, w, o, projects, seen, n)
		}
		if len(page) == 0 {
			return n, nil
		}
		for _, m := range page {
			if seen[m.ID] { // a concurrent write shifted the pages
				continue
			}
			seen[m.ID] = true
			if o.Vectors && len(m.Vector) == 0 && m.Dims > 0 {
				full, err := s.store.Get(ctx, m.ID)
				if err == nil {
					m = full
				}
			}
			if err := jsonl.Write(w, m, o.Vectors); err != nil {
				return n, err
			}
			n++
		}
	}
}

// ImportOptions configures Import.
type ImportOptions struct {
	// Project receives lines that name none ("" = the current project).
	Project string
}

// LineError is one rejected line of an import file.
type LineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// MaxReportedBadLines bounds ImportResult.Bad, so a file of garbage cannot
// exhaust memory; BadLines still counts them all.
const MaxReportedBadLines = 1000

func (r *ImportResult) bad(line int, msg string) {
	r.BadLines++
	if len(r.Bad) < MaxReportedBadLines {
		r.Bad = append(r.Bad, LineError{Line: line, Error: msg})
	}
}

// dropVector records that a line's vector was not kept, and why; its
// memory is imported without one and embedded again (reembed, or a
// running server in the background).
func (r *ImportResult) dropVector(line int, why string) {
	r.VectorsDropped++
	if len(r.Dropped) < MaxReportedBadLines {
		r.Dropped = append(r.Dropped, LineError{Line: line, Error: "vector dropped, the memory will be embedded again: " + why})
	}
}

// ImportedAtKey is the metadata key Import records the time of the import
// under. The memory keeps the source of the line (where it was first
// written: mcp, cli, hook); a line without one gets source "import".
const ImportedAtKey = "imported_at"

// ImportResult reports what Import did.
type ImportResult struct {
	Lines          int         `json:"lines"`                     // non-blank lines read
	Imported       int         `json:"imported"`                  // new memories stored
	Duplicates     int         `json:"duplicates"`                // already present (same id, or same content in that project)
	BadLines       int         `json:"bad_lines"`                 // rejected lines
	Bad            []LineError `json:"bad,omitempty"`             // the first MaxReportedBadLines of them, with line numbers and reasons
	VectorsKept    int         `json:"vectors_kept"`              // imported with the file's vector
	VectorsDropped int         `json:"vectors_dropped,omitempty"` // vectors not kept (inconsistent, not unit length, or wrong dims for the model)
	Dropped        []LineError `json:"dropped,omitempty"`         // why each of them was dropped, by line (first MaxReportedBadLines)
	NeedEmbedding  int         `json:"need_embedding"`            // new memories without a current-model vector: run reembed
	// Redacted says what was removed from the lines before storing (kind
	// and count, never the secret).
	Redacted []redact.Finding `json:"redacted,omitempty"`
}

// Import reads JSON lines (as Export writes them), validates every line,
// stores the good ones and reports the bad ones with their line numbers.
// It is idempotent: a line whose id is already present with the same
// content and project, or whose content is already stored in its project,
// creates nothing. Original ids, sources and creation times are kept; the
// import itself is recorded in metadata (ImportedAtKey). A line whose id
// belongs to a different memory is refused (never stored under a new id),
// and so is a line dated in the future (jsonl.MaxFutureSkew). A vector is
// kept only if its size matches its model's (the loaded model's, else the
// one the store already holds for that model, else the first one of the
// file); otherwise it is dropped, said so per line, and the memory is
// embedded again. Only a failure of the store or of reading r is returned
// as an error (with the result so far).
func (s *Service) Import(ctx context.Context, r io.Reader, o ImportOptions) (ImportResult, error) {
	var res ImportResult
	defProject, err := s.resolveProject(o.Project)
	if err != nil {
		return res, err
	}
	var cur ModelInfo
	if s.emb != nil && s.emb.Ready() {
		cur = s.emb.Model()
	}
	dims, err := s.knownDims(ctx, cur)
	if err != nil {
		return res, err
	}
	now := s.now()
	lim := jsonl.Limits{MaxContentBytes: s.maxBytes, Now: now}
	lr := jsonl.NewReader(r, jsonl.MaxLineBytes(s.maxBytes))
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, jsonl.ErrLineTooLong) {
			res.Lines++
			res.bad(n, err.Error())
			continue
		}
		if err != nil {
			return res, fmt.Errorf("read line %d: %w", n, err)
		}
		res.Lines++
		rec, err := jsonl.ParseLine(line, lim)
		if err != nil {
			res.bad(n, err.Error())
			continue
		}
		m := rec.Memory
		if err := checkMemoryText(m.Content); err != nil {
			res.bad(n, err.Error())
			continue
		}
		found, err := s.redactImported(&m)
		if err != nil {
			res.bad(n, err.Error())
			continue
		}
		res.Redacted = redact.Merge(res.Redacted, found)
		if m.Project == "" {
			m.Project = defProject
		}
		if m.Source == "" {
			m.Source = memory.SourceImport
		}
		if m.ID != "" {
			old, err := s.store.Get(ctx, m.ID)
			switch {
			case err == nil && old.ContentHash == m.ContentHash && old.Project == m.Project:
				res.Duplicates++
				continue
			case err == nil:
				res.bad(n, fmt.Sprintf("id %s already belongs to another memory (%s): not imported; "+
					"remove the id from the line to import it as a new memory", m.ID, conflictWhat(old, m)))
				continue
			case !errors.Is(err, memory.ErrNotFound):
				return res, fmt.Errorf("line %d: look up id %s: %w", n, m.ID, err)
			}
		}
		if rec.VectorDropped != "" {
			res.dropVector(n, rec.VectorDropped)
		}
		if found != nil && rec.Memory.Vector != nil {
			res.dropVector(n, "the text was redacted; the vector described the text before")
		}
		if m.Vector != nil {
			if want, ok := dims[m.Model]; ok && want != m.Dims {
				res.dropVector(n, fmt.Sprintf("%s vectors have %d dimensions, this one has %d", m.Model, want, m.Dims))
				m.Vector, m.Model, m.Dims = nil, "", 0
			}
		}
		md := make(map[string]any, len(m.Metadata)+1)
		for k, v := range m.Metadata {
			md[k] = v
		}
		md[ImportedAtKey] = now.UTC().Format(time.RFC3339)
		m.Metadata = md
		if m.ID == "" && !m.CreatedAt.IsZero() {
			// Keep ids sortable by creation time.
			m.ID = memory.NewID(m.CreatedAt)
		}
		put, err := s.store.Put(ctx, &m)
		if err != nil {
			if errors.Is(err, memory.ErrInvalid) {
				res.bad(n, invalidFrom("rejected by the store", err).Error())
				continue
			}
			return res, fmt.Errorf("line %d: store: %w", n, err)
		}
		if put.Duplicate {
			res.Duplicates++
			continue
		}
		res.Imported++
		if m.Vector != nil {
			res.VectorsKept++
			if _, ok := dims[m.Model]; !ok {
				dims[m.Model] = m.Dims // the file's first vector of a model sets its size
			}
		}
		if m.Vector == nil || (cur.ID != "" && m.Model != cur.ID) {
			res.NeedEmbedding++
		}
	}
	return res, nil
}

// knownDims is the vector size of each model as far as Import can know it
// before reading the file: the loaded model's, and for other models the size
// most of the store's vectors of that model have.
func (s *Service) knownDims(ctx context.Context, cur ModelInfo) (map[string]int, error) {
	dims := map[string]int{}
	st, err := s.store.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the store's vector sizes: %w", err)
	}
	for model, sizes := range st.DimsByModel {
		best, bestN := 0, 0
		for d, n := range sizes {
			if n > bestN || (n == bestN && d > best) {
				best, bestN = d, n
			}
		}
		if best > 0 {
			dims[model] = best
		}
	}
	if cur.ID != "" && cur.Dims > 0 {
		dims[cur.ID] = cur.Dims
	}
	return dims, nil
}

// conflictWhat says how an existing memory differs from an import line
// with the same id.
func conflictWhat(old, m memory.Memory) string {
	if old.ContentHash != m.ContentHash {
		return "different content"
	}
	return fmt.Sprintf("same content in project %q, not %q", old.Project, m.Project)
}

// salvageExport finishes an export from Salvage: the memories not written
// yet (seen holds those that were), of the selected projects.
func (s *Service) salvageExport(ctx context.Context, sv memory.Salvager, w io.Writer, o ExportOptions, projects []string, seen map[string]bool, n int) (int, error) {
	skipped, err := sv.Salvage(ctx, func(m memory.Memory) error {
		if seen[m.ID] || (len(projects) > 0 && !slices.Contains(projects, m.Project)) {
			return nil
		}
		seen[m.ID] = true
		if err := jsonl.Write(w, m, o.Vectors); err != nil {
			return err
		}
		n++
		return nil
	})
	for _, r := range skipped {
		s.log.Info("export: skipped unreadable rows", "from_rowid", r.From, "to_rowid", r.To, "err", r.Error)
		if o.OnSkip != nil {
			o.OnSkip(r)
		}
	}
	if err != nil {
		return n, fmt.Errorf("read the damaged store row by row: %w", err)
	}
	return n, nil
}
