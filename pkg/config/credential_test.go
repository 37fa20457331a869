package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestClassifiedVarsExist(t *testing.T) {
	for _, set := range []map[string]bool{credentialVars, pathVars} {
		for name := range set {
			if v, ok := Lookup(name); !ok || v.TestOnly() {
				t.Errorf("%s is classified but is not one of the program's Vars", name)
			}
		}
	}
	if v, _ := Lookup("MNEMO_STORE"); !v.MayHoldCredential() || v.FileKey() != "store" {
		t.Errorf("MNEMO_STORE: credential %v, file key %q", v.MayHoldCredential(), v.FileKey())
	}
}

func TestCredential(t *testing.T) {
	const pw = "s3cr3t-Pa55"
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"MNEMO_STORE", "postgres://ann:" + pw + "@db.example.com:5432/mnemo", true},
		{"MNEMO_STORE", "postgres://ann:password@db/mnemo", true}, // a placeholder-like word is still a password here
		{"MNEMO_STORE", "postgres://ann@db/mnemo?sslmode=require&password=" + pw, true},
		{"MNEMO_STORE", "postgresql://ann:" + pw + "/x#y@db/mnemo", true}, // net/url cannot parse it
		{"MNEMO_STORE", "host=db user=ann password=" + pw + " dbname=mnemo", true},
		{"MNEMO_STORE", "host=db user=ann password='" + pw + " x' dbname=mnemo", true},
		{"MNEMO_STORE", "postgres://ann@db.example.com/mnemo", false},
		{"MNEMO_STORE", "host=db user=ann dbname=mnemo", false},
		{"MNEMO_HUB_URL", "https://ann:" + pw + "@mirror.example.com", true},
		{"MNEMO_HUB_URL", "https://mirror.example.com", false},
		{"MNEMO_GOMLX_CONFIG", "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl398Zpkpm", true}, // redact's detector
		{"MNEMO_MODEL", "/home/ann/models/minilm", false},
		{"MNEMO_MODEL", "sentence-transformers/all-MiniLM-L6-v2", false},
	} {
		kind, got := Credential(c.name, c.value)
		if got != c.want {
			t.Errorf("Credential(%s, %q) = %v (%s), want %v", c.name, c.value, got, kind, c.want)
		}
		if strings.Contains(kind, pw) {
			t.Errorf("Credential's kind shows the password: %q", kind)
		}
		masked := MaskCredential(c.name, c.value)
		if c.want && (strings.Contains(masked, pw) || strings.Contains(masked, "ghp_")) {
			t.Errorf("MaskCredential(%s, %q) = %q: the secret is still there", c.name, c.value, masked)
		}
		if !c.want && masked != c.value {
			t.Errorf("MaskCredential(%s, %q) = %q, want it unchanged", c.name, c.value, masked)
		}
	}
}

func TestUnderHome(t *testing.T) {
	base := t.TempDir() // absolute on every system
	home := filepath.Join(base, "ann")
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"MNEMO_HOME", filepath.Join(home, ".local", "share", "mnemo"), true},
		{"MNEMO_MODEL", filepath.Join(home, "models", "minilm"), true},
		{"MNEMO_MODEL", "sentence-transformers/all-MiniLM-L6-v2", false},
		{"MNEMO_MODEL", filepath.Join(base, "opt", "models", "minilm"), false},
		{"MNEMO_HOME", filepath.Join(base, "annie", "data"), false},
		{"MNEMO_LOG_LEVEL", filepath.Join(home, "x"), false}, // not a path variable
	} {
		if got := UnderHome(c.name, c.value, home); got != c.want {
			t.Errorf("UnderHome(%s, %q) = %v, want %v", c.name, c.value, got, c.want)
		}
	}
}
