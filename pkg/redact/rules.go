package redact

// Rules ported from gitleaks (https://github.com/gitleaks/gitleaks),
// config/gitleaks.toml of v8.30.1, MIT License, Copyright (c) 2019 Zachary
// Rice; see LICENSE-gitleaks in this folder. The rule ids, regular expressions,
// secret groups, keywords and entropy thresholds are gitleaks'; what differs
// is said next to the rule. gitleaks' allowlists are left out on purpose:
// they are tuned for scanning repositories full of documentation examples
// (AWS's AKIA…EXAMPLE key is allowlisted there), while a memory store would
// rather lose an example key than keep a real one.
//
// One change to gitleaks' expressions throughout: Go's regexp compiles a
// bounded repetition {n,m} as m copies of its operand, so the long bounds
// ({0,100} in private-key, {50,1000} in pypi-upload-token) are open-ended
// here; that only widens what they match.
//
// The rules after the gitleaks block are mnemo's own (connection strings,
// assignments, bearer headers, Azure SAS signatures, private blocks that
// gitleaks cannot parse because it needs the closing marker).

// rule is one detector. The secret is capture group 1 when the expression
// has groups, else the whole match.
type rule struct {
	id       string
	re       string
	keywords []string // lower-case; the rule runs only when one occurs (cheap prefilter)
	entropy  float64  // minimum Shannon entropy of the secret (bits per char), 0 for none
	long     bool     // matches can be longer than a scan window (see windows)
}

// trailing is gitleaks' end-of-secret boundary: a quote, space, semicolon,
// an escaped newline or the end of the text.
const trailing = `(?:[\x60'"\s;]|\\[nr]|$)`

var gitleaksRules = []rule{
	// Private keys first: a key block contains long base64 runs that other
	// rules must not cut into pieces.
	{id: "private-key", re: `(?i)-----BEGIN[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----`, keywords: []string{"-----begin"}, long: true},

	// Cloud providers.
	{id: "aws-access-token", re: `\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`, entropy: 3, keywords: []string{"a3t", "akia", "asia", "abia", "acca"}},
	{id: "gcp-api-key", re: `\b(AIza[\w-]{35})` + trailing, entropy: 4, keywords: []string{"aiza"}},
	{id: "azure-ad-client-secret", re: `(?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"\x60\s<),])`, entropy: 3, keywords: []string{"q~"}},
	{id: "digitalocean-pat", re: `\b(dop_v1_[a-f0-9]{64})` + trailing, entropy: 3, keywords: []string{"dop_v1_"}},
	{id: "databricks-api-token", re: `\b(dapi[a-f0-9]{32}(?:-\d)?)` + trailing, entropy: 3, keywords: []string{"dapi"}},
	{id: "hashicorp-tf-api-token", re: `(?i)[a-z0-9]{14}\.(?-i:atlasv1)\.[a-z0-9\-_=]{60,70}`, entropy: 3.5, keywords: []string{"atlasv1"}},
	{id: "vault-service-token", re: `\b(hvs\.[\w-]{90,120})` + trailing, entropy: 3.5, keywords: []string{"hvs."}}, // gitleaks' legacy "s.<24>" form left out: too close to ordinary text
	{id: "pulumi-api-token", re: `\b(pul-[a-f0-9]{40})` + trailing, entropy: 2, keywords: []string{"pul-"}},
	{id: "doppler-api-token", re: `dp\.pt\.(?i)[a-z0-9]{43}`, entropy: 2, keywords: []string{"dp.pt."}},

	// Code hosting.
	{id: "github-pat", re: `ghp_[0-9a-zA-Z]{36}`, entropy: 3, keywords: []string{"ghp_"}},
	{id: "github-fine-grained-pat", re: `github_pat_\w{82}`, entropy: 3, keywords: []string{"github_pat_"}},
	{id: "github-oauth", re: `gho_[0-9a-zA-Z]{36}`, entropy: 3, keywords: []string{"gho_"}},
	{id: "github-app-token", re: `(?:ghu|ghs)_[0-9a-zA-Z]{36}`, entropy: 3, keywords: []string{"ghu_", "ghs_"}},
	{id: "github-refresh-token", re: `ghr_[0-9a-zA-Z]{36}`, entropy: 3, keywords: []string{"ghr_"}},
	{id: "gitlab-pat-routable", re: `\bglpat-[0-9a-zA-Z_-]{27,300}\.[0-9a-z]{2}[0-9a-z]{7}\b`, entropy: 4, keywords: []string{"glpat-"}},
	{id: "gitlab-pat", re: `glpat-[\w-]{20}`, entropy: 3, keywords: []string{"glpat-"}},
	{id: "gitlab-ptt", re: `glptt-[0-9a-f]{40}`, entropy: 3, keywords: []string{"glptt-"}},
	{id: "gitlab-rrt", re: `GR1348941[\w-]{20}`, entropy: 3, keywords: []string{"gr1348941"}},
	{id: "gitlab-deploy-token", re: `gldt-[0-9a-zA-Z_\-]{20}`, entropy: 3, keywords: []string{"gldt-"}},
	{id: "gitlab-runner-authentication-token", re: `glrt-[0-9a-zA-Z_\-]{20}`, entropy: 3, keywords: []string{"glrt-"}},
	{id: "gitlab-cicd-job-token", re: `glcbt-[0-9a-zA-Z]{1,5}_[0-9a-zA-Z_-]{20}`, entropy: 3, keywords: []string{"glcbt-"}},
	{id: "gitlab-scim-token", re: `glsoat-[0-9a-zA-Z_\-]{20}`, entropy: 3, keywords: []string{"glsoat-"}},

	// Chat.
	{id: "slack-bot-token", re: `xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*`, entropy: 3, keywords: []string{"xoxb"}},
	{id: "slack-legacy-bot-token", re: `xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26}`, entropy: 2, keywords: []string{"xoxb"}},
	{id: "slack-user-token", re: `xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}`, entropy: 2, keywords: []string{"xoxp", "xoxe"}},
	{id: "slack-app-token", re: `(?i)xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+`, entropy: 2, keywords: []string{"xapp"}},
	{id: "slack-config-access-token", re: `(?i)xoxe.xox[bp]-\d-[A-Z0-9]{163,166}`, entropy: 2, keywords: []string{"xoxe"}},
	{id: "slack-legacy-token", re: `xox[os]-\d+-\d+-\d+-[a-fA-F\d]+`, entropy: 2, keywords: []string{"xoxo", "xoxs"}},
	{id: "slack-webhook-url", re: `(?:https?://)?hooks.slack.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}`, keywords: []string{"hooks.slack.com"}},
	{id: "discord-api-token", re: `(?i)[\w.-]{0,50}?(?:discord)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([a-f0-9]{64})` + trailing, keywords: []string{"discord"}},

	// Payments, AI providers, package registries, SaaS.
	{id: "stripe-access-token", re: `\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})` + trailing, entropy: 2, keywords: []string{"sk_", "rk_"}},
	{id: "anthropic-admin-api-key", re: `\b(sk-ant-admin01-[a-zA-Z0-9_\-]{93}AA)` + trailing, keywords: []string{"sk-ant-admin01"}},
	{id: "anthropic-api-key", re: `\b(sk-ant-api03-[a-zA-Z0-9_\-]{93}AA)` + trailing, keywords: []string{"sk-ant-api03"}},
	{id: "openai-api-key", re: `\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})` + trailing, entropy: 3, keywords: []string{"t3blbkfj"}},
	{id: "huggingface-access-token", re: `\b(hf_(?i:[a-z]{34}))` + trailing, entropy: 2, keywords: []string{"hf_"}},
	{id: "npm-access-token", re: `(?i)\b(npm_[a-z0-9]{36})` + trailing, entropy: 2, keywords: []string{"npm_"}},
	{id: "pypi-upload-token", re: `pypi-AgEIcHlwaS5vcmc[\w-]{50,}`, entropy: 3, keywords: []string{"pypi-ageichlwas5vcmc"}, long: true},
	{id: "sendgrid-api-token", re: `\b(SG\.(?i)[a-z0-9=_\-\.]{66})` + trailing, entropy: 2, keywords: []string{"sg."}},
	{id: "twilio-api-key", re: `SK[0-9a-fA-F]{32}`, entropy: 3, keywords: []string{"sk"}},
	{id: "shopify-access-token", re: `shpat_[a-fA-F0-9]{32}`, entropy: 2, keywords: []string{"shpat_"}},
	{id: "postman-api-token", re: `\b(PMAK-(?i)[a-f0-9]{24}\-[a-f0-9]{34})` + trailing, entropy: 3, keywords: []string{"pmak-"}},
	{id: "linear-api-key", re: `lin_api_(?i)[a-z0-9]{40}`, entropy: 2, keywords: []string{"lin_api_"}},
	{id: "grafana-service-account-token", re: `(?i)\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})` + trailing, entropy: 3, keywords: []string{"glsa_"}},
	{id: "1password-service-account-token", re: `ops_eyJ[a-zA-Z0-9+/]{250,}={0,3}`, entropy: 4, keywords: []string{"ops_"}, long: true},

	// JSON Web Tokens.
	{id: "jwt", re: `\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?)` + trailing, entropy: 3, keywords: []string{"ey"}},
}

