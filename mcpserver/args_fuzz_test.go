package mcpserver

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mnemo-mcp/mnemo/pkg/memory"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// FuzzDecodeArgs feeds arbitrary argument JSON to every tool's decoder and
// checks. It must never panic; every rejection must be an argError (a tool
// error for the model, never an internal failure); and whatever is accepted
// must satisfy the limits the rest of the server relies on.
//
//	go test ./mcpserver/ -run '^$' -fuzz FuzzDecodeArgs -fuzztime 30s
//
// The seeds below run as a normal test on every `go test`.
func FuzzDecodeArgs(f *testing.F) {
	seeds := []string{
		``, `null`, `{}`, `[]`, `"x"`, `42`, `true`, `{"content":"hello"}`,
		`{"content":"hello","tags":["a","B"," c "],"project":"p","metadata":{"k":[1,2,{"x":null}]}}`,
		`{"content":"x","tags":"a,b"}`, `{"content":"x","tags":[1,2]}`, `{"content":"x","tags":[""]}`,
		`{"content":"x","project":"*"}`, `{"content":"x","metadata":[]}`, `{"content":123}`,
		`{"content":"x","Content":"y"}`, `{"content":"\u0000"}`, `{"content":"\xff\xfe"}`,
		`{"query":"q"}`, `{"query":"q","k":5}`, `{"query":"q","k":0}`, `{"query":"q","k":1e309}`, `{"query":"q","k":-1}`,
		`{"query":"q","k":"5"}`, `{"query":"q","k":5.5}`, `{"query":"q","mode":"semantic","since":"7d"}`,
		`{"query":"q","since":"2025-01-31"}`, `{"query":"q","since":"2025-01-31T12:00:00Z"}`, `{"query":"q","since":"1e99d"}`,
		`{"query":"q","since":"-5h"}`, `{"query":"q","since":"99999999999h"}`, `{"query":"q","project":"*"}`,
		`{"id":"01HZY3G7Q5E2M8R9T0V1W2X3Y4"}`, `{"ids":["01HZY3G7Q5E2M8R9T0V1W2X3Y4","01HZY3G7Q5E2M8R9T0V1W2X3Y4"]}`,
		`{"id":"zzz"}`, `{"ids":"01HZY3G7Q5E2M8R9T0V1W2X3Y4"}`, `{"ids":[null]}`,
		`{"limit":10,"offset":5}`, `{"limit":0}`, `{"offset":-3}`, `{"limit":9223372036854775807}`,
		`{"texts":["a","b"]}`, `{"texts":[]}`, `{"texts":"a"}`, `{"texts":[""]}`, `{"texts":[{"a":1}]}`,
		`{"query":"q","candidates":["a"]}`, `{"query":"q","candidates":null}`,
		`{"content":"x"} trailing`, `{"content":"x",}`, `{"a":{"b":{"c":{"d":[[[[[]]]]]}}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	const maxContent = 1 << 10
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		mustArgError := func(tool string, err error) bool {
			if err == nil {
				return false
			}
			var ae *argError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: %q: rejection is not an argError: %T %v", tool, raw, err, err)
			}
			if ae.msg == "" {
				t.Fatalf("%s: empty error message", tool)
			}
			return true
		}

		if a, err := decodeArgs[rememberArgs](raw); !mustArgError("remember", err) {
			if err := a.check(maxContent); !mustArgError("remember", err) {
				if strings.TrimSpace(a.Content) == "" || len(a.Content) > maxContent || !utf8.ValidString(a.Content) {
					t.Fatalf("remember accepted bad content %q", a.Content)
				}
				if _, err := memory.NormalizeTags(a.Tags); err != nil {
					t.Fatalf("remember accepted bad tags %q", a.Tags)
				}
				if a.Project != "" && memory.ValidateProject(a.Project) != nil {
					t.Fatalf("remember accepted bad project %q", a.Project)
				}
				if b, _ := json.Marshal(a.Metadata); len(b) > MaxMetadataBytes {
					t.Fatal("remember accepted oversized metadata")
				}
			}
		}
		if a, err := decodeArgs[recallArgs](raw); !mustArgError("recall", err) {
			if err := a.check(now); !mustArgError("recall", err) {
				if strings.TrimSpace(a.Query) == "" || len(a.Query) > MaxQueryBytes {
					t.Fatalf("recall accepted bad query %q", a.Query)
				}
				if a.K != nil && (*a.K < 1 || *a.K > service.MaxRecallK) {
					t.Fatalf("recall accepted k=%d", *a.K)
				}
				if a.Mode != "" && !memory.Mode(a.Mode).Valid() {
					t.Fatalf("recall accepted mode %q", a.Mode)
				}
				if a.Since != "" && a.since.IsZero() {
					t.Fatalf("recall accepted since %q without a time", a.Since)
				}
			}
		}
		if a, err := decodeArgs[forgetArgs](raw); !mustArgError("forget", err) {
			if ids, err := a.check(); !mustArgError("forget", err) {
				if len(ids) == 0 || len(ids) > MaxForgetIDs {
					t.Fatalf("forget accepted %d ids", len(ids))
				}
				for _, id := range ids {
					if !memory.ValidID(id) {
						t.Fatalf("forget accepted id %q", id)
					}
				}
			}
		}
		if a, err := decodeArgs[listArgs](raw); !mustArgError("list", err) {
			if err := a.check(); !mustArgError("list", err) {
				if a.Limit != nil && (*a.Limit < 1 || *a.Limit > MaxListLimit) || a.Offset != nil && *a.Offset < 0 {
					t.Fatal("list accepted out-of-range paging")
				}
			}
		}
		if a, err := decodeArgs[embedArgs](raw); !mustArgError("embed", err) {
			if err := a.check(maxContent); !mustArgError("embed", err) {
				if len(a.Texts) < 1 || len(a.Texts) > service.MaxEmbedTexts {
					t.Fatalf("embed accepted %d texts", len(a.Texts))
				}
			}
		}
		if a, err := decodeArgs[similarityArgs](raw); !mustArgError("similarity", err) {
			if err := a.check(maxContent); !mustArgError("similarity", err) {
				if len(a.Candidates) < 1 || len(a.Candidates) > service.MaxEmbedTexts || strings.TrimSpace(a.Query) == "" {
					t.Fatal("similarity accepted bad arguments")
				}
			}
		}
	})
}
