package vec

// The NEON int8 dot-product scan (dot_arm64.s): d a multiple of 16, any
// rows ≥ 1.

//go:noescape
func dotsI8NEON(q *float32, c *int8, d, rows int, out *float32)

func init() { neon.dotsI8 = dotsI8NEON }
