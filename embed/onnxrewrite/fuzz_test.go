package onnxrewrite

import (
	"bytes"
	"testing"
)

// FuzzRewrite: arbitrary bytes give a model or an error, never a panic; a
// rewritten model parses again and has nothing left to rewrite.
func FuzzRewrite(f *testing.F) {
	for _, m := range [][]byte{
		linearModel(4, 5, 1, true),
		linearModel(4, 6, 3, false),
		geluModel(4, 8, false),
		geluModel(4, 8, true),
		maskModel(2),
	} {
		f.Add(m)
		f.Add(m[:len(m)/2])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, model []byte) {
		orig := bytes.Clone(model)
		out, n, err := Rewrite(model)
		if !bytes.Equal(model, orig) {
			t.Fatal("Rewrite changed its input")
		}
		if err != nil {
			return
		}
		if n == 0 && !bytes.Equal(out, model) {
			t.Fatal("nothing rewritten, yet the model changed")
		}
		if _, _, _, err := RewriteExternal(model); err != nil {
			t.Fatalf("RewriteExternal fails where Rewrite did not: %v", err)
		}
		if _, _, err := Rewrite(out); err != nil {
			t.Fatalf("the rewritten model does not parse: %v", err)
		}
	})
}
