package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

// sample is a small file in LongMemEval's published format, written by this
// test: four questions over short haystacks whose evidence is known.
func sample() []map[string]any {
	turn := func(role, content string, ans bool) map[string]any {
		t := map[string]any{"role": role, "content": content}
		if ans {
			t["has_answer"] = true
		}
		return t
	}
	filler := [][]map[string]any{
		{turn("user", "Can you suggest a recipe for lentil soup with cumin?", false), turn("assistant", "Sure: lentils, onion, cumin, stock.", false)},
		{turn("user", "My tomatoes keep splitting in the garden after rain.", false), turn("assistant", "Water evenly and mulch.", false)},
		{turn("user", "Which trains run from Lyon to Turin in winter?", false), turn("assistant", "A TGV and a regional connection.", false)},
		{turn("user", "How do I tune the chain on my road bike?", false), turn("assistant", "Adjust the barrel for indexing.", false)},
	}
	q := func(id, typ, question string, answer any, sessions [][]map[string]any, ids, answerIDs []string) map[string]any {
		dates := make([]string, len(ids))
		for i := range dates {
			dates[i] = "2023/05/2" + string(rune('0'+i%10)) + " (Sat) 10:00"
		}
		return map[string]any{
			"question_id": id, "question_type": typ, "question": question, "answer": answer,
			"question_date": "2023/06/01 (Thu) 09:00", "haystack_session_ids": ids, "haystack_dates": dates,
			"haystack_sessions": sessions, "answer_session_ids": answerIDs,
		}
	}
	with := func(extra ...[]map[string]any) [][]map[string]any {
		return append(append([][]map[string]any{}, filler...), extra...)
	}
	ids := func(extra ...string) []string {
		return append([]string{"sharegpt_a_0", "sharegpt_b_1", "ultrachat_c_2", "ultrachat_d_3"}, extra...)
	}
	return []map[string]any{
		q("q1", "single-session-user", "What degree did I graduate with?", "Business Administration",
			with([]map[string]any{turn("user", "Back when I graduated, my degree was in Business Administration.", true), turn("assistant", "Congratulations!", false)}),
			ids("answer_e1_4"), []string{"answer_e1_4"}),
		// Two evidence sessions: the first shares words with the question,
		// the second none, so keyword search finds only one of them.
		q("q2", "multi-session", "How many kayaks do I own in total?", 3,
			with([]map[string]any{turn("user", "I bought a second kayak for the lake.", false), turn("user", "So now two kayaks own my garage.", true)},
				[]map[string]any{turn("user", "Picked up an inflatable one for trips as well.", true)}),
			ids("answer_f1_4", "answer_f2_5"), []string{"answer_f1_4", "answer_f2_5"}),
		q("q3_abs", "single-session-user", "What is the name of my cat?", "You did not mention a cat.",
			with(), ids(), []string{}),
		// The evidence is what the assistant said: with user turns only it
		// is not in the index.
		q("q4", "single-session-assistant", "Which pasta shape did you recommend for pesto?", "trofie",
			with([]map[string]any{turn("user", "Making pesto tonight.", false), turn("assistant", "Use trofie, the classic pasta shape for pesto.", true)}),
			ids("answer_g1_4"), []string{"answer_g1_4"}),
	}
}

func writeSample(t *testing.T) string {
	t.Helper()
	b, err := json.MarshalIndent(sample(), "", " ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "longmemeval_sample.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runLME(t *testing.T, args ...string) (Summary, string) {
	t.Helper()
	t.Setenv("MNEMO_OFFLINE", "1")
	t.Setenv("MNEMO_CACHE", t.TempDir())
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errb.String())
	}
	var s Summary
	if strings.Contains(strings.Join(args, " "), "-json") {
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("summary: %v\n%s", err, out.String())
		}
	}
	return s, out.String()
}

