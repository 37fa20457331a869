package main

import (
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/internal/testmodels"
)

// recall shows one SCORE with the same documented meaning in every mode
// (0 to 1 without pins) and which ranking found each hit; --json keeps the
// raw components beside it.
func TestRecallScoreEveryMode(t *testing.T) {
	cliEnv(t, testmodels.Dir(t, testmodels.BertTiny))
	mustCLI(t, "", "remember", "the staging database listens on port 5433")
	mustCLI(t, "", "remember", "deploy with ops/deploy.sh from the main branch")
	for _, mode := range []string{"hybrid", "semantic", "keyword"} {
		r := mustCLI(t, "", "recall", "staging database port", "--mode", mode, "--json")
		hits := jsonLines[hitJSON](t, r.stdout)
		if len(hits) == 0 {
			t.Fatalf("%s: no hits: %s", mode, r)
		}
		for _, h := range hits {
			if h.Score < 0 || h.Score > 1 || h.Match == "" {
				t.Errorf("%s: score %v match %q, want 0..1 and a match: %+v", mode, h.Score, h.Match, h)
			}
		}
		if mode != "keyword" && hits[0].Similarity == 0 {
			t.Errorf("%s: the cosine is not kept beside the score: %+v", mode, hits[0])
		}
		if want := map[string]string{"hybrid": "both", "semantic": "meaning", "keyword": "words"}[mode]; hits[0].Match != want {
			t.Errorf("%s: top hit matched by %q, want %q", mode, hits[0].Match, want)
		}
		r = mustCLI(t, "", "recall", "staging database port", "--mode", mode)
		if !strings.Contains(r.stdout, "SCORE") || !strings.Contains(r.stdout, "MATCH") {
			t.Errorf("%s table: %s", mode, r.stdout)
		}
	}
	if r := mustCLI(t, "", "help", "recall"); !strings.Contains(r.stdout, "SCORE is one number with the same meaning in every mode") {
		t.Errorf("help recall does not say what SCORE means")
	}
}

// Outside the project, list and recall say how many memories exist
// elsewhere and how to see them; a full page of list says there is more.
func TestScopingSaysWhatIsElsewhere(t *testing.T) {
	cliEnv(t, "")
	for _, p := range []string{"projX", "projX", "projY"} {
		mustCLI(t, "", "remember", "a note about the build cache in "+p+" "+strings.Repeat("x", len(p)), "--project", p+"-"+p[:4])
	}
	mustCLI(t, "", "remember", "second note for projX", "--project", "projX-proj")

	r := mustCLI(t, "", "list")
	if !strings.Contains(r.stdout, "no memories in this project; 3 memories in 2 other projects") || !strings.Contains(r.stdout, "--all") || !strings.Contains(r.stdout, "--project") {
		t.Errorf("list outside the projects: %s", r)
	}
	r = mustCLI(t, "", "recall", "build cache", "--mode", "keyword")
	if !strings.Contains(r.stdout, `no memories in this project match "build cache"; 3 memories in 2 other projects`) {
		t.Errorf("recall outside the projects: %s", r)
	}
	r = mustCLI(t, "", "recall", "build cache", "--mode", "keyword", "--all")
	if !strings.Contains(r.stdout, "build cache") {
		t.Errorf("recall --all: %s", r)
	}
	r = mustCLI(t, "", "list", "--all", "--limit", "2")
	if !strings.Contains(r.stdout, "more… mnemo list --offset 2 --limit 2 --all") {
		t.Errorf("list: no more… footer on a full page: %s", r)
	}
	r = mustCLI(t, "", "list", "--all", "--limit", "3")
	if strings.Contains(r.stdout, "more…") {
		t.Errorf("list: more… footer on the last page: %s", r)
	}
}
