// Package jsonl is mnemo's export/import line format: one memory per line as
// a JSON object, the same field names as memory.Memory. Import files are
// untrusted input (hand-edited, from other versions or other tools), so
// ParseLine validates every field and says exactly what is wrong; the
// caller keeps good lines and reports bad ones by line number.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// Limits bounds what one line may carry.
type Limits struct {
	// MaxContentBytes bounds content (and the metadata's JSON size).
	MaxContentBytes int
	// Now, when set, refuses times later than Now + MaxFutureSkew: a memory
	// dated in year 9999 would list first forever.
	Now time.Time
}

// MaxFutureSkew is how far past Limits.Now a line's times may lie (clocks
// of the machines that exported them differ; time zones were mishandled).
const MaxFutureSkew = 24 * time.Hour

// UnitNormTolerance is how far from 1 a vector's length may be. mnemo's
// vectors are L2-normalised, and an export keeps them so to float32
// precision; a vector far from unit length was not made by an embedding
// model as mnemo uses it (hand-written, another tool's raw output), so it is
// dropped and the memory embedded again rather than silently rescaled.
const UnitNormTolerance = 1e-3

// Record is one validated line.
type Record struct {
	// Memory holds the line's fields, validated and normalised: tags through
	// memory.NormalizeTags, Vector L2-normalised. ID, Project and the times
	// are empty/zero when the line does not give them. Source is the line's
	// source when it is a known one, else empty.
	Memory memory.Memory
	// VectorDropped says why a vector present in the line was not kept
	// (no model, dims that do not match its length, non-finite values …);
	// the memory is then imported without one and re-embedded later.
	VectorDropped string
}

// wire is the line as JSON; pointers and raw messages tell absent from empty
// and let each field be checked with its own message.
type wire struct {
	ID          *string         `json:"id"`
	Content     *string         `json:"content"`
	ContentHash string          `json:"content_hash"`
	Project     *string         `json:"project"`
	Tags        []string        `json:"tags"`
	Metadata    json.RawMessage `json:"metadata"`
	Source      string          `json:"source"`
	CreatedAt   *string         `json:"created_at"`
	UpdatedAt   *string         `json:"updated_at"`
	AccessedAt  *string         `json:"accessed_at"`
	Author      string          `json:"author"`
	Vector      json.RawMessage `json:"vector"`
	Model       string          `json:"model"`
	Dims        int             `json:"dims"`
	// Versions, pins and use (absent in files of older versions).
	Supersedes   []string `json:"supersedes"`
	SupersededBy string   `json:"superseded_by"`
	Pinned       bool     `json:"pinned"`
	RecallCount  int      `json:"recall_count"`
}

// MaxAuthorLen bounds the author field.
const MaxAuthorLen = 256

// MaxDims bounds a vector's length; no sentence-embedding model comes close.
const MaxDims = 8192