func TestHarnessOnSample(t *testing.T) {
	data := writeSample(t)
	model := testmodels.Dir(t, testmodels.BertTiny)
	perQ := filepath.Join(t.TempDir(), "results.jsonl")

	s, _ := runLME(t, "-data", data, "-model", model, "-json", "-q", "-out", perQ)
	if s.Scored != 2 || s.Abstention != 1 || s.NoEvidence != 1 || s.Granularity != GranTurn || s.Model == "" {
		t.Fatalf("summary: %+v", s)
	}
	for _, m := range []memory.Mode{memory.ModeHybrid, memory.ModeSemantic, memory.ModeKeyword} {
		if o := s.ByMode[m]["overall"]; o == nil || o.N != 2 {
			t.Fatalf("%s: overall tally %+v", m, o)
		}
	}
	// Keyword ranking is exact on this sample (the model's weights are
	// synthetic, so semantic numbers mean nothing): q1's evidence turn is
	// the only one with "degree"; q2's first evidence shares "kayaks" and
	// "own", the second shares no word, so any@k holds and all@k does not.
	kw := s.ByMode[memory.ModeKeyword]
	if ss := kw["single-session-user"]; ss.N != 1 || ss.Any[5] != 1 || ss.All[5] != 1 {
		t.Errorf("keyword single-session-user: %+v", ss)
	}
	if ms := kw["multi-session"]; ms.N != 1 || ms.Any[5] != 1 || ms.Any[10] != 1 || ms.All[10] != 0 {
		t.Errorf("keyword multi-session: %+v", ms)
	}
	if o := kw["overall"]; o.Any[5] != 2 || o.All[5] != 1 {
		t.Errorf("keyword overall: %+v", o)
	}

	b, err := os.ReadFile(perQ)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("-out has %d lines:\n%s", len(lines), b)
	}
	var r Result
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	// Turn ids are the session id and the 1-based turn number.
	if r.QuestionID != "q1" || strings.Join(r.Evidence, ",") != "answer_e1_4_1" || r.Docs != 5 ||
		len(r.Top[memory.ModeKeyword]) == 0 || r.Top[memory.ModeKeyword][0] != "answer_e1_4_1" {
		t.Fatalf("q1 result: %+v", r)
	}

	// With every role kept, q4's assistant turn is evidence and is scored;
	// session level; the human table.
	s, _ = runLME(t, "-data", data, "-model", model, "-json", "-q", "-roles", "all", "-granularity", "session", "-modes", "keyword")
	if s.Scored != 3 || s.NoEvidence != 0 || s.ByMode[memory.ModeKeyword]["overall"].Any[5] != 3 {
		t.Fatalf("roles all, session level: %+v %+v", s, s.ByMode[memory.ModeKeyword]["overall"])
	}
	_, table := runLME(t, "-data", data, "-model", model, "-q", "-modes", "keyword,hybrid", "-limit", "1")
	for _, want := range []string{"1 questions scored", "keyword", "hybrid", "overall", "R@5", "100.0%"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestScore(t *testing.T) {
	ranked := [][]string{{"a"}, {"b"}, {"c", "d"}, {"e"}, {"f"}, {"g"}, {"x"}}
	s := score(ranked, map[string]bool{"d": true, "x": true})
	if !s.Any[5] || s.All[5] || !s.Any[10] || !s.All[10] {
		t.Fatalf("%+v", s)
	}
	s = score(ranked[:2], map[string]bool{"d": true})
	if s.Any[5] || s.Any[10] || s.All[10] {
		t.Fatalf("%+v", s)
	}
	var tl Tally
	tl.add(Scores{Any: map[int]bool{5: true, 10: true}, All: map[int]bool{5: false, 10: true}})
	tl.add(Scores{Any: map[int]bool{5: false, 10: true}, All: map[int]bool{}})
	if tl.N != 2 || tl.rate(tl.Any[5]) != 50 || tl.rate(tl.Any[10]) != 100 || tl.rate(tl.All[10]) != 50 {
		t.Fatalf("%+v", tl)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"question_id": "x"}`), 0o600)
	mismatch := filepath.Join(dir, "mismatch.json")
	os.WriteFile(mismatch, []byte(`[{"question_id":"x","question":"q","haystack_session_ids":["a"],"haystack_sessions":[]}]`), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "-data"},
		{[]string{"-data", bad, "-modes", "keyword"}, "JSON array"},
		{[]string{"-data", mismatch, "-modes", "keyword"}, "1 haystack_session_ids for 0"},
		{[]string{"-data", bad, "-granularity", "word"}, "granularity"},
		{[]string{"-data", bad, "-modes", "fuzzy"}, "fuzzy"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), c.args, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error about %q", c.args, err, c.want)
		}
	}
}
