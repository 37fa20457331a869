package embed

import (
	"encoding/json"
	"os"
	"strings"
	"unicode"

	"github.com/gomlx/go-huggingface/tokenizers/api"
)

// Tokenising BERT-style text in pieces.
//
// go-huggingface's Go tokenizer (v0.3.5) takes time quadratic in the
// length of the text it is given: its BERT pre-tokenizer finds each
// character's byte offset by encoding every character before it again
// (bertPreTokenizeWithOffsets). A 256-token document took 8–10 ms; eight of
// them were ~65 ms of the 250 ms an 8 × 256 call took, on one core before
// any forward pass could start.
//
// For BERT's pipeline the ids of a text are the ids of its whitespace-
// separated parts, one after another: the normalizer (BertNormalizer)
// changes one character at a time, the pre-tokenizer (BertPreTokenizer)
// ends a word at every whitespace character and drops it, WordPiece works
// word by word, and no added token contains whitespace, so none can be
// matched across a cut. Such a tokenizer is given the text about
// pieceBytes at a time, cut at ASCII whitespace, and the special tokens its
// template puts around a text ([CLS] … [SEP]) go around the whole. A text
// longer than the model takes stops being tokenised once enough tokens
// are in, so a long memory costs what its first MaxTokens tokens cost.
//
// Any other pipeline (byte-level BPE, say, where a space belongs to the
// next word's token) is tokenised whole, as before.

// pieceBytes is about how much text the tokenizer is given at a time.
// BenchmarkTokenize, a 256-token document (~330 before truncation):
// whole 9.8 ms; pieces of 256 bytes 1.3 ms, 128 0.70, 32 0.38, one word
// each 0.44 (the per-call cost). What is left is the library's cost per
// character.
const pieceBytes = 32

// pieces tokenises a text piece by piece (see above); nil for a tokenizer
// whose pipeline is not known to allow it.
type pieces struct {
	tk          api.Tokenizer
	lead, trail []int // the special tokens the template puts before and after a text
}

// tokenizerFile is the part of tokenizer.json that decides whether pieces
// can be used.
type tokenizerFile struct {
	Normalizer *struct {
		Type string `json:"type"`
	} `json:"normalizer"`
	PreTokenizer *struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	Model struct {
		Type string `json:"type"`
	} `json:"model"`
	PostProcessor *struct {
		Type string `json:"type"`
	} `json:"post_processor"`
	AddedTokens []struct {
		Content string `json:"content"`
	} `json:"added_tokens"`
}

// newPieces returns the piecewise tokeniser for tk, configured from the
// tokenizer.json at path, or nil when tk must be given whole texts. tk
// must already be set to add special tokens and report their mask.
func newPieces(tk api.Tokenizer, path string) *pieces {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var f tokenizerFile
	if json.Unmarshal(data, &f) != nil || !bertPipeline(f) {
		return nil
	}
	if c, ok := tk.(interface{ Config() *api.Config }); ok && c.Config() != nil &&
		(c.Config().AddBosToken || c.Config().AddEosToken) {
		return nil // tokens added unless already there: not a fixed frame
	}
	// The frame a text gets, read off a one-word text.
	enc := tk.EncodeWithAnnotations("a")
	ids, special := enc.IDs, enc.SpecialTokensMask
	if len(special) != len(ids) {
		return nil
	}
	content := -1
	for i, s := range special {
		if s == 0 {
			if content >= 0 {
				return nil
			}
			content = i
		}
	}
	if content < 0 {
		return nil
	}
	return &pieces{
		tk:    tk,
		lead:  append([]int(nil), ids[:content]...),
		trail: append([]int(nil), ids[content+1:]...),
	}
}

// bertPipeline reports whether f is BERT's pipeline, the one cutting at
// whitespace leaves unchanged.
func bertPipeline(f tokenizerFile) bool {
	if f.Normalizer != nil && f.Normalizer.Type != "BertNormalizer" {
		return false
	}
	if f.PreTokenizer == nil || f.PreTokenizer.Type != "BertPreTokenizer" || f.Model.Type != "WordPiece" {
		return false
	}
	if f.PostProcessor != nil && f.PostProcessor.Type != "TemplateProcessing" && f.PostProcessor.Type != "BertProcessing" {
		return false
	}
	for _, t := range f.AddedTokens {
		if t.Content == "" || strings.ContainsFunc(t.Content, unicode.IsSpace) {
			return false
		}
	}
	return true
}

