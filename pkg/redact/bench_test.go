package redact

import (
	"fmt"
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

// BenchmarkStringWorst is a 64 KiB note of nothing but distinct secrets,
// each repeated: the most spans a note can hold.
func BenchmarkStringWorst(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 64<<10; i++ {
		fmt.Fprintf(&sb, "password=Hunter%06d and again Hunter%06d\n", i, i)
	}
	text := sb.String()
	compileOnce.Do(compile)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		String(text)
	}
}
