package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

type healthData struct {
	Stats      memory.Stats
	SizeHuman  string
	Projects   []projectCount
	Models     []projectCount
	Missing    int // memories without a vector of the current model
	Model      service.ModelStatus
	Loaded     bool
	Kernels    string
	Degraded   bool
	Errors     []logLine
	LogPath    string
	Chart      chart
	ChartError string
}

type logLine struct {
	Time, Level, Msg, Detail string
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	st, err := s.svc.Stats(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	d := healthData{Stats: st, SizeHuman: humanBytes(st.SizeBytes), Model: s.svc.ModelStatus(), LogPath: s.o.LogPath}
	for name, n := range st.ByProject {
		d.Projects = append(d.Projects, projectCount{name, n})
	}
	for name, n := range st.ByModel {
		if name == "" || name != d.Model.Model {
			d.Missing += n
		}
		if name == "" {
			name = "(no vector)"
		}
		d.Models = append(d.Models, projectCount{name, n})
	}
	sortCounts(d.Projects)
	sortCounts(d.Models)
	if e := s.o.Engine(); e != nil {
		d.Loaded = true
		if e.Ready() {
			in := e.Info()
			d.Kernels, d.Degraded = in.Kernels, in.KernelsDegraded
		}
	}
	d.Errors = recentErrors(s.o.LogPath, 15)
	times, err := createdTimes(ctx, s.svc.Store())
	if err != nil {
		d.ChartError = err.Error()
	} else {
		d.Chart = weeklyChart(times, s.o.Now(), 26)
	}
	p := s.newPage(r, "Health", "health")
	p.Data = d
	s.render(w, "health.html", p)
}

func sortCounts(c []projectCount) {
	sort.Slice(c, func(i, j int) bool {
		if c[i].Count != c[j].Count {
			return c[i].Count > c[j].Count
		}
		return c[i].Name < c[j].Name
	})
}

func humanBytes(n int64) string {
	switch {
	case n <= 0:
		return "unknown"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// logTail is how much of the log file's end the health page reads.
const logTail = 512 << 10

// recentErrors returns the last n WARN and ERROR records of the JSON log
// file, newest first.
func recentErrors(path string, n int) []logLine {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTail {
		_, _ = f.Seek(fi.Size()-logTail, io.SeekStart)
	}
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		level, _ := rec["level"].(string)
		if level != "ERROR" && level != "WARN" {
			continue
		}
		l := logLine{Level: level}
		l.Time, _ = rec["time"].(string)
		if t, err := time.Parse(time.RFC3339Nano, l.Time); err == nil {
			l.Time = t.Local().Format("2006-01-02 15:04:05")
		}
		l.Msg, _ = rec["msg"].(string)
		var parts []string
		for k, v := range rec {
			switch k {
			case "time", "level", "msg", "pid":
				continue
			}
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
		sort.Strings(parts)
		l.Detail = strings.Join(parts, " ")
		out = append(out, l)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// createdTimes returns every memory's creation time: one column from
// SQLite, else a scan of the store.
func createdTimes(ctx context.Context, st memory.Store) ([]time.Time, error) {
	if d, ok := st.(sqlDBer); ok {
		rows, err := d.DB().QueryContext(ctx, `SELECT created_at FROM memories`)
		if err == nil {
			defer rows.Close()
			var out []time.Time
			for rows.Next() {
				var ms int64
				if err := rows.Scan(&ms); err != nil {
					return nil, err
				}
				out = append(out, memory.UnixMilliTime(ms))
			}
			return out, rows.Err()
		}
	}
	var out []time.Time
	for off := 0; ; off += scanBatch {
		ms, err := st.List(ctx, memory.ListOptions{Limit: scanBatch, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, m.CreatedAt)
		}
		if len(ms) < scanBatch {
			return out, nil
		}
	}
}

// chart is a bar chart of memories per week, drawn as inline SVG.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           int
	From, To      string
}

type bar struct {
	X, Y, W, H int
	Label      string
	Count      int
}

func weeklyChart(times []time.Time, now time.Time, weeks int) chart {
	const w, h, gap = 520, 120, 2
	start := now.Truncate(24*time.Hour).AddDate(0, 0, -7*(weeks-1)-int(now.Weekday()))
	counts := make([]int, weeks)
	for _, t := range times {
		i := int(t.Sub(start) / (7 * 24 * time.Hour))
		if t.Before(start) || i >= weeks {
			continue
		}
		counts[i]++
	}
	c := chart{Width: w, Height: h, From: start.Format("2 Jan 2006"), To: now.Format("2 Jan 2006")}
	for _, n := range counts {
		c.Max = max(c.Max, n)
	}
	bw := w / weeks
	for i, n := range counts {
		bh := 0
		if c.Max > 0 {
			bh = n * (h - 10) / c.Max
		}
		if n > 0 && bh == 0 {
			bh = 1
		}
		c.Bars = append(c.Bars, bar{X: i * bw, Y: h - bh, W: bw - gap, H: bh, Count: n,
			Label: fmt.Sprintf("week of %s: %d", start.AddDate(0, 0, 7*i).Format("2 Jan"), n)})
	}
	return c
}
