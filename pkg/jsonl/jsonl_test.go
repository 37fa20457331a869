package jsonl

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
)

var lim = Limits{MaxContentBytes: 100}

func TestParseLineValid(t *testing.T) {
	id := memory.NewID(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	line := `{"id":"` + id + `","content":"hello world","project":"p1","tags":[" Go ","go","db"],` +
		`"metadata":{"n":12345678901234567890,"s":"x"},"source":"mcp","created_at":"2026-01-02T03:04:05Z",` +
		`"vector":[0.6000002,0.8],"model":"m","dims":2,"unknown_future_field":true}`
	rec, err := ParseLine([]byte(line), lim)
	if err != nil {
		t.Fatal(err)
	}
	m := rec.Memory
	if m.ID != id || m.Content != "hello world" || m.Project != "p1" || m.Source != memory.SourceMCP {
		t.Fatalf("fields: %+v", m)
	}
	if !reflect.DeepEqual(m.Tags, []string{"db", "go"}) {
		t.Fatalf("tags not normalised: %v", m.Tags)
	}
	if m.ContentHash != memory.ContentHash("hello world") {
		t.Fatal("content hash not computed")
	}
	if got := m.Metadata["n"]; got == nil || got.(interface{ String() string }).String() != "12345678901234567890" {
		t.Fatalf("big integer metadata lost precision: %v", got)
	}
	if !m.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("created_at %v", m.CreatedAt)
	}
	if rec.VectorDropped != "" || m.Model != "m" || m.Dims != 2 ||
		math.Abs(float64(m.Vector[0])-0.6) > 1e-6 || math.Abs(float64(m.Vector[1])-0.8) > 1e-6 {
		t.Fatalf("vector not kept normalised: %v %q", m.Vector, rec.VectorDropped)
	}
}

// TestParseLineRefusesFutureTimes: a line dated beyond Now + MaxFutureSkew
// (year 9999 would list first forever) is refused with a per-line error;
// within the skew it is kept.
func TestParseLineRefusesFutureTimes(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	l := Limits{MaxContentBytes: 100, Now: now}
	for _, c := range []struct{ line, want string }{
		{`{"content":"x","created_at":"9999-12-31T00:00:00Z"}`, `created_at "9999-12-31T00:00:00Z" is in the future`},
		{`{"content":"x","updated_at":"2026-05-02T12:00:01Z"}`, "updated_at"},
		{`{"content":"x","accessed_at":"2027-01-01T00:00:00Z"}`, "more than 24h after now"},
	} {
		if _, err := ParseLine([]byte(c.line), l); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseLine(%s) = %v, want an error containing %q", c.line, err, c.want)
		}
	}
	rec, err := ParseLine([]byte(`{"content":"x","created_at":"2026-05-02T11:00:00Z"}`), l)
	if err != nil || !rec.Memory.CreatedAt.Equal(now.Add(23*time.Hour)) {
		t.Fatalf("a time within the skew: %v %v", rec.Memory.CreatedAt, err)
	}
}

