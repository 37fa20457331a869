package hub

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// progress reports a download's progress: a self-overwriting line on a
// terminal, a line every 10% otherwise (logs, CI). Small files stay quiet.
type progress struct {
	w           io.Writer
	name        string
	done, total int64
	start       time.Time
	startBytes  int64
	last        time.Time
	lastDecile  int64
	tty, active bool
}

const progressMinBytes = 1 << 20

func newProgress(w io.Writer, name string, done, total int64) *progress {
	p := &progress{w: w, name: name, done: done, total: total, start: time.Now(), startBytes: done, lastDecile: -1}
	if w == nil || (total > 0 && total < progressMinBytes) {
		return p
	}
	p.active = true
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	if done > 0 {
		fmt.Fprintf(w, "mnemo: resuming %s at %s\n", name, mb(done))
	}
	return p
}

func (p *progress) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if !p.active {
		return len(b), nil
	}
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) >= 200*time.Millisecond {
			p.last = now
			fmt.Fprintf(p.w, "\r%s\033[K", p.line())
		}
		return len(b), nil
	}
	if p.total > 0 {
		if d := p.done * 10 / p.total; d != p.lastDecile {
			p.lastDecile = d
			fmt.Fprintln(p.w, p.line())
		}
	} else if now.Sub(p.last) >= 5*time.Second {
		p.last = now
		fmt.Fprintln(p.w, p.line())
	}
	return len(b), nil
}

func (p *progress) line() string {
	rate := ""
	if el := time.Since(p.start).Seconds(); el > 0.2 {
		rate = fmt.Sprintf("  %s/s", mb(int64(float64(p.done-p.startBytes)/el)))
	}
	if p.total > 0 {
		return fmt.Sprintf("mnemo: downloading %s  %s / %s  %3d%%%s", p.name, mb(p.done), mb(p.total), p.done*100/p.total, rate)
	}
	return fmt.Sprintf("mnemo: downloading %s  %s%s", p.name, mb(p.done), rate)
}

func (p *progress) finish(ok bool) {
	if !p.active {
		return
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\033[K\n", p.line())
	}
	if !ok {
		fmt.Fprintf(p.w, "mnemo: download of %s interrupted at %s\n", p.name, mb(p.done))
	}
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
