package service

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/redact"
)

const (
	fakeAWSKey = "AKIAIOSFODNN7EXAMPLE" // AWS's documented example key id
	fakeGHP    = "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl398Zpkpm"
)

func TestRememberRedactsBeforeStoringAndEmbedding(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		emb := newFakeEmbedder("m", true)
		s := newSvc(t, newStore(), emb, "p")
		r, err := s.Remember(ctx, RememberRequest{
			Content:  "deploy key " + fakeAWSKey + " and token " + fakeGHP + " <private>home address</private> done",
			Metadata: map[string]any{"env": map[string]any{"GITHUB_TOKEN": fakeGHP}, "list": []any{"x", "password=hunter2"}, "n": 3.0},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []redact.Finding{{Kind: "aws-access-token", Count: 1}, {Kind: "github-pat", Count: 2}, {Kind: "password", Count: 1}, {Kind: "private", Count: 1}}
		if redact.Summary(r.Redacted) != redact.Summary(want) {
			t.Fatalf("Redacted = %v, want %v", r.Redacted, want)
		}
		m, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		all := m.Content + jsonString(m.Metadata)
		for _, secret := range []string{fakeAWSKey, fakeGHP, "hunter2", "home address"} {
			if strings.Contains(all, secret) {
				t.Errorf("stored memory still holds %q: %s", secret, all)
			}
		}
		if want := "deploy key [REDACTED:aws-access-token] and token [REDACTED:github-pat] [private text removed] done"; m.Content != want {
			t.Errorf("content %q, want %q", m.Content, want)
		}
		if m.Metadata["n"] != 3.0 {
			t.Errorf("untouched metadata changed: %v", m.Metadata)
		}
		// The vector is the redacted text's: the secret never reaches the model.
		if got, want := m.Vector, emb.vec(m.Content); Cosine(got, want) < 0.9999 {
			t.Errorf("vector is not the redacted content's")
		}
		// Nothing to redact: no field in the result.
		r2, err := s.Remember(ctx, RememberRequest{Content: "nothing secret here"})
		if err != nil || r2.Redacted != nil {
			t.Fatalf("%+v %v", r2, err)
		}
	})
}

func TestKeepSecretsStoresVerbatim(t *testing.T) {
	ctx := context.Background()
	s, err := New(Options{Store: newFakeStore(), KeepSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Remember(ctx, RememberRequest{Content: "key " + fakeAWSKey})
	if err != nil || r.Redacted != nil {
		t.Fatalf("%+v %v", r, err)
	}
	if m, _ := s.Get(ctx, r.ID); m.Content != "key "+fakeAWSKey {
		t.Fatalf("content %q", m.Content)
	}
}

func TestImportRedactsAndDropsVectorsOfRedactedLines(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		emb := newFakeEmbedder("m", true)
		// A store written with redaction off, exported with vectors …
		raw, err := New(Options{Store: newStore(), Embedder: emb, Project: "p", KeepSecrets: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []string{"plain note", "aws key " + fakeAWSKey} {
			if _, err := raw.Remember(ctx, RememberRequest{Content: c}); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := raw.Export(ctx, &buf, ExportOptions{Vectors: true}); err != nil {
			t.Fatal(err)
		}
		// … imported into a redacting store.
		dst := newSvc(t, newStore(), emb, "p")
		res, err := dst.Import(ctx, strings.NewReader(buf.String()), ImportOptions{})
		if err != nil || res.Imported != 2 || res.BadLines != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		if redact.Summary(res.Redacted) != "aws-access-token ×1" || res.VectorsKept != 1 || res.VectorsDropped != 1 || res.NeedEmbedding != 1 {
			t.Fatalf("%+v", res)
		}
		var out bytes.Buffer
		if _, err := dst.Export(ctx, &out, ExportOptions{Vectors: true}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), fakeAWSKey) || !strings.Contains(out.String(), "aws key [REDACTED:aws-access-token]") {
			t.Fatalf("export after import: %s", out.String())
		}
		// Importing the same file again creates nothing new.
		res, err = dst.Import(ctx, strings.NewReader(buf.String()), ImportOptions{})
		if err != nil || res.Imported != 0 || res.Duplicates != 2 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
	})
}

func TestNothingButSecretsIsRefused(t *testing.T) {
	ctx := context.Background()
	s := newSvc(t, newFakeStore(), nil, "p")
	for _, c := range []string{"<private>my pin is 4411</private>", fakeGHP, "  " + fakeAWSKey + " , " + fakeGHP + "\n"} {
		_, err := s.Remember(ctx, RememberRequest{Content: c})
		wantInvalid(t, err, "nothing but redacted text", "nothing was stored")
	}
	res, err := s.Import(ctx, strings.NewReader(`{"content":"`+fakeGHP+`"}`+"\n"+`{"content":"ok then"}`+"\n"), ImportOptions{})
	if err != nil || res.Imported != 1 || res.BadLines != 1 || !strings.Contains(res.Bad[0].Error, "nothing but redacted text (github-pat ×1)") {
		t.Fatalf("%+v %v", res, err)
	}
	if st, _ := s.Stats(ctx); st.Total != 1 {
		t.Fatalf("stored %d memories", st.Total)
	}
}

// Tags are redacted too, before lower-casing (which would hide AKIA… keys),
// in Remember and in Import; a tag-only redaction keeps an imported vector.
func TestTagsAreRedacted(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		emb := newFakeEmbedder("m", true)
		s := newSvc(t, newStore(), emb, "p")
		r, err := s.Remember(ctx, RememberRequest{Content: "deploy notes", Tags: []string{"infra", fakeAWSKey, fakeGHP}})
		if err != nil {
			t.Fatal(err)
		}
		if got := redact.Summary(r.Redacted); got != "aws-access-token ×1, github-pat ×1" {
			t.Fatalf("Redacted = %q", got)
		}
		m, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		tags := strings.ToLower(strings.Join(m.Tags, " "))
		for _, secret := range []string{fakeAWSKey, fakeGHP} {
			if strings.Contains(tags, strings.ToLower(secret)) {
				t.Fatalf("stored tags hold a secret: %q", m.Tags)
			}
		}
		if !strings.Contains(tags, "infra") {
			t.Fatalf("plain tag lost: %q", m.Tags)
		}
		line := `{"content":"imported note","tags":["ops","` + fakeGHP + `"],"vector":[1,0,0,0],"model":"m","dims":4}` + "\n"
		res, err := s.Import(ctx, strings.NewReader(line), ImportOptions{})
		if err != nil || res.Imported != 1 || redact.Summary(res.Redacted) != "github-pat ×1" {
			t.Fatalf("import: %+v %v", res, err)
		}
		var out bytes.Buffer
		if _, err := s.Export(ctx, &out, ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(out.String()), strings.ToLower(fakeGHP)) {
			t.Fatalf("export holds the token: %s", out.String())
		}
	})
}
