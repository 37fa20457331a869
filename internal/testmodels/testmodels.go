// Package testmodels finds the shared test models (../shared/models, or
// MNEMO_TEST_MODELS) for tests in any package. When CI=true a missing model
// fails the test instead of skipping it, so CI can never pass by testing less.
package testmodels

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// Names of the shared models.
const (
	MiniLM   = "minilm-l6-synthetic" // exact all-MiniLM-L6-v2 shape, semantically seeded weights
	BertTiny = "bert-tiny-synthetic" // 2 layers, hidden 128: fast unit tests
)

// Root returns the folder that holds the shared models.
func Root() string {
	if d := config.TestModels(); d != "" {
		return d
	}
	// Default: ../shared/models beside the repository root. Resolve from this
	// source file so it works whatever the test's working directory is.
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(repo, "..", "shared", "models")
}

// InCI reports whether CI=true.
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// Dir returns the folder of the named model, skipping the test (failing it in
// CI) when the model is not there.
func Dir(t testing.TB, name string) string {
	t.Helper()
	d := filepath.Join(Root(), name)
	if _, err := os.Stat(filepath.Join(d, "model.onnx")); err != nil {
		missing(t, "model "+name+" not found at "+d+" (set MNEMO_TEST_MODELS)")
	}
	return d
}

// Golden is a golden file from ../shared/models/golden.
type Golden struct {
	Model       string      `json:"model"`
	ModelSHA256 string      `json:"model_sha256"`
	Dim         int         `json:"dim"`
	MaxLength   int         `json:"max_length"`
	Sentences   []string    `json:"sentences"`
	TokenIDs    [][]int     `json:"token_ids"`
	Embeddings  [][]float32 `json:"embeddings"`
}

// LoadGolden reads the golden file of the named model.
func LoadGolden(t testing.TB, name string) Golden {
	t.Helper()
	path := filepath.Join(Root(), "golden", name+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		missing(t, "golden file not found: "+err.Error())
	}
	var g Golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return g
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}
