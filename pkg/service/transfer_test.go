package service

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

func TestImportMalformedLinesAndIdempotence(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		emb := newFakeEmbedder("m", true)
		s := newSvc(t, st, emb, "here")
		created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
		keptID := memory.NewID(created)
		goodVec, _ := json.Marshal(emb.vec("with a vector"))
		lines := []string{
			/* 1 */ `{"id":"` + keptID + `","content":"original id kept","project":"proj","tags":["x"],"created_at":"2025-03-04T05:06:07Z","metadata":{"k":1}}`,
			/* 2 */ `this is not json`,
			/* 3 */ `{"content":"no project given"}`,
			/* 4 */ ``,
			/* 5 */ `{"content":""}`,
			/* 6 */ `{"content":"with a vector","vector":` + string(goodVec) + `,"model":"m","dims":64}`,
			/* 7 */ `{"content":"x","id":"123"}`,
			/* 8 */ `{"content":"wrong dims for our model","vector":[1,2,3],"model":"m","dims":3}`,
			/* 9 */ `{"content":"x","created_at":"last tuesday"}`,
			/* 10 */ `{"content":"` + strings.Repeat("y", 1001) + `"}`,
			/* 11 */ `{"content":"from another model","vector":[1,0],"model":"other","dims":2}`,
			/* 12 */ `{"content":"no project given"}`,
			/* 13 */ `{"content":"bad tag","tags":["a,b"]}`,
		}
		file := strings.Join(lines, "\n") + "\n"
		res, err := s.Import(ctx, strings.NewReader(file), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var badLines []int
		for _, b := range res.Bad {
			badLines = append(badLines, b.Line)
			if b.Error == "" {
				t.Errorf("line %d: no reason given", b.Line)
			}
		}
		if got, want := intsString(badLines), "2,5,7,9,10,13"; got != want {
			t.Fatalf("bad lines %s, want %s (%+v)", got, want, res.Bad)
		}
		if res.Lines != 12 || res.BadLines != 6 || res.Imported != 5 || res.Duplicates != 1 || res.VectorsKept != 2 || res.VectorsDropped != 1 || res.NeedEmbedding != 4 {
			t.Fatalf("result: %+v", res)
		}
		m, err := s.Get(ctx, keptID)
		if err != nil {
			t.Fatalf("original id not kept: %v", err)
		}
		if m.Content != "original id kept" || m.Project != "proj" || !m.CreatedAt.Equal(created) || m.Source != memory.SourceImport || len(m.Tags) != 1 {
			t.Fatalf("imported memory: %+v", m)
		}
		ms, _ := s.List(ctx, ListRequest{Project: "here"})
		var inHere []string
		for _, m := range ms {
			inHere = append(inHere, m.Content)
		}
		if len(inHere) != 4 { // lines 3, 6, 8, 11 (12 duplicates 3)
			t.Fatalf("default project got %q", inHere)
		}

		// Re-importing the same file creates nothing.
		before, _ := s.Stats(ctx)
		res2, err := s.Import(ctx, strings.NewReader(file), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.Stats(ctx)
		if res2.Imported != 0 || res2.Duplicates != 6 || res2.BadLines != 6 || after.Total != before.Total {
			t.Fatalf("re-import: %+v, total %d → %d", res2, before.Total, after.Total)
		}
		// Reembed then fixes what import could not embed.
		if n, err := s.Reembed(ctx, nil); err != nil || n != 4 {
			t.Fatalf("reembed after import: %d %v", n, err)
		}
	})
}

func TestExportImportRoundTrip(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		emb := newFakeEmbedder("m", true)
		src := newSvc(t, newStore(), emb, "p1")
		want := map[string]memory.Memory{}
		for i, c := range []struct{ content, project string }{
			{"alpha in p1", ""}, {"beta global", memory.GlobalProject}, {"gamma in p2", "p2"}, {"delta\nwith \"quotes\" <b>", ""},
		} {
			r, err := src.Remember(ctx, RememberRequest{Content: c.content, Project: c.project, Tags: []string{"t" + string(rune('0'+i))}, Metadata: map[string]any{"i": i}})
			if err != nil {
				t.Fatal(err)
			}
			m, _ := src.Get(ctx, r.ID)
			want[r.ID] = m
		}
		var def, all, vec bytes.Buffer
		if n, err := src.Export(ctx, &def, ExportOptions{}); err != nil || n != 3 {
			t.Fatalf("default export (current + global): %d %v", n, err)
		}
		if n, err := src.Export(ctx, &all, ExportOptions{Project: "*"}); err != nil || n != 4 {
			t.Fatalf("export all: %d %v", n, err)
		}
		if strings.Contains(all.String(), `"vector"`) {
			t.Fatal("vectors exported without the option")
		}
		if _, err := src.Export(ctx, &vec, ExportOptions{Project: "*", Vectors: true}); err != nil || strings.Count(vec.String(), `"vector"`) != 4 {
			t.Fatalf("vectors missing from export: %v", err)
		}

		for _, withVec := range []bool{false, true} {
			in := all.String()
			if withVec {
				in = vec.String()
			}
			dst := newSvc(t, newStore(), emb, "elsewhere")
			res, err := dst.Import(ctx, strings.NewReader(in), ImportOptions{})
			if err != nil || res.Imported != 4 || len(res.Bad) != 0 {
				t.Fatalf("import (vectors %v): %+v %v", withVec, res, err)
			}
			if withVec != (res.VectorsKept == 4) || withVec == (res.NeedEmbedding == 4) {
				t.Fatalf("vectors %v: %+v", withVec, res)
			}
			for id, w := range want {
				got, err := dst.Get(ctx, id)
				if err != nil {
					t.Fatalf("id %s not kept: %v", id, err)
				}
				if got.Content != w.Content || got.Project != w.Project || !got.CreatedAt.Equal(w.CreatedAt) ||
					strings.Join(got.Tags, ",") != strings.Join(w.Tags, ",") || jsonString(got.Metadata) != jsonString(w.Metadata) {
					t.Fatalf("round trip changed %s:\n%+v\n%+v", id, w, got)
				}
				if withVec && (got.Model != "m" || Cosine(got.Vector, w.Vector) < 0.9999) {
					t.Fatalf("vector of %s not kept", id)
				}
			}
		}
	})
}

func intsString(xs []int) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImportBoundsReportedBadLines(t *testing.T) {
	s := newSvc(t, newFakeStore(), nil, "p")
	n := MaxReportedBadLines + 500
	res, err := s.Import(context.Background(), strings.NewReader(strings.Repeat("garbage\n", n)+`{"content":"ok"}`), ImportOptions{})
	if err != nil || res.BadLines != n || len(res.Bad) != MaxReportedBadLines || res.Imported != 1 || res.Bad[0].Line != 1 {
		t.Fatalf("%d bad lines: BadLines %d, reported %d, imported %d, %v", n, res.BadLines, len(res.Bad), res.Imported, err)
	}
}
