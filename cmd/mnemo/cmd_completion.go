package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/template"
)

func init() {
	register(&command{
		name:    "completion",
		summary: "print a shell completion script (bash, zsh or fish)",
		usage:   "bash|zsh|fish",
		examples: []string{
			`source <(mnemo completion bash)                      # this bash session; add it to ~/.bashrc to keep it`,
			`mnemo completion zsh > "${fpath[1]}/_mnemo"           # zsh, then restart it`,
			`mnemo completion fish > ~/.config/fish/completions/mnemo.fish`,
		},
		run: runCompletion,
	})
}

func runCompletion(ctx context.Context, env *runEnv, args []string) error {
	fs := newFlagSet(env, commands["completion"])
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr(env, "completion needs one shell: bash, zsh or fish")
	}
	tmpl, ok := completionScripts[pos[0]]
	if !ok {
		msg := fmt.Sprintf("no completion for shell %q: want bash, zsh or fish", pos[0])
		if s := suggest(pos[0], []string{"bash", "zsh", "fish"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return usageErr(env, "%s", msg)
	}
	funcs := template.FuncMap{
		// zsh: inside '…' and _arguments' [...] descriptions.
		"quoteZsh": func(s string) string {
			return strings.NewReplacer("'", "'\\''", "[", "(", "]", ")", ":", "\\:").Replace(s)
		},
		"quoteFish": func(s string) string { return strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) },
	}
	return template.Must(template.New(pos[0]).Funcs(funcs).Parse(tmpl)).Execute(env.stdout, completionData(ctx))
}

// completionCommand is one command as the completion scripts know it.
type completionCommand struct {
	Name, Summary string
	Flags         []completionFlag
}

type completionFlag struct {
	Name, Usage string
	Bool        bool // takes no value
}

// completionData lists every command and its flags, read from the flag
// set each command builds (by asking it for --help), so the scripts
// follow the commands without a second list to keep in step.
func completionData(ctx context.Context) []completionCommand {
	var out []completionCommand
	for _, name := range commandNames() {
		c := commands[name]
		cc := completionCommand{Name: name, Summary: c.summary}
		cc.Flags = commandFlags(ctx, c)
		out = append(out, cc)
	}
	out = append(out, completionCommand{Name: "help", Summary: "show help for a command or topic"})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// commandFlags runs c with --help into nowhere and reads the flag set it made.
func commandFlags(ctx context.Context, c *command) []completionFlag {
	if c.name == "completion" {
		return nil
	}
	saved, savedFailed := c.flags, c.parseFailed
	defer func() { c.flags, c.parseFailed = saved, savedFailed }()
	c.flags = nil
	_ = c.run(ctx, &runEnv{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}, []string{"--help"})
	if c.flags == nil {
		return nil
	}
	var fl []completionFlag
	c.flags.VisitAll(func(f *flag.Flag) {
		_, usage := flag.UnquoteUsage(f)
		fl = append(fl, completionFlag{Name: f.Name, Usage: firstLine(usage), Bool: isBoolFlag(f)})
	})
	return fl
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

var completionScripts = map[string]string{
	"bash": `# bash completion for mnemo: source <(mnemo completion bash)
_mnemo() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} opts=""
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{{range .}}{{.Name}} {{end}}--help --version" -- "$cur"))
        return
    fi
    case $cmd in
{{- range .}}
    {{.Name}}) opts="{{range .Flags}}--{{.Name}} {{end}}--help" ;;
{{- end}}
    esac
    if [[ $cmd == help && $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=($(compgen -W "{{range .}}{{.Name}} {{end}}environment exit-codes" -- "$cur"))
        return
    fi
    if [[ $cmd == completion && $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o default -F _mnemo mnemo
`,
	"zsh": `#compdef mnemo
# zsh completion for mnemo: mnemo completion zsh > "${fpath[1]}/_mnemo"
_mnemo() {
    local -a cmds
    cmds=(
{{- range .}}
        '{{.Name}}:{{quoteZsh .Summary}}'
{{- end}}
    )
    if (( CURRENT == 2 )); then
        _describe 'command' cmds
        return
    fi
    if (( CURRENT == 3 )) && [[ ${words[2]} == help ]]; then
        cmds+=('environment:every MNEMO_* variable' 'exit-codes:what each exit status means')
        _describe 'help topic' cmds
        return
    fi
    if (( CURRENT == 3 )) && [[ ${words[2]} == completion ]]; then
        local -a shells=(bash zsh fish)
        _describe 'shell' shells
        return
    fi
    case ${words[2]} in
{{- range .}}
    {{.Name}}) _arguments -s '*:file:_files'{{range .Flags}} '--{{.Name}}[{{quoteZsh .Usage}}]{{if not .Bool}}:value:{{end}}'{{end}} ;;
{{- end}}
    esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _mnemo "$@"
else
    compdef _mnemo mnemo
fi
`,
	"fish": `# fish completion for mnemo: mnemo completion fish > ~/.config/fish/completions/mnemo.fish
complete -c mnemo -f
{{- range .}}
complete -c mnemo -n __fish_use_subcommand -a {{.Name}} -d '{{quoteFish .Summary}}'
{{- $c := .Name}}{{range .Flags}}
complete -c mnemo -n '__fish_seen_subcommand_from {{$c}}' -l {{.Name}}{{if not .Bool}} -r{{end}} -d '{{quoteFish .Usage}}'
{{- end}}
{{- end}}
complete -c mnemo -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c mnemo -n '__fish_seen_subcommand_from help' -a '{{range .}}{{.Name}} {{end}}environment exit-codes'
`,
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
