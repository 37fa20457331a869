package embed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mnemo-mcp/mnemo/embed/hub"
)

// ErrInvalidModel is wrapped by every error that says a model folder is
// unusable (missing or ambiguous files, unsupported outputs, mismatched
// dimensions, unreadable ONNX), so callers can tell "fix your model" apart
// from "try again later". It is hub.ErrInvalidModel: the download says so
// too.
var ErrInvalidModel = hub.ErrInvalidModel

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidModel, fmt.Sprintf(format, a...))
}

// defaultMaxSeqLength is sentence-transformers' limit for MiniLM-style models
// when sentence_bert_config.json does not say.
const defaultMaxSeqLength = 256

// modelSpec is what mnemo reads from a model folder before loading it.
type modelSpec struct {
	Root       string // folder with tokenizer.json and the configs
	OnnxRel    string // the ONNX file, relative to Root (e.g. "onnx/model.onnx")
	MaxSeqLen  int    // truncation limit, special tokens included
	HiddenSize int    // config.json hidden_size; 0 if absent
	MaxPos     int    // config.json max_position_embeddings; 0 if absent
	Pooling    string // mean, cls, max, mean_sqrt_len, lasttoken
	PoolingDim int    // 1_Pooling word_embedding_dimension; 0 if absent
	QueryPrefix,
	DocumentPrefix string
	HasPromptCfg bool // prefixes came from config_sentence_transformers.json
}

// inspectModel checks a model folder and reads its configuration. onnxFile,
// when set, picks the ONNX file (relative to dir or absolute) among several.
func inspectModel(dir, onnxFile string) (*modelSpec, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, invalid("model folder %s does not exist", dir)
		}
		return nil, invalid("model folder %s: %v", dir, err)
	}
	if !st.IsDir() {
		return nil, invalid("model path %s is not a folder (want a folder with an .onnx file and tokenizer.json)", dir)
	}
	s := &modelSpec{Root: dir, MaxSeqLen: defaultMaxSeqLength, Pooling: "mean"}

	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil, invalid("model folder %s has no tokenizer.json: mnemo needs the Hugging Face fast-tokenizer file to tokenise text", dir)
	}

	if s.OnnxRel, err = pickOnnx(dir, onnxFile); err != nil {
		return nil, err
	}
	// An empty file (interrupted copy or download) makes the ONNX parser
	// panic instead of failing: refuse it here with a message that says so.
	if onnx := filepath.Join(dir, filepath.FromSlash(s.OnnxRel)); fileSize(onnx) == 0 {
		return nil, invalid("ONNX file %s is empty (0 bytes): the copy or download was interrupted; "+
			"delete it and fetch the model again (mnemo pull), or point MNEMO_MODEL at a complete model folder", onnx)
	}

	var cfg struct {
		HiddenSize int `json:"hidden_size"`
		MaxPos     int `json:"max_position_embeddings"`
	}
	if ok, err := readJSON(dir, "config.json", &cfg); err != nil {
		return nil, err
	} else if ok {
		s.HiddenSize, s.MaxPos = cfg.HiddenSize, cfg.MaxPos
	}

	var sb struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	if ok, err := readJSON(dir, "sentence_bert_config.json", &sb); err != nil {
		return nil, err
	} else if ok && sb.MaxSeqLength > 0 {
		s.MaxSeqLen = sb.MaxSeqLength
	}
	if s.MaxPos > 0 && s.MaxSeqLen > s.MaxPos {
		// The position table is the hard limit: past it the graph cannot run.
		s.MaxSeqLen = s.MaxPos
	}
	if s.MaxSeqLen < 3 {
		return nil, invalid("%s: max_seq_length %d is too small", dir, s.MaxSeqLen)
	}

	if err := readPooling(s); err != nil {
		return nil, err
	}
	if err := readPrompts(s); err != nil {
		return nil, err
	}
	return s, nil
}

// pickOnnx finds the one ONNX file of a model folder: in the folder itself or
// in its onnx/ subfolder (the Hugging Face export layout). Several files are
// an error that names them, because picking one silently (fp32 vs quantised
// vs optimised) would change the vectors without anyone noticing.
func pickOnnx(dir, onnxFile string) (string, error) {
	if onnxFile != "" {
		rel := onnxFile
		if filepath.IsAbs(onnxFile) {
			r, err := filepath.Rel(dir, onnxFile)
			if err != nil || strings.HasPrefix(r, "..") {
				return "", invalid("ONNX file %s is not inside model folder %s", onnxFile, dir)
			}
			rel = r
		}
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			return "", invalid("ONNX file %s not found in %s", rel, dir)
		}
		return filepath.ToSlash(rel), nil
	}
	var found []string
	for _, sub := range []string{".", "onnx"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".onnx") {
				found = append(found, filepath.ToSlash(filepath.Join(sub, e.Name())))
			}
		}
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		return "", invalid("no .onnx file in %s (looked in the folder and its onnx/ subfolder)", dir)
	case 1:
		return found[0], nil
	}
	return "", invalid("several .onnx files in %s: %s; mnemo will not guess which one to use: "+
		"point MNEMO_MODEL (or --model) at the file itself, e.g. %s, or keep exactly one",
		dir, strings.Join(found, ", "), filepath.Join(dir, found[0]))
}

