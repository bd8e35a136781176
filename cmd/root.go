// Package cmd is inv's command line: one file per noun, each command an
// options struct, a constructor and a run function. Commands parse flags and
// print; the rules live in the engine behind backend.Backend.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/inventory"
)

// Version is set at build time with -ldflags "-X github.com/inv-cli/inv/cmd.Version=…".
var Version = "dev"

// Main runs inv with args (without the program name) and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, NewFactory(), args)
}

// Run executes one command line against a factory. It is Main without the
// process: tests call it with buffers.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil || errors.Is(err, inventory.ErrPartial) {
		deliverAfter(ctx, f, cmd)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %v", context.Canceled, err)
	}
	if !f.ran {
		// cobra's own errors: unknown command, wrong number of arguments.
		err = usagef(err)
	}
	code := ExitCode(err)
	msg := err.Error()
	if code == ExitInterrupted {
		msg = "interrupted; nothing half-done was kept"
	}
	fmt.Fprintf(f.Err, "inv: %s\n", msg)
	if code == ExitUsage && !f.ran {
		fmt.Fprintf(f.Err, "Run '%s --help' for usage.\n", strings.Join(append([]string{"inv"}, commandPath(root, args)...), " "))
	}
	return code
}

// commandPath returns the words of args that name a command ("stock adjust").
func commandPath(root *cobra.Command, args []string) []string {
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return nil
	}
	return strings.Fields(strings.TrimPrefix(c.CommandPath(), root.Name()+" "))
}

// NewRootCmd builds the whole command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "inv",
		Short: "Keep stock right: products, stock levels, imports, from the shell",
		Long: `inv keeps a shop's stock right while people, cron jobs and shell pipelines change it at the
same time. Every change is atomic and recorded in a movement ledger; stock never goes below
zero unless a product allows backorder; imports are all-or-nothing.

Data goes to stdout (a table on a terminal, tab-separated in a pipe, or -o json|csv),
messages to stderr. See 'inv help exit-codes'.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Version:           Version,
		CompletionOptions: cobra.CompletionOptions{},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usagef(err) })
	pf := root.PersistentFlags()
	pf.String("config", "", "config file (default $XDG_CONFIG_HOME/inv/config.yaml)")
	pf.String("backend", "", "where the inventory lives: local (SQLite file) or remote (store API)")
	pf.String("db", "", "database file of the local backend (default $XDG_DATA_HOME/inv/inv.db)")
	pf.String("store", "", `store id (default "default")`)
	pf.String("api-url", "", "base URL of the remote store API")
	pf.StringP("output", "o", "", "output format: table, json or csv")
	pf.Bool("no-headers", false, "leave out the header row of tables and CSV")
	pf.BoolP("quiet", "q", false, "no messages or progress on stderr (errors still print)")
	pf.Bool("debug", false, "print what inv does on stderr")
	pf.String("idempotency-key", "", "a key that makes a retried set/adjust apply once")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "csv"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("backend", cobra.FixedCompletions([]string{"local", "remote"}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		newProductCmd(f),
		newStockCmd(f),
		newBulkCmd(f),
		newCartCmd(f),
		newReservationCmd(f),
		newOrderCmd(f),
		newWebhookCmd(f),
		newConfigCmd(f),
		newVersionCmd(f),
		&cobra.Command{Use: "exit-codes", Short: "What inv's exit codes mean", Long: exitCodesHelp},
	)
	root.SetIn(f.In)
	root.SetOut(f.Out)
	root.SetErr(f.Err)
	root.InitDefaultCompletionCmd() // after SetOut: it keeps the writer it sees now
	for _, c := range root.Commands() {
		if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			groupOnly(f, c)
		}
	}
	return root
}

// groupOnly makes a command that only groups others (inv stock) refuse an
// unknown subcommand with exit 2 instead of printing help and exiting 0:
// "inv stock ajdust X 5 && echo done" must not say done.
func groupOnly(f *Factory, c *cobra.Command) {
	c.Args = cobra.ArbitraryArgs
	// Flags are not parsed here: "inv stock ajdust X -5" is an unknown
	// command, not an unknown flag -5.
	c.DisableFlagParsing = true
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 && args[0] != "-h" && args[0] != "--help" {
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return usagef(fmt.Errorf("%s", msg))
		}
		return cmd.Help()
	}
}

// runE wraps a command's work: it records that arguments were accepted (so
// later errors are not usage errors) and gives the work the command's context.
func runE(f *Factory, fn func(ctx context.Context, cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if fl := cmd.Flags().Lookup("idempotency-key"); fl != nil && fl.Changed && cmd.Annotations["idempotent"] != "true" {
			// Silently ignoring it would let a retry wrapper apply twice.
			return usagef(fmt.Errorf("--idempotency-key applies to stock set and stock adjust; orders use --id, imports of delta files are refused when repeated"))
		}
		f.ran = true
		return fn(cmd.Context(), cmd, args)
	}
}

// exactArgs is cobra.ExactArgs with a message that names the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef(fmt.Errorf("%s needs %s (got %d argument(s))", cmd.CommandPath(), names, len(args)))
		}
		return nil
	}
}

func newVersionCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print inv's version",
		Args:  cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(f.Out, "inv %s\n", Version)
			return err
		}),
	}
}
