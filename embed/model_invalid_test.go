package embed

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// TestEmptyOnnxIsInvalidModel: an empty model.onnx (an interrupted copy, a
// failed download) used to reach the ONNX parser and panic ("invalid memory
// address"); it must be the ordinary "invalid model" error naming the file.
func TestEmptyOnnxIsInvalidModel(t *testing.T) {
	tiny := testmodels.Dir(t, testmodels.BertTiny)
	for _, size := range []int{0, 1} {
		d := linkModel(t, tiny, "m", "model.onnx")
		onnx := filepath.Join(d, "model.onnx")
		must(t, os.WriteFile(onnx, make([]byte, size), 0o644))
		err := loadErr(t, d)
		if err == nil {
			t.Fatalf("%d-byte model.onnx loaded", size)
		}
		t.Log(err)
		if !errors.Is(err, ErrInvalidModel) {
			t.Errorf("%d-byte model.onnx: error does not wrap ErrInvalidModel: %v", size, err)
		}
		if strings.Contains(err.Error(), "panic") || !strings.Contains(err.Error(), onnx) {
			t.Errorf("%d-byte model.onnx: want an error naming %s without a panic, got: %v", size, onnx, err)
		}
	}
}