// fileSize is a file's size, following symlinks; -1 when it cannot be read.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// readJSON reads an optional JSON file of the model folder. A missing file is
// (false, nil); a malformed one is an error naming it.
func readJSON(dir, name string, v any) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, invalid("read %s: %v", filepath.Join(dir, name), err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, invalid("parse %s: %v", filepath.Join(dir, name), err)
	}
	return true, nil
}

// readPooling reads the sentence-transformers pooling module. The folder is
// found through modules.json when present (it is usually 1_Pooling).
func readPooling(s *modelSpec) error {
	poolDir := "1_Pooling"
	var modules []struct {
		Path string `json:"path"`
		Type string `json:"type"`
	}
	if ok, err := readJSON(s.Root, "modules.json", &modules); err != nil {
		return err
	} else if ok {
		for _, m := range modules {
			if strings.HasSuffix(m.Type, ".Pooling") && m.Path != "" {
				poolDir = m.Path
			}
		}
	}
	var pc struct {
		Dim       int  `json:"word_embedding_dimension"`
		CLS       bool `json:"pooling_mode_cls_token"`
		Mean      bool `json:"pooling_mode_mean_tokens"`
		Max       bool `json:"pooling_mode_max_tokens"`
		MeanSqrt  bool `json:"pooling_mode_mean_sqrt_len_tokens"`
		Weighted  bool `json:"pooling_mode_weightedmean_tokens"`
		LastToken bool `json:"pooling_mode_lasttoken"`
	}
	ok, err := readJSON(s.Root, filepath.Join(poolDir, "config.json"), &pc)
	if err != nil || !ok {
		return err // no pooling config: mean pooling, sentence-transformers' default
	}
	s.PoolingDim = pc.Dim
	var modes []string
	for _, m := range []struct {
		on   bool
		name string
	}{{pc.CLS, "cls"}, {pc.Mean, "mean"}, {pc.Max, "max"}, {pc.MeanSqrt, "mean_sqrt_len"}, {pc.Weighted, "weightedmean"}, {pc.LastToken, "lasttoken"}} {
		if m.on {
			modes = append(modes, m.name)
		}
	}
	switch {
	case len(modes) == 0:
		return invalid("%s/config.json enables no pooling mode", filepath.Join(s.Root, poolDir))
	case len(modes) > 1:
		return invalid("%s/config.json combines pooling modes %v; mnemo supports exactly one", filepath.Join(s.Root, poolDir), modes)
	case modes[0] == "weightedmean":
		return invalid("%s/config.json asks for weightedmean pooling, which mnemo does not support (mean, cls, max, mean_sqrt_len, lasttoken)", filepath.Join(s.Root, poolDir))
	}
	s.Pooling = modes[0]
	return nil
}

// readPrompts sets the query/document prefixes: the model folder's
// config_sentence_transformers.json wins; otherwise known defaults by model
// family (see familyPrefixes).
func readPrompts(s *modelSpec) error {
	var cst struct {
		Prompts map[string]string `json:"prompts"`
	}
	ok, err := readJSON(s.Root, "config_sentence_transformers.json", &cst)
	if err != nil {
		return err
	}
	if ok && len(cst.Prompts) > 0 {
		s.HasPromptCfg = true
		s.QueryPrefix = cst.Prompts["query"]
		for _, k := range []string{"document", "passage", "doc", "corpus"} {
			if p, ok := cst.Prompts[k]; ok {
				s.DocumentPrefix = p
				break
			}
		}
	}
	return nil
}

// familyPrefixes returns the query and document prefixes that well-known
// retrieval model families were trained with, for folders that do not list
// them in config_sentence_transformers.json. Without them such models
// retrieve noticeably worse.
func familyPrefixes(modelID string) (query, document string) {
	id := strings.ToLower(modelID)
	const bgeEN = "Represent this sentence for searching relevant passages: "
	switch {
	case strings.Contains(id, "nomic-embed-text"):
		return "search_query: ", "search_document: "
	case strings.Contains(id, "bge-m3"):
		return "", ""
	case strings.Contains(id, "bge-") && strings.Contains(id, "-zh"):
		return "为这个句子生成表示以用于检索相关文章：", ""
	case strings.Contains(id, "bge-"):
		return bgeEN, ""
	case strings.Contains(id, "mxbai-embed-large"):
		return bgeEN, ""
	case e5Family.MatchString(id) && !strings.Contains(id, "instruct"):
		return "query: ", "passage: "
	}
	return "", ""
}

// e5Family matches intfloat's e5 models (e5-small-v2, multilingual-e5-large…)
// and not names that merely contain "e5".
var e5Family = regexp.MustCompile(`(^|[/_-])e5-`)
