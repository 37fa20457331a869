package redact

import (
	"os"
	"strings"
	"testing"
)

// corpusCase is one block of testdata/corpus.txt.
type corpusCase struct {
	name    string
	input   string   // the text with the «kind:…» marks removed
	want    string   // input with each marked secret replaced by its marker
	secrets []string // the marked secrets
	kinds   map[string]int
}

func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	var cur *corpusCase
	var body []string
	flush := func() {
		if cur == nil {
			return
		}
		cur.input, cur.want, cur.secrets, cur.kinds = parseMarks(t, cur.name, strings.TrimRight(strings.Join(body, "\n"), "\n"))
		cases = append(cases, *cur)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "=== "); ok {
			flush()
			cur, body = &corpusCase{name: name}, nil
			continue
		}
		if cur == nil {
			continue // header comments
		}
		body = append(body, line)
	}
	flush()
	if len(cases) < 20 {
		t.Fatalf("corpus has only %d cases", len(cases))
	}
	return cases
}

// parseMarks turns "a «kind:secret» b" into the input "a secret b", the
// expected output "a [REDACTED:kind] b", the secrets and the kind counts.
func parseMarks(t testing.TB, name, text string) (input, want string, secrets []string, kinds map[string]int) {
	var in, out strings.Builder
	kinds = map[string]int{}
	for {
		i := strings.Index(text, "«")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "»")
		if j < 0 {
			t.Fatalf("%s: unclosed «", name)
		}
		mark := text[i+len("«") : i+j]
		kind, secret, ok := strings.Cut(mark, ":")
		if !ok {
			t.Fatalf("%s: mark %q has no kind", name, mark)
		}
		in.WriteString(text[:i])
		out.WriteString(text[:i])
		in.WriteString(secret)
		if kind == KindPrivate {
			out.WriteString(PrivateMarker)
		} else {
			out.WriteString(Marker(kind))
		}
		secrets = append(secrets, secret)
		kinds[kind]++
		text = text[i+j+len("»"):]
	}
	in.WriteString(text)
	out.WriteString(text)
	return in.String(), out.String(), secrets, kinds
}

// TestCorpus requires every secret of the corpus caught, with the right
// kind, and every lookalike left byte for byte; it reports precision and
// recall (run with -v to see them).
func TestCorpus(t *testing.T) {
	var tp, fn, fp, lookalikes, damaged int
	for _, c := range loadCorpus(t) {
		got, findings := String(c.input)
		// Recall: a secret is caught when its text is gone from the output
		// (a secret that is a substring of another is checked by position
		// through the exact comparison below).
		for _, s := range c.secrets {
			if strings.Contains(got, s) {
				fn++
				t.Errorf("%s: secret %q survived:\n%s", c.name, s, got)
			} else {
				tp++
			}
		}
		// Precision: every redaction beyond the marked secrets is a false
		// positive.
		extra := Total(findings) - len(c.secrets)
		if extra > 0 {
			fp += extra
		}
		if len(c.secrets) == 0 {
			lookalikes++
			if got != c.input {
				damaged++
			}
		}
		if got != c.want {
			t.Errorf("%s:\n got: %q\nwant: %q\nfindings: %v", c.name, got, c.want, findings)
		}
		for kind, n := range c.kinds {
			if f := count(findings, kind); f != n {
				t.Errorf("%s: %d findings of kind %s, want %d (all: %v)", c.name, f, kind, n, findings)
			}
		}
		again, more := String(got)
		if again != got || len(more) != 0 {
			t.Errorf("%s: not idempotent: second pass gives %q, %v", c.name, again, more)
		}
	}
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	t.Logf("corpus: %d secrets, %d caught, %d missed, %d false redactions; %d lookalike blocks, %d damaged; precision %.3f, recall %.3f",
		tp+fn, tp, fn, fp, lookalikes, damaged, precision, recall)
	if recall < 1 || fp > 0 || damaged > 0 {
		t.Errorf("want recall 1, no false redactions and no damaged lookalike; got recall %.3f, %d false, %d damaged", recall, fp, damaged)
	}
}

func count(fs []Finding, kind string) int {
	for _, f := range fs {
		if f.Kind == kind {
			return f.Count
		}
	}
	return 0
}

// TestCorpusInLongText runs every case inside a long note, where scanning
// goes by windows around keywords, and wants exactly the same result.
func TestCorpusInLongText(t *testing.T) {
	pad := strings.Repeat("Filler prose about the staging database, which they moved to port 5433 last task. ", 40)
	for _, c := range loadCorpus(t) {
		if strings.Contains(c.name, "unclosed") {
			continue // an unclosed <private> takes the rest of the text, by design
		}
		got, _ := String(pad + c.input + "\n" + pad)
		if want := pad + c.want + "\n" + pad; got != want {
			t.Errorf("%s: in a long text got a different result:\n%q", c.name, strings.TrimSuffix(strings.TrimPrefix(got, pad), pad))
		}
	}
}
