package main

import (
	"testing"

	"github.com/mnemo-mcp/mnemo/embed/kernels/asm/internal/gencheck"
)

// TestCurrent: the committed vec/elem_amd64.s and elem_amd64.go are what
// this generator produces.
func TestCurrent(t *testing.T) { gencheck.Current(t, "elem_amd64") }
