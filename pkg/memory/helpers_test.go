package memory

import (
	"errors"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"
)

func TestNewIDSortableAndUnique(t *testing.T) {
	seen := map[string]bool{}
	var ids []string
	now := time.Now()
	for i := 0; i < 1000; i++ {
		id := NewID(now)
		if seen[id] || !ValidID(id) {
			t.Fatalf("duplicate or invalid id %q", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids from one process are not monotonic")
	}
	if NewID(now.Add(time.Second)) <= ids[len(ids)-1] {
		t.Fatal("a later id does not sort after an earlier one")
	}
	if ValidID("nope") || ValidID("") {
		t.Fatal("ValidID accepted garbage")
	}
}

func TestNormalizeTags(t *testing.T) {
	got, err := NormalizeTags([]string{" Go ", "sqlite", "go", "MCP"})
	if err != nil || len(got) != 3 || got[0] != "go" || got[1] != "mcp" || got[2] != "sqlite" {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range [][]string{{""}, {"a,b"}, {"x\ty"}, {string(make([]byte, MaxTagLen+1))}} {
		if _, err := NormalizeTags(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeTags(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestValidateProject(t *testing.T) {
	if err := ValidateProject("github.com/x/y"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", " ", "*", "a\x00b"} {
		if err := ValidateProject(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateProject(%q) = %v", bad, err)
		}
	}
}

func TestFuseRRF(t *testing.T) {
	kw := []Ranked{{ID: "a", Score: 3}, {ID: "b", Score: 2}}
	sem := []Ranked{{ID: "c", Score: 0.9}, {ID: "a", Score: 0.8}}
	got := Fuse(kw, sem)
	if len(got) != 3 || got[0].ID != "a" {
		t.Fatalf("a is in both rankings and must lead: %+v", got)
	}
	want := 1.0/61 + 1.0/62
	if math.Abs(got[0].Score-want) > 1e-12 || got[0].KeywordRank != 1 || got[0].SemanticRank != 2 || got[0].Similarity != 0.8 {
		t.Fatalf("wrong fused entry %+v", got[0])
	}
	// b (keyword rank 2) and c (semantic rank 1): c scores 1/61 > b's 1/62.
	if got[1].ID != "c" || got[2].ID != "b" {
		t.Fatalf("order %+v", got)
	}
}

// A normalised query is taken as it is: the store does not check again a
// query the service normalised.
func TestQueryNormalizedOnce(t *testing.T) {
	if _, err := (Query{Mode: "fuzzy"}).Normalize(); err == nil {
		t.Fatal("bad mode accepted")
	}
	q, err := Query{Text: "x"}.Normalize()
	if err != nil || q.K != DefaultK || q.Mode != ModeHybrid || !q.normalized {
		t.Fatalf("%+v %v", q, err)
	}
	q2, err := q.Normalize()
	if err != nil || !reflect.DeepEqual(q, q2) {
		t.Fatalf("normalising again changed the query: %+v %v", q2, err)
	}
}
