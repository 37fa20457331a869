package mcpserver

import (
	"errors"
	"testing"
	"time"
)

// FuzzDecodeArgs feeds arbitrary argument JSON to every tool's decoder (and
// to recall's reading of since). It must never panic, and every rejection
// must be an argError (a tool error for the model, never an internal
// failure). What the decoded values may be is the memory service's to check
// (pkg/service), for every entry point.
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
		`{"content":"x","supersedes":"01HZY3G7Q5E2M8R9T0V1W2X3Y4"}`, `{"content":"x","supersedes":["01HZY3G7Q5E2M8R9T0V1W2X3Y4"]}`,
		`{"content":"x","supersedes":7}`, `{"content":"x","supersedes":[7]}`, `{"content":"x","supersedes":null}`, `{"content":"x","supersedes":{}}`,
		`{"id":"01HZY3G7Q5E2M8R9T0V1W2X3Y4","content":"y","tags":["a"]}`, `{"ids":["01HZY3G7Q5E2M8R9T0V1W2X3Y4"],"pinned":false}`,
		`{"id":"01HZY3G7Q5E2M8R9T0V1W2X3Y4","pinned":"yes"}`, `{"query":"q","include_superseded":true}`, `{"pinned":true,"include_superseded":1}`,
		`{"content":"x"} trailing`, `{"content":"x",}`, `{"a":{"b":{"c":{"d":[[[[[]]]]]}}}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
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

		_, err := decodeArgs[rememberArgs](raw)
		mustArgError("remember", err)
		if a, err := decodeArgs[recallArgs](raw); !mustArgError("recall", err) {
			if since, err := a.sinceTime(now); !mustArgError("recall", err) && a.Since != "" && since.IsZero() {
				t.Fatalf("recall accepted since %q without a time", a.Since)
			}
		}
		if a, err := decodeArgs[forgetArgs](raw); !mustArgError("forget", err) {
			want := len(a.IDs)
			if a.ID != "" {
				want++
			}
			if len(a.list()) != want {
				t.Fatalf("forget: %d ids from %q", len(a.list()), raw)
			}
		}
		_, err = decodeArgs[listArgs](raw)
		mustArgError("list", err)
		_, err = decodeArgs[embedArgs](raw)
		mustArgError("embed", err)
		_, err = decodeArgs[similarityArgs](raw)
		mustArgError("similarity", err)
		_, err = decodeArgs[editArgs](raw)
		mustArgError("edit", err)
		_, err = decodeArgs[pinArgs](raw)
		mustArgError("pin", err)
	})
}