// ownRules are mnemo's, for secrets that have no fixed shape but a telling
// position. Their secret groups are post-checked in Go (see accept).
var ownRules = []rule{
	// A key block cut off before its END line (a truncated paste) is still
	// a private key: everything base64-like after BEGIN goes.
	// Header lines (Proc-Type: …) and base64 lines, ending where prose starts.
	{id: "private-key", re: `(?i)-----BEGIN[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----(?:\s|\\[nr])*(?:[A-Za-z-]+:[^\n]*\n)*[A-Za-z0-9+/=]{16,}(?:[ \t]*(?:\r?\n|\\[nr])[A-Za-z0-9+/=]{16,})*`, keywords: []string{"-----begin"}, long: true},
	// scheme://user:password@host — the password only.
	{id: "connection-string-password", re: `(?i)\b[a-z][a-z0-9+.-]*://[^\s:/?#@'"\x60]*:([^\s@/'"\x60]+)@`, keywords: []string{"://"}},
	// Authorization: Bearer <token> / Basic <base64>.
	// The value must look like a credential, not a word (see credentialish).
	{id: "bearer-token", re: `(?i)\b(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]{8,})`, entropy: 2.5, keywords: []string{"bearer", "basic"}},
	// Azure shared access signatures in URLs.
	{id: "azure-sas-signature", re: `[?&]sig=([A-Za-z0-9%+/=]{30,})`, entropy: 3, keywords: []string{"sig="}},
	// name = value, name: value, name := value, name => value where the name
	// says credential. accept() decides on the value and names the kind.
	{id: "assignment", re: `(?i)\b([a-z0-9_.-]*?(?:passw(?:or)?d|pwd|passphrase|secret|credentials?|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|account[_.-]?key|auth[_.-]?key)[a-z0-9_.-]*)["']?[ \t]*(:=|=>|=|:)[ \t]*(?:"([^"\r\n]+)"|'([^'\r\n]+)'|\x60([^\x60\r\n]+)\x60|([^\s"'\x60,;]+))`,
		keywords: []string{"pass", "pwd", "secret", "credential", "token", "key"}},
}
