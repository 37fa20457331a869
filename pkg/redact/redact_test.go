package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStringWithoutSecretsIsUnchanged(t *testing.T) {
	for _, s := range []string{"", "plain text", "The staging DB is on port 5433", strings.Repeat("word ", 10000)} {
		got, f := String(s)
		if got != s || f != nil {
			t.Errorf("String(%.40q) = %.40q, %v", s, got, f)
		}
	}
}

func TestFindingsNeverCarryTheSecret(t *testing.T) {
	in := "key AKIAIOSFODNN7EXAMPLE and ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl398Zpkpm and again AKIAIOSFODNN7EXAMPLE"
	got, f := String(in)
	want := "key [REDACTED:aws-access-token] and [REDACTED:github-pat] and again [REDACTED:aws-access-token]"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if len(f) != 2 || f[0] != (Finding{"aws-access-token", 2}) || f[1] != (Finding{"github-pat", 1}) {
		t.Fatalf("findings %v", f)
	}
	if s := Summary(f); s != "aws-access-token ×2, github-pat ×1" {
		t.Errorf("Summary = %q", s)
	}
	if Total(f) != 3 {
		t.Errorf("Total = %d", Total(f))
	}
}

func TestPrivateBlockSwallowsMarkers(t *testing.T) {
	got, f := String("a <private>b [REDACTED:password] c</private> d")
	if got != "a "+PrivateMarker+" d" || Total(f) != 1 {
		t.Errorf("got %q, %v", got, f)
	}
}

func TestMerge(t *testing.T) {
	got := Merge([]Finding{{"b", 1}, {"a", 2}}, []Finding{{"b", 3}, {"c", 1}})
	want := []Finding{{"a", 2}, {"b", 4}, {"c", 1}}
	if len(got) != len(want) {
		t.Fatalf("Merge = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Merge = %v, want %v", got, want)
		}
	}
	if Merge(nil, nil) != nil {
		t.Error("Merge(nil, nil) != nil")
	}
}

// FuzzString: no panic, valid UTF-8 in gives valid UTF-8 out, no secret (of
// 8+ bytes) the rules find survives anywhere in the output, no <private> tag
// survives, and redacting the output again changes nothing.
func FuzzString(f *testing.F) {
	for _, c := range loadCorpus(f) {
		f.Add(c.input)
	}
	f.Add("<private>")
	f.Add("password=[REDACTED:password]x")
	f.Add("postgres://:@")
	f.Fuzz(func(t *testing.T, in string) {
		out, findings := String(in)
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input %q: %q", in, out)
		}
		if len(findings) == 0 && out != in {
			t.Fatalf("changed without findings: %q → %q", in, out)
		}
		masked := markerRe.ReplaceAllString(out, "\x00")
		for _, s := range scan(in) {
			if s.kind == "" || s.kind == KindPrivate {
				continue
			}
			secret := in[s.start:s.end]
			if len(secret) >= 8 && strings.Contains(masked, secret) {
				t.Fatalf("secret %q (%s) survives in %q", secret, s.kind, out)
			}
		}
		if strings.Contains(strings.ToLower(out), "<private>") {
			t.Fatalf("<private> survives in %q", out)
		}
		again, more := String(out)
		if again != out || len(more) != 0 {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", in, out, again, more)
		}
	})
}

func TestEmpty(t *testing.T) {
	for in, want := range map[string]bool{
		"":                                       true,
		"[REDACTED:github-pat]":                  true,
		"token: [REDACTED:token]":                false,
		PrivateMarker + " \n - " + Marker("jwt"): true,
		"ok " + PrivateMarker:                    false,
	} {
		if got := Empty(in); got != want {
			t.Errorf("Empty(%q) = %v", in, got)
		}
	}
}