func TestParseLineVersions(t *testing.T) {
	old, nu := "01HZY3G7Q5E2M8R9T0V1W2X3Y4", "01HZY3G7Q5E2M8R9T0V1W2X3Y5"
	rec, err := ParseLine([]byte(`{"id":"`+nu+`","content":"v2","supersedes":["`+old+`"],"pinned":true,"recall_count":3}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m := rec.Memory; len(m.Supersedes) != 1 || m.Supersedes[0] != old || !m.Pinned || m.RecallCount != 3 || m.SupersededBy != "" {
		t.Errorf("new version: %+v", m)
	}
	rec, err = ParseLine([]byte(`{"id":"`+old+`","content":"v1","superseded_by":"`+nu+`"}`), Limits{})
	if err != nil || rec.Memory.SupersededBy != nu || rec.Memory.Supersedes != nil {
		t.Errorf("old version: %+v %v", rec.Memory, err)
	}
}

func TestParseLineErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{`not json`, "not a JSON object"},
		{`[1,2]`, "not a JSON object"},
		{`{"content": "x"`, "invalid JSON"},
		{`{"content": "x"} trailing`, "invalid JSON"},
		{`{}`, `missing required field "content"`},
		{`{"content": "   "}`, "content is empty"},
		{`{"content": 5}`, "field content: want a string"},
		{`{"content": "` + strings.Repeat("x", 101) + `"}`, "101 bytes, over the limit of 100"},
		{`{"content": "x", "id": "nope"}`, `id "nope" is not a memory id`},
		{`{"content": "x", "project": " "}`, "project: empty project name"},
		{`{"content": "x", "project": "*"}`, "project:"},
		{`{"content": "x", "tags": ["a,b"]}`, "tags: tag \"a,b\" contains a comma"},
		{`{"content": "x", "tags": "a"}`, "field tags: want an array"},
		{`{"content": "x", "tags": [1]}`, "field tags"},
		{`{"content": "x", "metadata": [1]}`, "metadata: want a JSON object"},
		{`{"content": "x", "metadata": "s"}`, "metadata: want a JSON object"},
		{`{"content": "x", "created_at": "yesterday"}`, `created_at "yesterday" is not an RFC 3339 time`},
		{`{"content": "x", "updated_at": 5}`, "field updated_at"},
		{`{"content": "x", "supersedes": ["nope"]}`, `supersedes: "nope" is not the id of another memory`},
		{`{"content": "x", "supersedes": "01HZY3G7Q5E2M8R9T0V1W2X3Y4"}`, "field supersedes: want an array"},
		{`{"content": "x", "id": "01HZY3G7Q5E2M8R9T0V1W2X3Y4", "superseded_by": "01HZY3G7Q5E2M8R9T0V1W2X3Y4"}`, "superseded_by"},
		{`{"content": "x", "recall_count": -1}`, "recall_count is negative"},
		{`{"content": "x", "pinned": "yes"}`, "field pinned"},
	}
	for _, c := range cases {
		_, err := ParseLine([]byte(c.line), lim)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseLine(%.40q) = %v, want error containing %q", c.line, err, c.want)
		}
	}
}

func TestParseLineDropsInconsistentVectors(t *testing.T) {
	cases := map[string]string{
		`"vector":[1,2],"dims":2`:                                 "no model",
		`"vector":[1,2],"model":"m","dims":3`:                     "dims says 3",
		`"vector":[1,2],"model":"m"`:                              "dims says 0",
		`"vector":[0,0],"model":"m","dims":2`:                     "all zeros",
		`"vector":["a"],"model":"m","dims":1`:                     "not an array of numbers",
		`"vector":[1e300,1],"model":"m","dims":2`:                 "non-finite",
		`"vector":[3,4],"model":"m","dims":2`:                     "length 5, not 1",
		`"vector":[1,2,3],"model":"bert-tiny-synthetic","dims":3`: "not 1",
		`"vector":{"x":1},"model":"m","dims":1`:                   "not an array of numbers",
	}
	for frag, want := range cases {
		rec, err := ParseLine([]byte(`{"content":"x",`+frag+`}`), lim)
		if err != nil {
			t.Fatalf("%s: a bad vector must not reject the line: %v", frag, err)
		}
		if rec.Memory.Vector != nil || rec.Memory.Model != "" || !strings.Contains(rec.VectorDropped, want) {
			t.Errorf("%s: vector %v model %q dropped %q, want dropped containing %q", frag, rec.Memory.Vector, rec.Memory.Model, rec.VectorDropped, want)
		}
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	created := time.Date(2025, 5, 6, 7, 8, 9, 123456789, time.UTC)
	m := memory.Memory{
		ID: memory.NewID(created), Content: "a <b> & \"c\"\nline two", Project: "proj",
		Tags: []string{"x", "y"}, Metadata: map[string]any{"k": "v"}, Source: memory.SourceCLI,
		CreatedAt: created, UpdatedAt: created, AccessedAt: created.Add(time.Hour),
		Vector: []float32{0.6, 0.8}, Model: "mod", Dims: 2,
	}
	for _, withVec := range []bool{false, true} {
		var buf bytes.Buffer
		if err := Write(&buf, m, withVec); err != nil {
			t.Fatal(err)
		}
		if bytes.Count(buf.Bytes(), []byte("\n")) != 1 || !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
			t.Fatalf("not exactly one line: %q", buf.String())
		}
		rec, err := ParseLine(bytes.TrimRight(buf.Bytes(), "\n"), Limits{MaxContentBytes: 1000})
		if err != nil {
			t.Fatal(err)
		}
		got := rec.Memory
		if got.ID != m.ID || got.Content != m.Content || got.Project != m.Project || !got.CreatedAt.Equal(m.CreatedAt) ||
			!got.AccessedAt.Equal(m.AccessedAt) || !reflect.DeepEqual(got.Tags, m.Tags) || got.Metadata["k"] != "v" {
			t.Fatalf("round trip changed the memory:\n%+v\n%+v", m, got)
		}
		if withVec != (got.Vector != nil) || (withVec && got.Model != "mod") {
			t.Fatalf("withVector=%v: got vector %v model %q", withVec, got.Vector, got.Model)
		}
	}
}

func TestReaderLines(t *testing.T) {
	long := strings.Repeat("x", 200)
	in := "\xef\xbb\xbf{\"a\":1}\r\n\n   \n" + long + "\n{\"b\":2}\n{\"c\":3}"
	r := NewReader(strings.NewReader(in), 50)
	type got struct {
		n    int
		line string
		err  bool
	}
	var all []got
	for {
		n, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, ErrLineTooLong) {
			t.Fatal(err)
		}
		all = append(all, got{n, string(line), err != nil})
	}
	want := []got{{1, `{"a":1}`, false}, {4, "", true}, {5, `{"b":2}`, false}, {6, `{"c":3}`, false}}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("lines:\n got %v\nwant %v", all, want)
	}
}

// FuzzParseLine feeds arbitrary lines to the import parser: it must never
// panic, and whatever it accepts must be a valid memory that survives a
// write/parse round trip unchanged.
func FuzzParseLine(f *testing.F) {
	id := memory.NewID(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for _, s := range []string{
		`{"content":"hello"}`,
		`{"id":"` + id + `","content":"x","project":"p","tags":["A","b"],"metadata":{"k":[1,{"z":null}]},"created_at":"2026-01-02T03:04:05.5+02:00","source":"hook"}`,
		`{"content":"v","vector":[0.1,-0.2,0.3],"model":"m","dims":3}`,
		`{"content":"v","vector":[0,0],"model":"m","dims":2}`,
		`{"content":"v","vector":[1e39],"model":"m","dims":1}`,
		`{"content":"\u0000\ud800","tags":["\u00e9"]}`,
		`{"content":"x","metadata":null,"tags":null,"id":""}`,
		`{"content":"x","created_at":"0001-01-01T00:00:00Z"}`,
		`{"content":""}`, `{}`, `[]`, `null`, `{"content":1}`, `{"content":"x"}{}`,
		`{"content":"x","project":"` + strings.Repeat("p", 300) + `"}`,
		"{\"content\":\"x\",\"tags\":[\"a\\nb\"]}",
		`{"id":"` + id + `","content":"v2","supersedes":["01HZY3G7Q5E2M8R9T0V1W2X3Y4"],"pinned":true,"recall_count":3}`,
		`{"content":"v1","superseded_by":"` + id + `"}`, `{"content":"x","supersedes":["` + id + `","` + id + `"]}`,
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxContentBytes: 1 << 10}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseLine(line, lim)
		if err != nil {
			if rec.Memory.Content != "" {
				t.Fatal("error with a non-empty record")
			}
			return
		}
		m := rec.Memory
		if strings.TrimSpace(m.Content) == "" || len(m.Content) > lim.MaxContentBytes {
			t.Fatalf("accepted bad content %q", m.Content)
		}
		if m.ID != "" && !memory.ValidID(m.ID) {
			t.Fatalf("accepted bad id %q", m.ID)
		}
		if m.Project != "" && memory.ValidateProject(m.Project) != nil {
			t.Fatalf("accepted bad project %q", m.Project)
		}
		if norm, err := memory.NormalizeTags(m.Tags); err != nil || !reflect.DeepEqual(norm, m.Tags) && len(m.Tags) > 0 {
			t.Fatalf("tags not normalised: %q", m.Tags)
		}
		if m.Vector != nil {
			if len(m.Vector) != m.Dims || m.Model == "" {
				t.Fatalf("inconsistent vector: %d values, dims %d, model %q", len(m.Vector), m.Dims, m.Model)
			}
			var n float64
			for _, x := range m.Vector {
				n += float64(x) * float64(x)
			}
			if math.Abs(n-1) > 1e-3 {
				t.Fatalf("vector not normalised: |v|²=%v", n)
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, m, true); err != nil {
			t.Fatalf("cannot write an accepted record: %v", err)
		}
		again, err := ParseLine(bytes.TrimRight(buf.Bytes(), "\n"), lim)
		if err != nil {
			t.Fatalf("written line does not parse again: %v\n%s", err, buf.String())
		}
		a := again.Memory
		if a.Content != m.Content || a.ID != m.ID || a.Project != m.Project || !reflect.DeepEqual(a.Tags, m.Tags) ||
			!a.CreatedAt.Equal(m.CreatedAt) || len(a.Vector) != len(m.Vector) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", m, a)
		}
	})
}
