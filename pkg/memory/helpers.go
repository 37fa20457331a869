package memory

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/oklog/ulid/v2"
)

var (
	idMu      sync.Mutex
	idEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a new ULID: unique across processes (80 random bits),
// lexically sortable by creation time, and monotonic within this process.
func NewID(t time.Time) string {
	idMu.Lock()
	defer idMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), idEntropy).String()
}

// ValidID reports whether s is a well-formed memory id.
//
// Crockford base32 is case-insensitive, so a lowercase id is valid;
// NormalizeID gives the stored (uppercase) form.
func ValidID(s string) bool {
	_, err := ulid.ParseStrict(s)
	return err == nil
}

// NormalizeID is id as stored: trimmed and uppercase ("01jd…" → "01JD…"),
// so that an id typed or copied in lowercase finds its memory.
func NormalizeID(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

// ContentHash is the hex sha256 of content, used for exact-duplicate detection.
func ContentHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// MaxTagLen and MaxTags bound tags so a confused caller cannot bloat the store.
const (
	MaxTagLen = 64
	MaxTags   = 32
)

// NormalizeTags trims, lower-cases, de-duplicates and sorts tags, and rejects
// empty, over-long or control-character tags with an error naming the tag.
func NormalizeTags(tags []string) ([]string, error) {
	seen := make(map[string]bool, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		n := strings.ToLower(strings.TrimSpace(t))
		if n == "" {
			return nil, fmt.Errorf("%w: empty tag", ErrInvalid)
		}
		if len(n) > MaxTagLen {
			return nil, fmt.Errorf("%w: tag %.20q… is longer than %d bytes", ErrInvalid, n, MaxTagLen)
		}
		if strings.IndexFunc(n, func(r rune) bool { return unicode.IsControl(r) || r == ',' }) >= 0 {
			return nil, fmt.Errorf("%w: tag %q contains a comma or control character", ErrInvalid, n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) > MaxTags {
		return nil, fmt.Errorf("%w: %d tags, at most %d allowed", ErrInvalid, len(out), MaxTags)
	}
	sort.Strings(out)
	return out, nil
}

// MaxProjectLen bounds project names.
const MaxProjectLen = 256

// ValidateProject checks a project name: non-empty, bounded, printable.
func ValidateProject(p string) error {
	if strings.TrimSpace(p) == "" {
		return fmt.Errorf("%w: empty project name", ErrInvalid)
	}
	if len(p) > MaxProjectLen {
		return fmt.Errorf("%w: project name longer than %d bytes", ErrInvalid, MaxProjectLen)
	}
	if strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: project name contains a control character", ErrInvalid)
	}
	if p == "*" {
		return fmt.Errorf("%w: %q means all projects and cannot name one", ErrInvalid, p)
	}
	return nil
}

// Ranked is one entry of a single ranking passed to Fuse.
type Ranked struct {
	ID    string
	Score float64 // the ranking's own score (cosine, -bm25), kept for display
}

// Fused is one entry of a fused ranking.
type Fused struct {
	ID           string
	Score        float64 // Σ 1/(RRFConstant + rank)
	KeywordRank  int     // 1-based, 0 if absent
	SemanticRank int     // 1-based, 0 if absent
	Similarity   float64 // cosine from the semantic ranking, 0 if absent
}

// Fuse combines a keyword and a semantic ranking (each best first) by
// reciprocal rank fusion. Ties are broken by the better single rank, then by
// id descending (newer first), so the order is deterministic.
func Fuse(keyword, semantic []Ranked) []Fused {
	byID := make(map[string]*Fused, len(keyword)+len(semantic))
	get := func(id string) *Fused {
		f := byID[id]
		if f == nil {
			f = &Fused{ID: id}
			byID[id] = f
		}
		return f
	}
	for i, r := range keyword {
		f := get(r.ID)
		f.KeywordRank = i + 1
		f.Score += 1 / float64(RRFConstant+i+1)
	}
	for i, r := range semantic {
		f := get(r.ID)
		f.SemanticRank = i + 1
		f.Similarity = r.Score
		f.Score += 1 / float64(RRFConstant+i+1)
	}
	out := make([]Fused, 0, len(byID))
	for _, f := range byID {
		out = append(out, *f)
	}
	best := func(f Fused) int {
		b := 1 << 30
		if f.KeywordRank > 0 {
			b = f.KeywordRank
		}
		if f.SemanticRank > 0 && f.SemanticRank < b {
			b = f.SemanticRank
		}
		return b
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if bi, bj := best(out[i]), best(out[j]); bi != bj {
			return bi < bj
		}
		return out[i].ID > out[j].ID
	})
	return out
}
