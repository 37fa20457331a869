package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// statusLine is a one-line progress report for a long command, redrawn in
// place on stderr when stderr is a terminal and silent otherwise (logs and
// pipes get the command's final summary only). It waits a second before
// drawing, so quick runs stay quiet, and redraws at most ten times a second.
type statusLine struct {
	w     io.Writer
	on    bool
	start time.Time
	delay time.Duration // before the first draw

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

// statusDelay is how long a command runs before its progress is shown.
const statusDelay = time.Second

func newStatusLine(w io.Writer) *statusLine {
	return &statusLine{w: w, on: isTerminal(w), start: time.Now(), delay: statusDelay}
}

// set shows the status (formatted), if it is time to.
func (s *statusLine) set(format string, args ...any) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Sub(s.start) < s.delay || now.Sub(s.last) < 100*time.Millisecond {
		return
	}
	s.last = now
	fmt.Fprintf(s.w, "\r%s %s\033[K", fmt.Sprintf(format, args...), now.Sub(s.start).Round(time.Second))
	s.drawn = true
}

// clear removes the line, before the command prints its result.
func (s *statusLine) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.w, "\r\033[K")
		s.drawn = false
	}
}

// lineCounter counts the lines written through it (export's memories).
type lineCounter struct {
	w     io.Writer
	n     int
	onAdd func(n int)
}

func (c *lineCounter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if k := strings.Count(string(b[:n]), "\n"); k > 0 {
		c.n += k
		c.onAdd(c.n)
	}
	return n, err
}

// byteCounter counts the bytes read through it (import's input).
type byteCounter struct {
	r     io.Reader
	n     int64
	onAdd func(n int64)
}

func (c *byteCounter) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.n += int64(n)
		c.onAdd(c.n)
	}
	return n, err
}
