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
	"syscall"

	"github.com/mnemo-mcp/mnemo/pkg/config"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string // one line for `mnemo help`
	usage   string // argument synopsis, e.g. "[--json] [TEXT…]"
	// run executes the command. args are the arguments after the command name.
	// Returning errUsage prints the command's usage and exits 2.
	run func(ctx context.Context, env *runEnv, args []string) error
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

func main() {
	os.Exit(run(os.Args[1:], &runEnv{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

func run(args []string, env *runEnv) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 && args[1] == "environment" {
			config.PrintEnvironment(env.stdout)
			return 0
		}
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				printCommandUsage(env.stderr, c)
				return 0
			}
		}
		printUsage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-v" {
		args[0] = "version"
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "mnemo: unknown command %q\n\n", args[0])
		printUsage(env.stderr)
		return 2
	}
	// SIGINT/SIGTERM cancel the context; commands finish what they must
	// (a write in flight) and return.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, env, args[1:])
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		printCommandUsage(env.stderr, c)
		return 2
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(env.stderr, "mnemo %s: %v\n", c.name, err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "mnemo — semantic long-term memory and embeddings for Claude and any MCP client")
	fmt.Fprintln(w, "\nUsage: mnemo COMMAND [options]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mnemo help COMMAND' for a command's options, 'mnemo help environment' for the environment variables.")
}

func printCommandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: mnemo %s %s\n\n%s\n", c.name, c.usage, c.summary)
}

// newFlagSet returns a FlagSet whose errors and help go to stderr and which
// reports errors instead of exiting, so run() owns the exit status.
func newFlagSet(env *runEnv, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("mnemo "+c.name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		printCommandUsage(env.stderr, c)
		fmt.Fprintln(env.stderr, "\nOptions:")
		fs.PrintDefaults()
	}
	return fs
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
