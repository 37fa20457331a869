package main

import (
	"runtime/debug"
	"testing"
)

// TestNoNativeRuntimeLinked guards mnemo's reason to exist: the binary links
// no native inference runtime. hugot's module graph names them (its ORT and
// XLA backends, the Rust tokenizer), but only behind build tags we never set;
// if an import ever pulls one in, this fails.
func TestNoNativeRuntimeLinked(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	forbidden := map[string]string{
		"github.com/daulet/tokenizers":          "Rust tokenizers (cgo)",
		"github.com/yalue/onnxruntime_go":       "ONNX Runtime (cgo)",
		"github.com/gomlx/gopjrt":               "XLA/PJRT (cgo)",
		"github.com/gomlx/go-xla":               "XLA (cgo)",
		"github.com/knights-analytics/ortgenai": "ONNX Runtime GenAI (cgo)",
		"github.com/chromedp/chromedp":          "the browser test's driver (internal/ui, test-only)",
	}
	for _, d := range bi.Deps {
		if what, bad := forbidden[d.Path]; bad {
			t.Errorf("%s (%s) is linked into the binary", d.Path, what)
		}
	}
}
