package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The configuration file, for people who prefer one to environment
// variables: flat TOML, one `key = value` per line, the key a variable's
// name with or without MNEMO_ and in any case (`model = "…"` sets
// MNEMO_MODEL), a value quoted or bare; `#` starts a comment. A variable
// set (non-empty) in the environment overrides the file.

// Source says where a setting's value came from.
type Source string

const (
	SourceDefault Source = "default"
	SourceFile    Source = "file"
	SourceEnv     Source = "env"
)

// Setting is one variable's effective value and where it came from.
type Setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source Source `json:"source"`
}

// configVar is MNEMO_CONFIG: read before the others, since it says where
// the file is.
const configVar = "MNEMO_CONFIG"

// defaultConfigPath is the platform's place for the file, from the
// environment lookup (so tests with their own lookup read no real file).
func defaultConfigPath(goos string, get func(string) string) string {
	switch goos {
	case "windows":
		if d := get("AppData"); d != "" {
			return filepath.Join(d, "mnemo", "config.toml")
		}
		return ""
	case "darwin", "ios":
		if h := get("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support", "mnemo", "config.toml")
		}
		return ""
	}
	if d := get("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "mnemo", "config.toml")
	}
	if h := get("HOME"); h != "" {
		return filepath.Join(h, ".config", "mnemo", "config.toml")
	}
	return ""
}

// fileValue is one setting of the file.
type fileValue struct {
	value string
	line  int
}

// readConfigFile parses the file at path; a missing file is no settings
// unless required (MNEMO_CONFIG named it).
func readConfigFile(path string, required bool) (map[string]fileValue, error) {
	out := map[string]fileValue{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !required {
			return out, nil
		}
		return out, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := fmt.Sprintf("%s:%d", path, n)
		if strings.HasPrefix(line, "[") {
			return out, fmt.Errorf("%s: sections are not supported: write `key = value` lines at the top level", where)
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return out, fmt.Errorf("%s: want `key = value`, got %q", where, line)
		}
		name := strings.ToUpper(strings.TrimSpace(k))
		if !strings.HasPrefix(name, "MNEMO_") {
			name = "MNEMO_" + name
		}
		if cv, ok := Lookup(name); !ok || cv.TestOnly() || name == configVar {
			return out, fmt.Errorf("%s: unknown setting %q (mnemo help environment lists them)", where, strings.TrimSpace(k))
		}
		val, err := parseFileValue(strings.TrimSpace(v))
		if err != nil {
			return out, fmt.Errorf("%s: %s: %v", where, strings.TrimSpace(k), err)
		}
		if prev, dup := out[name]; dup {
			return out, fmt.Errorf("%s: %s is already set on line %d", where, strings.TrimSpace(k), prev.line)
		}
		out[name] = fileValue{value: val, line: n}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("config file %s: %w", path, err)
	}
	return out, nil
}

// parseFileValue reads a TOML string ("…" or '…'), a bare number or
// boolean, ignoring a trailing comment.
func parseFileValue(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		end := -1
		for i := 1; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '"' {
				end = i
				break
			}
		}
		if end < 0 {
			return "", errors.New("unterminated string")
		}
		s, err := strconv.Unquote(v[:end+1])
		if err != nil {
			return "", fmt.Errorf("bad string %s", v[:end+1])
		}
		if rest := strings.TrimSpace(v[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Errorf("unexpected %q after the value", rest)
		}
		return s, nil
	case strings.HasPrefix(v, "'"):
		end := strings.Index(v[1:], "'")
		if end < 0 {
			return "", errors.New("unterminated string")
		}
		if rest := strings.TrimSpace(v[end+2:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Errorf("unexpected %q after the value", rest)
		}
		return v[1 : end+1], nil
	}
	if i := strings.Index(v, "#"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if v == "" {
		return "", errors.New("no value")
	}
	return v, nil
}
