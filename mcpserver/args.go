package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

// All tool arguments enter here: decodeArgs turns the raw JSON into a typed
// struct strictly (unknown arguments and wrong types are errors that name the
// argument). What the values may be — lengths, ranges, tags, projects, ids —
// the memory service checks, once, for every entry point; its errors reach
// the model as tool errors (toolError). FuzzDecodeArgs exercises decoding.

// argError is a mistake in the caller's arguments; the handler turns it into
// a tool error (isError) so the model can correct itself.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func argErrorf(format string, a ...any) error { return &argError{fmt.Sprintf(format, a...)} }

// rawArguments returns the call's arguments as JSON bytes.
func rawArguments(req mcp.CallToolRequest) (json.RawMessage, error) {
	if len(req.Params.RawArguments) > 0 {
		return req.Params.RawArguments, nil
	}
	if req.Params.Arguments == nil {
		return nil, nil
	}
	b, err := json.Marshal(req.Params.Arguments)
	if err != nil {
		return nil, argErrorf("arguments are not valid JSON: %v", err)
	}
	return b, nil
}

// decodeArgs decodes raw (a JSON object, or empty/null for no arguments) into
// a new T, rejecting unknown arguments and values of the wrong type with an
// error naming the argument and the expected type.
func decodeArgs[T any](raw []byte) (T, error) {
	var v T
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return v, nil
	}
	if raw[0] != '{' {
		return v, argErrorf("arguments must be a JSON object with named arguments, got %s", jsonKind(raw))
	}
	// Reject keys that differ from a field only by case: encoding/json would
	// silently match them, hiding a typo from the caller.
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return v, argErrorf("arguments are not a valid JSON object: %v", err)
	}
	names := fieldNames(reflect.TypeOf(v))
	for k := range keys {
		if _, ok := names[k]; !ok {
			return v, argErrorf("unknown argument %q; this tool takes: %s", k, strings.Join(sortedKeys(names), ", "))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			name := te.Field
			return v, argErrorf("argument %q must be %s, got %s", name, names[topLevel(name)], describeJSONValue(te.Value))
		}
		return v, argErrorf("invalid arguments: %v", err)
	}
	return v, nil
}

// fieldNames maps each JSON argument name of struct type t to a description
// of its expected type, for error messages.
func fieldNames(t reflect.Type) map[string]string {
	out := map[string]string{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = describeType(f.Type)
	}
	return out
}

func describeType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	case reflect.Map:
		return "a JSON object"
	}
	return "a JSON value"
}

func describeJSONValue(v string) string {
	switch {
	case v == "":
		return "a value of another type"
	case strings.HasPrefix(v, "number"):
		return "a " + v
	case v == "array" || v == "object":
		return "an " + v
	}
	return "a " + v
}

func jsonKind(raw []byte) string {
	switch raw[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// topLevel returns the first path element of a json field path ("tags.0" → "tags").
func topLevel(field string) string {
	name, _, _ := strings.Cut(field, ".")
	return name
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// round4 keeps scores compact in JSON.
func round4(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*1e4) / 1e4
}
