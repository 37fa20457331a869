// Command mnemo is semantic long-term memory and text embeddings for Claude
// and any MCP client, computed in-process by a pure-Go transformer engine.
//
// The binary is thin: each subcommand lives in its own file (cmd_*.go) and
// registers itself in commands; the work is done by the packages it calls.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mnemo-mcp/mnemo/pkg/config"
	"github.com/mnemo-mcp/mnemo/pkg/service"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string // one line for `mnemo help`
	usage   string // argument synopsis, e.g. "[--json] [TEXT…]"
	// details, when set, follow the summary in `mnemo help CMD`: what the
	// output means.
	details string
	// examples are shown by `mnemo help CMD`: each a command line,
	// optionally followed by "  # what it does".
	examples []string
	// run executes the command. args are the arguments after the command name.
	// Returning errUsage prints the command's usage and exits 2.
	run func(ctx context.Context, env *runEnv, args []string) error

	// flags is the flag set newFlagSet made on the last run, for help and
	// completion; parseFailed says the flag package rejected the line.
	flags       *flag.FlagSet
	parseFailed bool
}

// runEnv carries the process's standard streams so commands are testable
// without touching the real os.Stdout.
type runEnv struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

var commands = map[string]*command{}

// register adds a subcommand; called from init() in each cmd_*.go file.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("mnemo: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// errUsage asks main to print the command's usage and exit 2.
var errUsage = errors.New("usage")

// exitError lets a command choose its exit status (e.g. doctor's "needs
// attention") without printing an extra error line.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Exit statuses, the same for every command (`mnemo help` lists them).
const (
	exitOK      = 0 // done
	exitFailure = 1 // the command could not do its work (store, model, input data)
	exitUsage   = 2 // the command line is wrong: unknown command or flag, bad or missing argument or value
)

func main() {
	os.Exit(run(os.Args[1:], &runEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

func run(args []string, env *runEnv) int {
	if len(args) == 0 {
		// No command: the overview, as a usage error (scripts that forget
		// the command should not pass).
		printUsage(env.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return runHelp(env, args[1:])
	case "--version", "-v", "-version":
		args[0] = "version"
	}
	c, ok := commands[args[0]]
	if !ok {
		unknownCommand(env, args[0])
		return exitUsage
	}
	// SIGINT/SIGTERM cancel the context; commands finish what they must
	// (a write in flight) and return.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c.flags, c.parseFailed = nil, false
	err := c.run(ctx, env, args[1:])
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		printCommandHelp(env.stdout, c)
		return exitOK
	case errors.Is(err, errUsage):
		printCommandUsage(env.stderr, c)
		return exitUsage
	case c.parseFailed:
		// The flag package's error: an unknown flag or a value it refuses.
		fmt.Fprintf(env.stderr, "mnemo %s: %v", c.name, err)
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok && c.flags != nil {
			var names []string
			c.flags.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
			if s := suggest(strings.TrimLeft(name, "-"), names); s != "" {
				fmt.Fprintf(env.stderr, "; did you mean --%s?", s)
			}
		}
		fmt.Fprintln(env.stderr)
		printCommandUsage(env.stderr, c)
		return exitUsage
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, service.ErrInvalidInput):
		// The service refused what was typed (an id that is not one, an
		// empty text): a usage mistake, said in one line.
		fmt.Fprintf(env.stderr, "mnemo %s: %v\n", c.name, err)
		return exitUsage
	default:
		fmt.Fprintf(env.stderr, "mnemo %s: %v\n", c.name, err)
		return exitFailure
	}
}

// runHelp is `mnemo help [TOPIC]`: on stdout, so it can be paged.
func runHelp(env *runEnv, args []string) int {
	if len(args) == 0 {
		printUsage(env.stdout)
		return exitOK
	}
	if len(args) > 1 {
		fmt.Fprintf(env.stderr, "mnemo help: one topic at a time (got %q)\n", strings.Join(args, " "))
		return exitUsage
	}
	switch args[0] {
	case "environment", "env":
		config.PrintEnvironment(env.stdout)
		return exitOK
	case "exit-codes":
		printExitCodes(env.stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "mnemo help: no help topic %q", args[0])
		if s := suggest(args[0], helpTopics()); s != "" {
			fmt.Fprintf(env.stderr, "; did you mean %q?", s)
		}
		fmt.Fprintln(env.stderr, "\nRun 'mnemo help' for the list of commands.")
		return exitUsage
	}
	// The command's own --help, so the two never differ.
	return run([]string{c.name, "--help"}, env)
}

func helpTopics() []string { return append(commandNames(), "environment", "exit-codes") }

// unknownCommand says so on stderr, with the nearest command name.
func unknownCommand(env *runEnv, name string) {
	fmt.Fprintf(env.stderr, "mnemo: unknown command %q", name)
	if s := suggest(name, commandNames()); s != "" {
		fmt.Fprintf(env.stderr, "; did you mean %q?", s)
	}
	fmt.Fprintln(env.stderr, "\nRun 'mnemo help' for the list of commands.")
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "mnemo — semantic long-term memory and embeddings for Claude and any MCP client")
	fmt.Fprintln(w, "\nUsage: mnemo COMMAND [options]\n\nCommands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mnemo help COMMAND' (or 'mnemo COMMAND --help') for a command's options and examples,")
	fmt.Fprintln(w, "'mnemo help environment' for the environment variables.")
	fmt.Fprintln(w)
	printExitCodes(w)
}

func printExitCodes(w io.Writer) {
	fmt.Fprintln(w, "Exit status:")
	fmt.Fprintf(w, "  %d  success\n", exitOK)
	fmt.Fprintf(w, "  %d  failure: the command could not do its work (store, model, input data)\n", exitFailure)
	fmt.Fprintf(w, "  %d  usage: unknown command or flag, a bad or missing argument or value (nothing was done)\n", exitUsage)
}

// printCommandUsage is the short form for a usage error, on stderr.
func printCommandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: mnemo %s %s\nRun 'mnemo help %s' for its options and examples.\n", c.name, c.usage, c.name)
}

