package hooks

import (
	"strings"
	"unicode"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// DefaultMinSimilarity is the cosine similarity a memory needs to be injected
// into a prompt when a semantic ranking was used. Hybrid RRF scores only say
// how a memory ranks, not whether it is related at all (the best of ten
// unrelated memories still gets 1/61), so the gate uses the cosine itself.
// With all-MiniLM-L6-v2 paraphrases score about 0.55–0.85 and unrelated
// sentences below 0.25; 0.40 keeps topical matches and drops noise.
const DefaultMinSimilarity = 0.40

// Relevance decides which recall hits are worth injecting.
type Relevance struct {
	// MinSimilarity gates hits that the semantic ranking scored.
	MinSimilarity float64
}

// Keep reports whether hit is related enough to prompt.
//
//   - A hit with a cosine similarity (semantic or hybrid recall that ranked
//     it semantically) is kept when the similarity ≥ MinSimilarity.
//   - A hit the semantic ranking did not score (keyword-only recall, or a
//     memory stored before it had a vector) must be a bm25 match
//     (KeywordRank > 0) that shares enough content words with the prompt:
//     one when the prompt has at most two content words, else two. bm25
//     alone matches on any shared word, and its scale depends on the corpus,
//     so it cannot be a threshold by itself.
func (r Relevance) Keep(prompt string, h memory.Hit, semantic bool) bool {
	if semantic && h.SemanticRank > 0 {
		sim := h.Similarity
		return sim >= r.MinSimilarity
	}
	if h.KeywordRank <= 0 {
		return false
	}
	terms := contentTerms(prompt)
	if len(terms) == 0 {
		return false
	}
	need := 2
	if len(terms) <= 2 {
		need = 1
	}
	return sharedTerms(terms, contentTerms(h.Memory.Content)) >= need
}

// contentTerms returns the distinct, stemmed content words of s: letters
// and digits, at least three characters, not a stop word.
func contentTerms(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) < 3 || memory.IsStopWord(w) {
			continue
		}
		w = stem(w)
		if !seen[w] && !memory.IsStopWord(w) {
			seen[w] = true
			out = append(out, w)
			if len(out) == 256 { // a huge prompt: enough to judge
				break
			}
		}
	}
	return out
}

// sharedTerms counts prompt terms that occur in the memory's terms; a term
// also matches a longer word it is a prefix of ("postgres"/"postgresql").
func sharedTerms(prompt, mem []string) int {
	n := 0
	for _, p := range prompt {
		for _, m := range mem {
			if p == m || (len(p) >= 5 && len(m) >= 5 && (strings.HasPrefix(m, p) || strings.HasPrefix(p, m))) {
				n++
				break
			}
		}
	}
	return n
}

// stem strips the commonest English inflections so "uses"/"use" and
// "deployed"/"deploy" compare equal. Crude on purpose: it only has to agree
// with itself.
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			return strings.TrimSuffix(w, suf)
		}
	}
	return w
}
