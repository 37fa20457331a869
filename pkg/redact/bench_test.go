package redact

import (
	"strings"
	"testing"
)

// BenchmarkCompile is the one-time cost a process pays on its first write.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		compile()
	}
}

// BenchmarkString4K redacts a 4 KiB note holding one secret.
func BenchmarkString4K(b *testing.B) {
	text := strings.Repeat("The staging DB is on port 5433, see runbook. ", 90) + " password=hunter2"
	compileOnce.Do(compile)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		String(text)
	}
}