// printCommandHelp is `mnemo help CMD` = `mnemo CMD --help`: usage,
// summary, every flag in its --long form, examples.
func printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: mnemo %s\n\n%s\n", strings.TrimSpace(c.name+" "+c.usage), c.summary)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.details, "\n"))
	}
	if c.flags != nil {
		var b strings.Builder
		printFlags(&b, c.flags)
		if b.Len() > 0 {
			fmt.Fprintf(w, "\nOptions:\n%s", b.String())
		}
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

// printFlags lists a flag set as "--name TYPE" lines with their usage
// indented below, the way the usage lines spell them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintln(w, line)
		if d := f.DefValue; d != "" && d != "false" && d != "0" && !strings.Contains(usage, "(default") {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "        %s\n", strings.ReplaceAll(usage, "\n", "\n        "))
	})
}

// newFlagSet returns a FlagSet for c that reports errors instead of
// exiting, so run() owns the exit status and the messages: a parse error
// exits 2 with the usage; --help returns flag.ErrHelp and run() prints the
// help on stdout.
func newFlagSet(env *runEnv, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("mnemo "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run() reports the error, and prints help on stdout
	fs.Usage = func() { c.parseFailed = true }
	c.flags = fs
	return fs
}

// suggest returns the candidate nearest to s by edit distance when it is
// near enough to be a typo ("remeber" → "remember": one edit for a short
// word, two or three for longer ones), else the one candidate s begins
// ("mig" → "migrate"); "" when there is none.
func suggest(s string, candidates []string) string {
	s = strings.ToLower(s)
	limit := 1
	switch n := len([]rune(s)); {
	case n > 8:
		limit = 3
	case n > 4:
		limit = 2
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	prefixed := ""
	for _, c := range candidates {
		if len(s) >= 2 && strings.HasPrefix(c, s) {
			if prefixed != "" {
				return "" // ambiguous
			}
			prefixed = c
		}
	}
	return prefixed
}

// editDistance is the Levenshtein distance between a and b (runes), with an
// adjacent transposition counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// parseInterspersed parses flags that may appear before or after positional
// arguments ("mnemo remember TEXT --tags a,b"), which the flag package alone
// does not allow. Everything after a literal "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return append(positional, tail...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
