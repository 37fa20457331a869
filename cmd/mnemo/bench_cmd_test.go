package main

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchCommandJSON runs `mnemo bench --json` on bert-tiny with one timed
// call per batch scenario and checks the lines' shape, never their timings.
func TestBenchCommandJSON(t *testing.T) {
	embedEnv(t)
	t.Setenv("MNEMO_BENCH_SCALE", "0.01")
	code, out, errOut := runCLI("", "bench", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := []struct {
		name          string
		batch, tokens int
		calls         int
	}{{"q12", 1, 12, 1}, {"s40", 32, 40, 1}, {"l256", 8, 256, 1}, {"stream", 1, 0, 50}}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v: %s", n+1, err, sc.Text())
		}
		if n >= len(want) {
			t.Fatalf("more lines than scenarios:\n%s", out)
		}
		w := want[n]
		if r["scenario"] != w.name || r["engine"] != "mnemo" || r["batch"] != float64(w.batch) ||
			r["tokens"] != float64(w.tokens) || r["calls"] != float64(w.calls) {
			t.Errorf("line %d: %s, want scenario %s batch %d tokens %d calls %d", n+1, sc.Text(), w.name, w.batch, w.tokens, w.calls)
		}
		for _, k := range []string{"median_ms", "p90_ms", "tokens_per_s"} {
			if v, ok := r[k].(float64); !ok || v < 0 {
				t.Errorf("line %d: %s = %v, want a number ≥ 0", n+1, k, r[k])
			}
		}
		if r["median_ms"].(float64) > r["p90_ms"].(float64) {
			t.Errorf("line %d: median above p90: %s", n+1, sc.Text())
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", n, len(want), out)
	}

	// The human table names every scenario.
	t.Setenv("MNEMO_BENCH_SCALE", "0.01")
	code, out, errOut = runCLI("", "bench")
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for _, w := range want {
		if !strings.Contains(out, "\n"+w.name+" ") {
			t.Errorf("table lacks %s:\n%s", w.name, out)
		}
	}
}

func TestBenchPercentile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{{[]float64{3, 1, 2}, 0.5, 2}, {[]float64{4, 1, 3, 2}, 0.5, 2.5}, {[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9}, {[]float64{7}, 0.9, 7}} {
		if got := percentile(c.xs, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
}
