package embed

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// linkModel builds a model folder in a temp dir out of symlinks to a shared
// test model's files (never copies of them in the repo), minus skip, so each
// test can break one thing.
func linkModel(t *testing.T, src, name string, skip ...string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		for _, s := range skip {
			if rel == s {
				return nil
			}
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return os.Symlink(p, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func loadErr(t *testing.T, model string) error {
	t.Helper()
	e, err := Load(context.Background(), Options{Model: model, NoWarmup: true})
	if err == nil {
		e.Close()
		return nil
	}
	return err
}

func TestBrokenModelFolders(t *testing.T) {
	tiny := testmodels.Dir(t, testmodels.BertTiny)
	minilm := filepath.Join(testmodels.Root(), testmodels.MiniLM)
	onnxBytes, err := os.ReadFile(filepath.Join(tiny, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		build func(t *testing.T) string
		want  []string // all must appear in the error
	}{
		{"missing folder", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") + "/" },
			[]string{"does not exist"}},
		{"missing tokenizer.json", func(t *testing.T) string { return linkModel(t, tiny, "m", "tokenizer.json") },
			[]string{"no tokenizer.json"}},
		{"no onnx", func(t *testing.T) string { return linkModel(t, tiny, "m", "model.onnx") },
			[]string{"no .onnx file"}},
		{"several onnx", func(t *testing.T) string {
			d := linkModel(t, tiny, "m")
			must(t, os.Mkdir(filepath.Join(d, "onnx"), 0o755))
			must(t, os.Symlink(filepath.Join(tiny, "model.onnx"), filepath.Join(d, "onnx", "model_quantized.onnx")))
			return d
		}, []string{"several .onnx files", "model.onnx", "onnx/model_quantized.onnx", "MNEMO_MODEL"}},
		{"unsupported outputs", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "model.onnx")
			// Same-length rename keeps the protobuf valid: the graph now
			// outputs "xxxx_hidden_state", which mnemo does not know.
			renamed := bytes.ReplaceAll(onnxBytes, []byte("last_hidden_state"), []byte("xxxx_hidden_state"))
			must(t, os.WriteFile(filepath.Join(d, "model.onnx"), renamed, 0o644))
			return d
		}, []string{"xxxx_hidden_state", "last_hidden_state", "sentence_embedding"}},
		{"wrong dimensions", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "config.json")
			cfg, err := os.ReadFile(filepath.Join(tiny, "config.json"))
			must(t, err)
			cfg = bytes.Replace(cfg, []byte(`"hidden_size": 128`), []byte(`"hidden_size": 384`), 1)
			must(t, os.WriteFile(filepath.Join(d, "config.json"), cfg, 0o644))
			return d
		}, []string{"128-dimensional", "hidden_size 384"}},
		{"pooling dimension mismatch", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "1_Pooling/config.json")
			if _, err := os.Stat(minilm); err != nil {
				t.Skip("needs " + minilm)
			}
			must(t, os.Symlink(filepath.Join(minilm, "1_Pooling", "config.json"), filepath.Join(d, "1_Pooling", "config.json")))
			return d
		}, []string{"word_embedding_dimension 384"}},
		{"truncated onnx", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "model.onnx")
			must(t, os.WriteFile(filepath.Join(d, "model.onnx"), onnxBytes[:len(onnxBytes)/3], 0o644))
			return d
		}, []string{"cannot load ONNX model", "model.onnx"}},
		{"not an onnx file", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "model.onnx")
			must(t, os.WriteFile(filepath.Join(d, "model.onnx"), []byte("<html>rate limited</html>"), 0o644))
			return d
		}, []string{"cannot load ONNX model"}},
		{"unreadable onnx", func(t *testing.T) string {
			if os.Geteuid() == 0 {
				t.Skip("root reads everything")
			}
			d := linkModel(t, tiny, "m", "model.onnx")
			must(t, os.WriteFile(filepath.Join(d, "model.onnx"), onnxBytes[:100], 0o000))
			return d
		}, []string{"model.onnx"}},
		{"unsupported pooling", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "1_Pooling/config.json")
			must(t, os.WriteFile(filepath.Join(d, "1_Pooling", "config.json"),
				[]byte(`{"word_embedding_dimension":128,"pooling_mode_weightedmean_tokens":true}`), 0o644))
			return d
		}, []string{"weightedmean"}},
		{"broken json config", func(t *testing.T) string {
			d := linkModel(t, tiny, "m", "sentence_bert_config.json")
			must(t, os.WriteFile(filepath.Join(d, "sentence_bert_config.json"), []byte(`{"max_seq_length": 2`), 0o644))
			return d
		}, []string{"sentence_bert_config.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := loadErr(t, c.build(t))
			if err == nil {
				t.Fatal("loaded a broken model folder")
			}
			t.Log(err)
			if !errors.Is(err, ErrInvalidModel) {
				t.Errorf("error does not wrap ErrInvalidModel: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPickOnnxByPath(t *testing.T) {
	tiny := testmodels.Dir(t, testmodels.BertTiny)
	d := linkModel(t, tiny, "m")
	must(t, os.Mkdir(filepath.Join(d, "onnx"), 0o755))
	must(t, os.Symlink(filepath.Join(tiny, "model.onnx"), filepath.Join(d, "onnx", "model.onnx")))
	must(t, os.Remove(filepath.Join(d, "model.onnx")))
	must(t, os.Symlink(filepath.Join(tiny, "model.onnx"), filepath.Join(d, "onnx", "model_O1.onnx")))
	// Ambiguous as a folder; fine when MNEMO_MODEL names the file, in the
	// Hugging Face layout (onnx/ beside tokenizer.json).
	if err := loadErr(t, d); err == nil || !strings.Contains(err.Error(), "several") {
		t.Fatalf("folder with two ONNX files: %v", err)
	}
	e := loadTest(t, Options{Model: filepath.Join(d, "onnx", "model_O1.onnx"), NoWarmup: true})
	if info := e.Info(); info.OnnxFile != "onnx/model_O1.onnx" || info.Path != d || info.ModelID != "m" {
		t.Fatalf("info %+v", info)
	}
}

func TestPrefixes(t *testing.T) {
	tiny := testmodels.Dir(t, testmodels.BertTiny)
	ctx := context.Background()

	// From config_sentence_transformers.json.
	d := linkModel(t, tiny, "custom")
	must(t, os.WriteFile(filepath.Join(d, "config_sentence_transformers.json"),
		[]byte(`{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": null}`), 0o644))
	e := loadTest(t, Options{Model: d, CacheEntries: -1})
	if info := e.Info(); info.QueryPrefix != "query: " || info.DocumentPrefix != "passage: " {
		t.Fatalf("prefixes %q %q", info.QueryPrefix, info.DocumentPrefix)
	}
	q, err := e.EmbedQuery(ctx, "where do cats sleep")
	must(t, err)
	docs, err := e.EmbedDocuments(ctx, []string{"cats sleep on the mat"})
	must(t, err)
	raw, err := e.Embed(ctx, []string{"query: where do cats sleep", "passage: cats sleep on the mat", "where do cats sleep"})
	must(t, err)
	checkClose(t, "query", q, raw[0])
	checkClose(t, "document", docs[0], raw[1])
	if maxAbsDiff(q, raw[2]) < 1e-3 {
		t.Fatal("the prefix did not change the query vector")
	}

	// By family, from the model id (here the folder name).
	e5 := loadTest(t, Options{Model: linkModel(t, tiny, "multilingual-e5-small"), NoWarmup: true})
	if info := e5.Info(); info.QueryPrefix != "query: " || info.DocumentPrefix != "passage: " {
		t.Fatalf("e5 prefixes %q %q", info.QueryPrefix, info.DocumentPrefix)
	}
	// MiniLM-style: none.
	plain := loadTest(t, Options{Model: tiny, NoWarmup: true})
	if info := plain.Info(); info.QueryPrefix != "" || info.DocumentPrefix != "" {
		t.Fatalf("bert-tiny prefixes %q %q", info.QueryPrefix, info.DocumentPrefix)
	}
}

func TestFamilyPrefixes(t *testing.T) {
	for _, c := range []struct{ id, q, d string }{
		{"sentence-transformers/all-MiniLM-L6-v2", "", ""},
		{"intfloat/e5-small-v2", "query: ", "passage: "},
		{"intfloat/multilingual-e5-large", "query: ", "passage: "},
		{"intfloat/e5-mistral-7b-instruct", "", ""},
		{"BAAI/bge-small-en-v1.5", "Represent this sentence for searching relevant passages: ", ""},
		{"BAAI/bge-m3", "", ""},
		{"nomic-ai/nomic-embed-text-v1.5", "search_query: ", "search_document: "},
		{"someone/gte5-base", "", ""},
	} {
		q, d := familyPrefixes(c.id)
		if q != c.q || d != c.d {
			t.Errorf("%s: %q %q, want %q %q", c.id, q, d, c.q, c.d)
		}
	}
}

func TestTruncate(t *testing.T) {
	ids := []int{101, 1, 2, 3, 4, 5, 102}
	mask := []int{1, 0, 0, 0, 0, 0, 1}
	if got := truncate(ids, mask, 4); !equalInts(got, []int{101, 1, 2, 102}) {
		t.Errorf("truncate = %v", got)
	}
	if got := truncate(ids, mask, 7); !equalInts(got, ids) {
		t.Errorf("no-op truncate = %v", got)
	}
	// Two leading specials (e.g. a prompt token) are kept too.
	if got := truncate([]int{0, 9, 1, 2, 3, 2}, []int{1, 1, 0, 0, 0, 1}, 4); !equalInts(got, []int{0, 9, 1, 2}) {
		t.Errorf("truncate with two leading specials = %v", got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
