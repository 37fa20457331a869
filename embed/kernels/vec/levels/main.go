// Command levels prints the kernel sets this CPU runs, best first, one
// line separated by spaces (make test-kernels runs the engine with each).
package main

import (
	"fmt"
	"strings"

	"github.com/mnemo-mcp/mnemo/embed/kernels/vec"
)

func main() { fmt.Println(strings.Join(vec.Levels(), " ")) }
