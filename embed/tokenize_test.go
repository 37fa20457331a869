package embed

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/go-huggingface/tokenizers/api"
	"github.com/gomlx/go-huggingface/tokenizers/hftokenizer"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// goTokenizer is the model's tokenizer as loadModel sets it up, without
// the model.
func goTokenizer(t testing.TB, model string) (api.Tokenizer, string) {
	t.Helper()
	path := filepath.Join(testmodels.Dir(t, model), "tokenizer.json")
	tk, err := hftokenizer.NewFromFile(nil, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.With(api.EncodeOptions{AddSpecialTokens: true, IncludeSpecialTokensMask: true}); err != nil {
		t.Fatal(err)
	}
	return tk, path
}

// awkwardTexts are texts whose pieces could tokenise differently from the
// whole if a cut were in the wrong place.
func awkwardTexts() []string {
	long := strings.Repeat("The committee reviewed every clause, again! ", 40)
	return []string{
		"", " ", "   ", "\t\n\r", "hello", "hello world", " leading and trailing ",
		"Crème brûlée, naïve café — Ångström déjà vu",
		"e\u0301 a\u0301\u0300 \u0301leading combining mark",
		"日本語のテキストには空白がありません中文也没有空格한국어",
		"tabs\tnew\nlines\r\nand\u00a0non-breaking\u2003em\u3000ideographic spaces",
		"control\u0000chars\u0007and\ufffdreplacement\u200bzero-width",
		"[CLS] literal [SEP] special [MASK] tokens[PAD]glued[UNK]",
		"punctuation!!!...;;;(((brackets)))---___***",
		strings.Repeat("x", 101) + " " + strings.Repeat("y", 99) + " " + strings.Repeat("z", 100),
		"emoji 🙂🙃 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
		"UPPER lower MiXeD 12345 3.14159 1,000,000 user@example.com https://example.com/a?b=c",
		long,
		strings.Repeat("a", pieceBytes-1) + " b",
		strings.Repeat("a", pieceBytes) + " b",
		strings.Repeat("a", pieceBytes+1) + " b",
		strings.Repeat("ab ", pieceBytes),
		strings.Repeat("日本", 400) + " tail",
		strings.Repeat("word ", 600),
		strings.Repeat("\u200b ", 600) + strings.Repeat("word ", 100),
	}
}

// randomText mixes ASCII words, whitespace of every kind, punctuation,
// accents, CJK and added-token names, so cuts fall everywhere.
func randomText(r *rand.Rand) string {
	parts := []string{
		"the", "Quick", "brown", "FOX", "jumps", "über", "naïve", "日本", "語", "한국",
		"[CLS]", "[SEP]", "[", "]", ",", ".", "!", "?", "'", "\"", "-", "e\u0301", "\u0301",
		" ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u200b", "\u0000",
		"antidisestablishmentarianism", "1234", "x", "🙂", strings.Repeat("q", 120),
	}
	var b strings.Builder
	for n := r.IntN(400); n > 0; n-- {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// TestPiecesMatchWholeText: for both test models' tokenizers, tokenising in
// pieces gives exactly the ids of tokenising the whole text, and the
// truncated ids tokenize would give the old way.
func TestPiecesMatchWholeText(t *testing.T) {
	for _, model := range []string{testmodels.MiniLM, testmodels.BertTiny} {
		t.Run(model, func(t *testing.T) {
			tk, path := goTokenizer(t, model)
			p := newPieces(tk, path)
			if p == nil {
				t.Fatal("a BERT WordPiece tokenizer is not tokenised in pieces")
			}
			texts := awkwardTexts()
			r := rand.New(rand.NewPCG(1, 2))
			for range 400 {
				texts = append(texts, randomText(r))
			}
			for _, text := range texts {
				checkPieces(t, tk, p, text)
			}
		})
	}
}

func checkPieces(t testing.TB, tk api.Tokenizer, p *pieces, text string) {
	t.Helper()
	enc := tk.EncodeWithAnnotations(text)
	if got := p.encode(text, -1); !slices.Equal(got, enc.IDs) {
		t.Fatalf("%.60q…: pieces give\n %v\nwhole text gives\n %v", text, got, enc.IDs)
	}
	for _, maxLen := range []int{2, 3, 16, 256} {
		want := truncate(enc.IDs, enc.SpecialTokensMask, maxLen)
		if got := p.encode(text, maxLen); !slices.Equal(got, want) {
			t.Fatalf("%.60q… to %d tokens: pieces give\n %v\nwhole text truncated gives\n %v", text, maxLen, got, want)
		}
	}
}

func FuzzPieces(f *testing.F) {
	for _, s := range awkwardTexts() {
		f.Add(s)
	}
	tk, path := goTokenizer(f, testmodels.MiniLM)
	p := newPieces(tk, path)
	if p == nil {
		f.Fatal("no pieces for MiniLM's tokenizer")
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			t.Skip() // the whole-text reference is quadratic; cuts are found in short texts
		}
		checkPieces(t, tk, p, text)
	})
}

// TestPiecesOnlyForBertPipelines: a tokenizer.json with any other
// normalizer, pre-tokenizer, model or post-processor, or an added token
// with a space in it, is tokenised whole.
func TestPiecesOnlyForBertPipelines(t *testing.T) {
	tk, path := goTokenizer(t, testmodels.BertTiny)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, from, to string }{
		{"as is", "", ""},
		{"pre-tokenizer", `"type": "BertPreTokenizer"`, `"type": "Whitespace"`},
		{"normalizer", `"type": "BertNormalizer"`, `"type": "NFKC"`},
		{"model", "\"model\": {\n    \"type\": \"WordPiece\"", "\"model\": {\n    \"type\": \"BPE\""},
		{"post-processor", `"type": "TemplateProcessing"`, `"type": "RobertaProcessing"`},
		{"added token", `"content": "[MASK]"`, `"content": "[MA SK]"`},
	} {
		text := string(orig)
		if c.from != "" {
			if !strings.Contains(text, c.from) {
				t.Fatalf("%s: %s not in tokenizer.json", c.name, c.from)
			}
			text = strings.Replace(text, c.from, c.to, 1)
		}
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := newPieces(tk, p) != nil; got != (c.from == "") {
			t.Errorf("%s: pieces = %v", c.name, got)
		}
	}
	if newPieces(tk, filepath.Join(dir, "missing.json")) != nil {
		t.Error("pieces without a tokenizer.json")
	}
}