// ParseLine parses and validates one line (without its newline). The error
// names the field at fault; it never panics on any input.
func ParseLine(line []byte, lim Limits) (Record, error) {
	maxBytes := lim.MaxContentBytes
	if maxBytes <= 0 {
		maxBytes = 64 << 10
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Record{}, errors.New("empty line")
	}
	if line[0] != '{' {
		return Record{}, errors.New("not a JSON object (each line must be one memory as {\"content\": …})")
	}
	var w wire
	if err := json.Unmarshal(line, &w); err != nil {
		return Record{}, describeJSONError(err)
	}
	var rec Record
	m := &rec.Memory

	if w.Content == nil {
		return Record{}, errors.New(`missing required field "content"`)
	}
	if strings.TrimSpace(*w.Content) == "" {
		return Record{}, errors.New("content is empty")
	}
	if len(*w.Content) > maxBytes {
		return Record{}, fmt.Errorf("content is %d bytes, over the limit of %d bytes", len(*w.Content), maxBytes)
	}
	m.Content = *w.Content
	m.ContentHash = memory.ContentHash(m.Content)

	if w.ID != nil && *w.ID != "" {
		if !memory.ValidID(*w.ID) {
			return Record{}, fmt.Errorf("id %q is not a memory id (26-character ULID)", truncate(*w.ID, 40))
		}
		m.ID = *w.ID
	}
	if w.Project != nil && *w.Project != "" { // "" = absent, as Write emits it
		if err := memory.ValidateProject(*w.Project); err != nil {
			return Record{}, fmt.Errorf("project: %s", strip(err))
		}
		m.Project = *w.Project
	}
	tags, err := memory.NormalizeTags(w.Tags)
	if err != nil {
		return Record{}, fmt.Errorf("tags: %s", strip(err))
	}
	m.Tags = tags

	if md := bytes.TrimSpace(w.Metadata); len(md) > 0 && !bytes.Equal(md, []byte("null")) {
		if md[0] != '{' {
			return Record{}, errors.New("metadata: want a JSON object")
		}
		if len(md) > maxBytes {
			return Record{}, fmt.Errorf("metadata is %d bytes, over the limit of %d bytes", len(md), maxBytes)
		}
		dec := json.NewDecoder(bytes.NewReader(md))
		dec.UseNumber() // keep big integers exactly as written
		if err := dec.Decode(&m.Metadata); err != nil {
			return Record{}, fmt.Errorf("metadata: %v", err)
		}
	}
	if s := memory.Source(w.Source); s.Valid() {
		m.Source = s
	}
	if len(w.Author) > MaxAuthorLen || !utf8.ValidString(w.Author) {
		return Record{}, fmt.Errorf("author is longer than %d bytes or not UTF-8", MaxAuthorLen)
	}
	m.Author = w.Author

	for _, f := range []struct {
		name string
		in   *string
		out  *time.Time
	}{
		{"created_at", w.CreatedAt, &m.CreatedAt},
		{"updated_at", w.UpdatedAt, &m.UpdatedAt},
		{"accessed_at", w.AccessedAt, &m.AccessedAt},
	} {
		if f.in == nil || *f.in == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *f.in)
		if err != nil {
			return Record{}, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", f.name, truncate(*f.in, 40))
		}
		if t.IsZero() { // Go's zero time, as a zero-valued field is written
			continue
		}
		if t.Year() < 1970 || t.Year() > 9999 {
			return Record{}, fmt.Errorf("%s %q is out of range", f.name, *f.in)
		}
		if !lim.Now.IsZero() && t.After(lim.Now.Add(MaxFutureSkew)) {
			return Record{}, fmt.Errorf("%s %q is in the future (more than %s after now, %s): fix the time or leave the field out",
				f.name, *f.in, humanSkew(MaxFutureSkew), lim.Now.UTC().Format(time.RFC3339))
		}
		*f.out = t.UTC()
	}

	if len(w.Supersedes) > memory.MaxSupersedes {
		return Record{}, fmt.Errorf("supersedes names %d memories, at most %d", len(w.Supersedes), memory.MaxSupersedes)
	}
	for _, id := range w.Supersedes {
		if !memory.ValidID(id) || id == m.ID {
			return Record{}, fmt.Errorf("supersedes: %q is not the id of another memory", truncate(id, 40))
		}
	}
	if len(w.Supersedes) > 0 {
		m.Supersedes = w.Supersedes
	}
	if w.SupersededBy != "" && (!memory.ValidID(w.SupersededBy) || w.SupersededBy == m.ID) {
		return Record{}, fmt.Errorf("superseded_by %q is not the id of another memory", truncate(w.SupersededBy, 40))
	}
	m.SupersededBy = w.SupersededBy
	if w.RecallCount < 0 {
		return Record{}, errors.New("recall_count is negative")
	}
	m.Pinned, m.RecallCount = w.Pinned, w.RecallCount

	rec.VectorDropped = parseVector(&w, m)
	return rec, nil
}

