package config

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mnemo-mcp/mnemo/pkg/redact"
)

// What a variable's value may be, beyond what its parser accepts: the
// checks that decide where a value may be written (`mnemo install --scope
// project` writes the MNEMO_* settings into files meant to be committed)
// and what may be printed read these. A test holds every name to Vars.
var (
	// credentialVars may carry a credential: a store URL or DSN with a
	// password (postgres://user:pass@…, ?password=…, password=…), a model
	// mirror's URL with user:token@.
	credentialVars = map[string]bool{"MNEMO_STORE": true, "MNEMO_HUB_URL": true}
	// pathVars name a file or folder of this machine (MNEMO_MODEL when it
	// is not a Hugging Face repo id).
	pathVars = map[string]bool{configVar: true, "MNEMO_HOME": true, "MNEMO_CACHE": true, "MNEMO_MODEL": true}
)

// MayHoldCredential reports whether the variable's value may carry a
// credential (a password in a store URL, say): such a value is checked
// for one before it is written anywhere or printed.
func (v Var) MayHoldCredential() bool { return credentialVars[v.Name] }

// IsPath reports whether the variable's value names a file or folder
// (MNEMO_MODEL: or a Hugging Face repo id).
func (v Var) IsPath() bool { return pathVars[v.Name] }

// FileKey is the variable's key in the configuration file: its name
// without MNEMO_, in lower case (`store` for MNEMO_STORE).
func (v Var) FileKey() string { return strings.ToLower(strings.TrimPrefix(v.Name, "MNEMO_")) }

// dsnPassword finds a password in a PostgreSQL keyword/value connection
// string (host=… user=… password=…).
var dsnPassword = regexp.MustCompile(`(?i)(^|\s)((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Credential reports whether value, as the value of the variable name,
// holds a credential, and says what kind in words ("a password in the
// URL"); it never returns the credential. A variable that may hold one
// (MayHoldCredential) counts any password at all, even a placeholder-like
// one; every value also goes through pkg/redact's detector (provider
// tokens, private keys, passwords in connection strings …).
func Credential(name, value string) (kind string, found bool) {
	if credentialVars[name] {
		if u, ok := parseURL(value); ok {
			if pw, set := u.User.Password(); set && pw != "" {
				return "a password in the URL", true
			}
			for k, vs := range u.Query() {
				if isPasswordKey(k) && len(vs) > 0 && vs[0] != "" {
					return "a " + strings.ToLower(k) + " parameter in the URL", true
				}
			}
		} else if userinfoPassword(value) {
			// A URL net/url (and so the PostgreSQL driver) cannot parse, a
			// '/' or '#' in its password, say: still nothing to write out.
			return "a password in the URL", true
		} else if m := dsnPassword.FindStringSubmatch(value); m != nil && strings.Trim(m[3], "'") != "" {
			return "a " + strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[2]), "="))) + "= setting", true
		}
	}
	if _, fs := redact.String(value); len(fs) > 0 {
		kinds := make([]string, len(fs))
		for i, f := range fs {
			kinds[i] = f.Kind
		}
		return "what looks like a credential: " + strings.Join(kinds, ", "), true
	}
	return "", false
}

// MaskCredential returns value with any credential Credential finds
// replaced (a URL's password by xxxxx, as url.URL.Redacted does, a
// token by pkg/redact's marker), for printing.
func MaskCredential(name, value string) string {
	if credentialVars[name] {
		if u, ok := parseURL(value); ok {
			q := u.Query()
			masked := false
			for k := range q {
				if isPasswordKey(k) {
					q.Set(k, "xxxxx")
					masked = true
				}
			}
			if masked {
				u.RawQuery = q.Encode()
			}
			value = u.Redacted()
		} else if userinfoPassword(value) {
			scheme, rest, _ := strings.Cut(value, "://")
			value = scheme + "://xxxxx" + rest[strings.LastIndex(rest, "@"):]
		} else {
			value = dsnPassword.ReplaceAllString(value, "${1}${2}xxxxx")
		}
	}
	out, _ := redact.String(value)
	return out
}

func isPasswordKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}

// parseURL parses value when it is a URL with a scheme (postgres://…).
func parseURL(value string) (*url.URL, bool) {
	if !strings.Contains(value, "://") {
		return nil, false
	}
	u, err := url.Parse(value)
	if err != nil || u.Scheme == "" {
		return nil, false
	}
	return u, true
}

// userinfoPassword reports a user:password@ part in a value with a
// scheme that net/url does not parse.
func userinfoPassword(value string) bool {
	_, rest, ok := strings.Cut(value, "://")
	if !ok {
		return false
	}
	at := strings.LastIndex(rest, "@")
	return at > 0 && strings.Contains(rest[:at], ":")
}

// UnderHome reports whether value (of a path variable) is an absolute
// path inside home: a folder only this user's machine has, which a file
// shared with others should not name.
func UnderHome(name, value, home string) bool {
	if !pathVars[name] || home == "" || !filepath.IsAbs(value) {
		return false
	}
	rel, err := filepath.Rel(home, value)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