// encode returns text's ids framed by the special tokens, with at most
// maxLen ids in all (the first content tokens kept), or all of them when
// maxLen < 0: what tokenising the whole text and truncating as truncate
// does gives.
func (p *pieces) encode(text string, maxLen int) []int {
	budget := -1 // content tokens wanted
	if maxLen >= 0 {
		budget = maxLen - len(p.lead) - len(p.trail)
	}
	ids := append(make([]int, 0, min(len(text)/3+8, 1024)), p.lead...)
	for rest := text; rest != "" && (budget < 0 || len(ids)-len(p.lead) < budget); {
		var piece string
		piece, rest = cutPiece(rest, pieceBytes)
		if piece == "" {
			continue
		}
		enc := p.tk.EncodeWithAnnotations(piece)
		for i, id := range enc.IDs {
			if enc.SpecialTokensMask[i] == 0 {
				ids = append(ids, id)
			}
		}
	}
	if budget >= 0 && len(ids)-len(p.lead) > budget {
		ids = ids[:len(p.lead)+budget]
	}
	return append(ids, p.trail...)
}

// cutPiece splits s at the last ASCII whitespace byte within its first n
// bytes (the first one after them if there is none), dropping that byte.
// An ASCII byte is never part of a longer UTF-8 sequence, so both halves
// stay valid text.
func cutPiece(s string, n int) (piece, rest string) {
	if len(s) <= n {
		return s, ""
	}
	i := strings.LastIndexAny(s[:n], " \t\n\r")
	if i < 0 {
		if i = strings.IndexAny(s[n:], " \t\n\r"); i < 0 {
			return s, ""
		}
		i += n
	}
	return s[:i], s[i+1:]
}

// encode tokenises text with special tokens and no length limit.
func (rt *loaded) encode(text string) []int {
	if rt.pieces != nil {
		return rt.pieces.encode(text, -1)
	}
	return rt.tk.EncodeWithAnnotations(text).IDs
}

// tokenize tokenises text and truncates it to MaxTokens the way
// sentence-transformers does: the leading special tokens ([CLS]), then the
// first word pieces, then the trailing special tokens ([SEP]).
//
// Without pieces, a long text is first cut after MaxTokens+16
// whitespace-separated words: every word yields at least one token, so the
// words past the cut can only be truncated away. If the cut text somehow
// yields too few tokens (words that normalise to nothing), the whole text
// is tokenised after all, so the result is always the same.
func (rt *loaded) tokenize(text string) []int {
	if rt.pieces != nil && rt.info.MaxTokens >= len(rt.pieces.lead)+len(rt.pieces.trail) {
		return rt.pieces.encode(text, rt.info.MaxTokens)
	}
	if cut := cutWords(text, rt.info.MaxTokens+16); len(cut) < len(text) {
		enc := rt.tk.EncodeWithAnnotations(cut)
		if len(enc.IDs) > rt.info.MaxTokens {
			return truncate(enc.IDs, enc.SpecialTokensMask, rt.info.MaxTokens)
		}
	}
	enc := rt.tk.EncodeWithAnnotations(text)
	return truncate(enc.IDs, enc.SpecialTokensMask, rt.info.MaxTokens)
}

// cutWords returns s up to the whitespace that ends its n-th word, or s
// if it has no more than n words.
func cutWords(s string, n int) string {
	words, in := 0, false
	for i, r := range s {
		if unicode.IsSpace(r) {
			if in {
				if words++; words >= n {
					return s[:i]
				}
			}
			in = false
			continue
		}
		in = true
	}
	return s
}

func truncate(ids, special []int, maxLen int) []int {
	if len(ids) <= maxLen {
		return ids
	}
	lead, trail := 1, 1 // [CLS] … [SEP] when the mask is missing
	if len(special) == len(ids) {
		lead, trail = 0, 0
		for lead < len(ids) && special[lead] != 0 {
			lead++
		}
		for trail < len(ids)-lead && special[len(ids)-1-trail] != 0 {
			trail++
		}
	}
	keep := maxLen - lead - trail
	if keep < 0 {
		return ids[:maxLen]
	}
	out := make([]int, 0, maxLen)
	out = append(out, ids[:lead+keep]...)
	return append(out, ids[len(ids)-trail:]...)
}