// parseVector keeps the line's vector only when it is self-consistent:
// a model id, dims equal to its length, finite non-zero values. It returns
// why it dropped one ("" when kept or absent).
func parseVector(w *wire, m *memory.Memory) string {
	raw := bytes.TrimSpace(w.Vector)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var vec []float64
	if err := json.Unmarshal(raw, &vec); err != nil {
		return "vector is not an array of numbers"
	}
	switch {
	case len(vec) == 0:
		return ""
	case strings.TrimSpace(w.Model) == "":
		return "vector has no model"
	case w.Dims != len(vec):
		return fmt.Sprintf("vector has %d values but dims says %d", len(vec), w.Dims)
	case len(vec) > MaxDims:
		return fmt.Sprintf("vector has %d values, more than %d", len(vec), MaxDims)
	}
	var norm float64
	for _, x := range vec {
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > math.MaxFloat32 {
			return "vector has a non-finite value"
		}
		norm += x * x
	}
	if norm == 0 || math.IsInf(norm, 0) {
		return "vector is all zeros"
	}
	norm = math.Sqrt(norm)
	if math.Abs(norm-1) > UnitNormTolerance {
		return fmt.Sprintf("vector has length %.4g, not 1: not an embedding as mnemo stores them", norm)
	}
	out := make([]float32, len(vec))
	for i, x := range vec {
		out[i] = float32(x / norm)
	}
	m.Vector, m.Model, m.Dims = out, w.Model, len(out)
	return ""
}

func humanSkew(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return d.String()
}

// describeJSONError turns encoding/json's errors into one short message.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "line"
		}
		return fmt.Errorf("field %s: want %s, got JSON %s", field, jsonKind(te.Type.String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func jsonKind(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "int"):
		return "an integer"
	}
	return goType
}

func strip(err error) string {
	return strings.TrimPrefix(err.Error(), memory.ErrInvalid.Error()+": ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ------------------------------------------------------------------ write

// Write writes m as one line. Without withVector the vector and its stamp
// (model, dims) are left out; import then embeds the memory again.
func Write(w io.Writer, m memory.Memory, withVector bool) error {
	if !withVector || len(m.Vector) == 0 {
		m.Vector, m.Model, m.Dims = nil, "", 0
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil { // Encode appends the newline
		return fmt.Errorf("encode memory %s: %w", m.ID, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ------------------------------------------------------------------- read

// ErrLineTooLong marks a line longer than the reader's limit; the line is
// skipped and reading continues with the next one.
var ErrLineTooLong = errors.New("line too long")

// Reader yields the lines of an import file with their 1-based numbers,
// skipping blank lines, a leading UTF-8 BOM and trailing CRs.
type Reader struct {
	br   *bufio.Reader
	line int
	max  int
}

// NewReader reads lines of at most maxLineBytes (a longer line yields
// ErrLineTooLong and is skipped).
func NewReader(r io.Reader, maxLineBytes int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: maxLineBytes}
}

// MaxLineBytes is a generous line limit for content limit maxContent: JSON
// may escape every byte as \u00XX, plus metadata of the same bound and a vector.
func MaxLineBytes(maxContent int) int { return 14*maxContent + 1<<20 }

// Next returns the next non-blank line and its number. At the end it returns
// io.EOF; an over-long line returns its number and ErrLineTooLong.
func (r *Reader) Next() (int, []byte, error) {
	for {
		var buf []byte
		tooLong := false
		for {
			chunk, err := r.br.ReadSlice('\n')
			if !tooLong {
				if len(buf)+len(chunk) > r.max+2 { // +2 for "\r\n"
					tooLong, buf = true, nil
				} else {
					buf = append(buf, chunk...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && err != io.EOF {
				return r.line + 1, nil, err
			}
			if err == io.EOF && len(chunk) == 0 && len(buf) == 0 && !tooLong {
				return 0, nil, io.EOF
			}
			break
		}
		r.line++
		if tooLong {
			return r.line, nil, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, r.max)
		}
		if r.line == 1 {
			buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf"))
		}
		buf = bytes.TrimRight(buf, "\r\n")
		if len(bytes.TrimSpace(buf)) == 0 {
			continue
		}
		return r.line, buf, nil
	}
}
