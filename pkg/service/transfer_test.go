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
	"github.com/mnemo-mcp/mnemo/pkg/sqlite"
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
				imported, _ := got.Metadata[ImportedAtKey].(string)
				delete(got.Metadata, ImportedAtKey)
				if got.Content != w.Content || got.Project != w.Project || !got.CreatedAt.Equal(w.CreatedAt) || got.Source != w.Source ||
					strings.Join(got.Tags, ",") != strings.Join(w.Tags, ",") || jsonString(got.Metadata) != jsonString(w.Metadata) {
					t.Fatalf("round trip changed %s:\n%+v\n%+v", id, w, got)
				}
				if _, err := time.Parse(time.RFC3339, imported); err != nil {
					t.Fatalf("%s: the import is not recorded in metadata.%s: %q", id, ImportedAtKey, imported)
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

// TestImportChecksVectorSizes: a vector whose size does not match its
// model's (the loaded model's, the store's vectors of that model, or the
// file's first vector of it) is dropped, said so for its line, and the
// memory is stored for re-embedding; so are vectors that are not unit length.
func TestImportChecksVectorSizes(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		st := newStore()
		// The model is not loaded (the CLI's import never loads it).
		s := newSvc(t, st, newFakeEmbedder("m", false), "p")
		const tiny = "bert-tiny-synthetic"
		four := `[0.5,0.5,0.5,0.5]`
		if _, err := s.Import(ctx, strings.NewReader(`{"content":"seed","vector":`+four+`,"model":"`+tiny+`","dims":4}`+"\n"), ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		lines := []string{
			/* 1 */ `{"content":"x","vector":[1,2,3],"model":"` + tiny + `","dims":3}`, // the line: not unit length either
			/* 2 */ `{"content":"unit but 3 dims","vector":[0.6,0.8,0],"model":"` + tiny + `","dims":3}`,
			/* 3 */ `{"content":"right size","vector":[0.5,-0.5,0.5,-0.5],"model":"` + tiny + `","dims":4}`,
			/* 4 */ `{"content":"new model sets 2","vector":[0.6,0.8],"model":"other","dims":2}`,
			/* 5 */ `{"content":"new model wrong size","vector":[1,0,0],"model":"other","dims":3}`,
		}
		res, err := s.Import(ctx, strings.NewReader(strings.Join(lines, "\n")), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var dropped []int
		for _, d := range res.Dropped {
			dropped = append(dropped, d.Line)
			if !strings.Contains(d.Error, "vector dropped") || !strings.Contains(d.Error, "embedded again") {
				t.Errorf("line %d: %q does not say the vector was dropped and the memory will be re-embedded", d.Line, d.Error)
			}
		}
		if got := intsString(dropped); got != "1,2,5" || res.Imported != 5 || res.VectorsKept != 2 || res.VectorsDropped != 3 || res.BadLines != 0 {
			t.Fatalf("dropped lines %s, want 1,2,5: %+v", got, res)
		}
		if !strings.Contains(res.Dropped[1].Error, tiny+" vectors have 4 dimensions, this one has 3") {
			t.Errorf("line 2: %q", res.Dropped[1].Error)
		}
		stats, _ := st.Stats(ctx)
		if len(stats.DimsByModel[tiny]) != 1 || stats.DimsByModel[tiny][4] != 2 || len(stats.DimsByModel["other"]) != 1 {
			t.Fatalf("store holds vectors of mixed sizes: %v", stats.DimsByModel)
		}
		if stats.ByModel[""] != 3 {
			t.Fatalf("want the 3 memories whose vectors were dropped stored without one (for re-embedding): %v", stats.ByModel)
		}

		// A loaded model's own size wins over everything.
		ready := newSvc(t, st, newFakeEmbedder("m", true), "p")
		res, err = ready.Import(ctx, strings.NewReader(`{"content":"claims m","vector":[0.6,0.8],"model":"m","dims":2}`), ImportOptions{})
		if err != nil || res.VectorsDropped != 1 || len(res.Dropped) != 1 || !strings.Contains(res.Dropped[0].Error, "m vectors have 64 dimensions") {
			t.Fatalf("vector of the loaded model with the wrong size: %+v %v", res, err)
		}
	})
}

// TestImportKeepsProvenance: the line's source is kept and the import is
// recorded in metadata; a line whose id belongs to another memory is a
// per-line error (never a silent new id); a line dated in the future is
// refused.
func TestImportKeepsProvenance(t *testing.T) {
	forEachStore(t, func(t *testing.T, newStore func() memory.Store) {
		ctx := context.Background()
		s := newSvc(t, newStore(), newFakeEmbedder("m", true), "p")
		r, err := s.Remember(ctx, RememberRequest{Content: "already here", Source: memory.SourceMCP})
		if err != nil {
			t.Fatal(err)
		}
		freeID := memory.NewID(time.Now().Add(-time.Hour))
		lines := []string{
			/* 1 */ `{"id":"` + freeID + `","content":"from a hook","source":"hook","created_at":"2026-01-02T03:04:05Z"}`,
			/* 2 */ `{"id":"` + r.ID + `","content":"other text under a taken id"}`,
			/* 3 */ `{"id":"` + r.ID + `","content":"already here","project":"p"}`, // the same memory: a duplicate
			/* 4 */ `{"content":"from the year 9999","created_at":"9999-01-01T00:00:00Z"}`,
			/* 5 */ `{"content":"no source given"}`,
		}
		res, err := s.Import(ctx, strings.NewReader(strings.Join(lines, "\n")), ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Imported != 2 || res.Duplicates != 1 || res.BadLines != 2 || res.Bad[0].Line != 2 || res.Bad[1].Line != 4 {
			t.Fatalf("result: %+v", res)
		}
		if !strings.Contains(res.Bad[0].Error, "id "+r.ID+" already belongs to another memory (different content)") {
			t.Errorf("line 2: %q", res.Bad[0].Error)
		}
		if !strings.Contains(res.Bad[1].Error, "created_at") || !strings.Contains(res.Bad[1].Error, "in the future") {
			t.Errorf("line 4: %q", res.Bad[1].Error)
		}
		m, err := s.Get(ctx, freeID)
		if err != nil || m.Source != memory.SourceHook {
			t.Fatalf("source of line 1 not kept: %+v %v", m, err)
		}
		if at, _ := m.Metadata[ImportedAtKey].(string); at == "" {
			t.Errorf("the import is not recorded in metadata: %v", m.Metadata)
		}
		ms, _ := s.List(ctx, ListRequest{Project: "*"})
		for _, m := range ms {
			if m.Content == "other text under a taken id" || m.Content == "from the year 9999" {
				t.Errorf("refused line stored: %+v", m)
			}
			if m.Content == "no source given" && m.Source != memory.SourceImport {
				t.Errorf("a line without a source: source %q, want import", m.Source)
			}
		}
		if len(ms) != 3 {
			t.Errorf("want 3 memories, got %d", len(ms))
		}
	})
}

// TestReembedRepairsBrokenVectors: reembed replaces vectors stamped with the
// current model that cannot be its (another size) or cannot be read
// (non-finite values written behind the store's back), which the ordinary
// "other model or none" pass never lists.
func TestReembedRepairsBrokenVectors(t *testing.T) {
	ctx := context.Background()
	st := storeFactories["sqlite"](t).(*sqlite.Store)
	emb := newFakeEmbedder("m", true)
	s := newSvc(t, st, emb, "p")
	for _, c := range []string{"good one", "nan one"} {
		if _, err := s.Remember(ctx, RememberRequest{Content: c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Put(ctx, &memory.Memory{Content: "wrong size", Project: "p", Source: memory.SourceImport,
		Vector: []float32{0.6, 0.8}, Model: "m", Dims: 2}); err != nil {
		t.Fatal(err)
	}
	nan := make([]byte, 4*64)
	copy(nan, []byte{0, 0, 0xc0, 0x7f})
	if _, err := st.DB().Exec(`UPDATE memories SET vector = ? WHERE content = 'nan one'`, nan); err != nil {
		t.Fatal(err)
	}
	n, err := s.Reembed(ctx, nil)
	if err != nil || n != 2 {
		t.Fatalf("reembed: %d %v, want the 2 broken vectors replaced", n, err)
	}
	stats, _ := st.Stats(ctx)
	if len(stats.DimsByModel["m"]) != 1 || stats.DimsByModel["m"][64] != 3 {
		t.Errorf("sizes after reembed: %v", stats.DimsByModel)
	}
	if bad, err := st.CheckVectors(ctx, 0); err != nil || len(bad) != 0 {
		t.Errorf("bad vectors after reembed: %v %v", bad, err)
	}
}