func TestCutPiece(t *testing.T) {
	for _, c := range []struct {
		s           string
		n           int
		piece, rest string
	}{
		{"abc", 5, "abc", ""},
		{"ab cd ef", 5, "ab", "cd ef"},
		{"ab cd ef", 6, "ab cd", "ef"},
		{"abcdef gh", 3, "abcdef", "gh"},
		{"abcdef", 3, "abcdef", ""},
		{"ab\tc\nd", 5, "ab\tc", "d"},
		{"日本語 x", 4, "日本語", "x"},
	} {
		if p, r := cutPiece(c.s, c.n); p != c.piece || r != c.rest {
			t.Errorf("cutPiece(%q, %d) = %q, %q; want %q, %q", c.s, c.n, p, r, c.piece, c.rest)
		}
	}
}

// TestEngineTokenizesInPieces: the engine's load sets pieces up for a
// BERT model, and Tokenize and CountTokens agree with the whole text.
func TestEngineTokenizesInPieces(t *testing.T) {
	e := loadTest(t, Options{Model: testmodels.Dir(t, testmodels.BertTiny), NoWarmup: true})
	rt, err := e.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pieced := rt.pieces != nil
	e.mu.RUnlock()
	if !pieced {
		t.Fatal("the engine tokenises a BERT model's texts whole")
	}
	tk, _ := goTokenizer(t, testmodels.BertTiny)
	for _, text := range awkwardTexts() {
		enc := tk.EncodeWithAnnotations(text)
		ids, err := e.Tokenize(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		if want := truncate(enc.IDs, enc.SpecialTokensMask, e.Info().MaxTokens); !slices.Equal(ids, want) {
			t.Fatalf("%.40q…: Tokenize = %v, want %v", text, ids, want)
		}
		if n, err := e.CountTokens(text); err != nil || n != len(enc.IDs) {
			t.Fatalf("%.40q…: CountTokens = %d, %v; want %d", text, n, err, len(enc.IDs))
		}
	}
}

// BenchmarkTokenize is a 256-token document, whole and in pieces.
func BenchmarkTokenize(b *testing.B) {
	tk, path := goTokenizer(b, testmodels.MiniLM)
	p := newPieces(tk, path)
	text := strings.Repeat("The committee reviewed every clause of the agreement, again. ", 30)
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			tk.EncodeWithAnnotations(text)
		}
	})
	b.Run("pieces", func(b *testing.B) {
		for b.Loop() {
			p.encode(text, -1)
		}
	})
	b.Run("pieces-truncated", func(b *testing.B) {
		for b.Loop() {
			p.encode(text, 256)
		}
	})
}
