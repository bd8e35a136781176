package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/inv-cli/inv/internal/backend"
	"github.com/inv-cli/inv/internal/config"
	"github.com/inv-cli/inv/internal/output"
)

// Factory holds what commands depend on: the streams, the environment and,
// loaded on first use from the running command's flags, the config, the
// printer and the backend. Tests build one with buffers and a fake env.
type Factory struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) (string, bool)

	StdoutTTY bool
	StderrTTY bool

	// OpenBackend is backend.Open; tests may wrap it.
	OpenBackend func(ctx context.Context, o backend.Options) (backend.Backend, error)

	cfg     *config.Config
	be      backend.Backend
	printer *output.Printer
	ran     bool // a command's RunE started: errors after this are not usage errors
}

// NewFactory returns the factory of a real process.
func NewFactory() *Factory {
	return &Factory{
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		Getenv:      os.LookupEnv,
		StdoutTTY:   term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY:   term.IsTerminal(int(os.Stderr.Fd())),
		OpenBackend: backend.Open,
	}
}

// Config loads the configuration once, from the flags of cmd.
func (f *Factory) Config(cmd *cobra.Command) (*config.Config, error) {
	if f.cfg != nil {
		return f.cfg, nil
	}
	cfg, _, err := config.Load(cmd.Flags(), f.Getenv)
	if err != nil {
		return nil, err
	}
	f.cfg = cfg
	return cfg, nil
}

// Printer returns the output printer the config asks for.
func (f *Factory) Printer(cmd *cobra.Command) (*output.Printer, error) {
	if f.printer != nil {
		return f.printer, nil
	}
	cfg, err := f.Config(cmd)
	if err != nil {
		return nil, err
	}
	format, err := output.ParseFormat(cfg.Output)
	if err != nil {
		return nil, usagef(err)
	}
	f.printer = &output.Printer{Out: f.Out, Err: f.Err, Format: format, TTY: f.StdoutTTY, ErrTTY: f.StderrTTY,
		NoHeaders: cfg.NoHeaders, Quiet: cfg.Quiet}
	return f.printer, nil
}

// Backend opens the configured backend once.
func (f *Factory) Backend(ctx context.Context, cmd *cobra.Command) (backend.Backend, error) {
	if f.be != nil {
		return f.be, nil
	}
	cfg, err := f.Config(cmd)
	if err != nil {
		return nil, err
	}
	actor, _ := f.Getenv("USER")
	if actor == "" {
		actor, _ = f.Getenv("LOGNAME")
	}
	if actor == "" {
		if u, err := user.Current(); err == nil {
			actor = u.Username
		}
	}
	var logf func(string, ...any)
	if cfg.Debug {
		logf = f.debugf
	}
	open := f.OpenBackend
	if open == nil {
		open = backend.Open
	}
	be, err := open(ctx, backend.Options{Kind: cfg.Backend, DB: cfg.DB, Store: cfg.Store, APIURL: cfg.APIURL,
		APIKey: cfg.APIKey, Actor: actor, BusyTimeout: cfg.BusyTimeout, Logf: logf})
	if err != nil {
		return nil, err
	}
	f.be = be
	return be, nil
}

func (f *Factory) debugf(format string, args ...any) {
	fmt.Fprintf(f.Err, "inv: debug: "+format+"\n", args...)
}

// Close releases what the factory opened.
func (f *Factory) Close() error {
	if f.be != nil {
		return f.be.Close()
	}
	return nil
}

// open returns the backend and the printer of a command.
func open(ctx context.Context, f *Factory, cmd *cobra.Command) (backend.Backend, *output.Printer, error) {
	out, err := f.Printer(cmd)
	if err != nil {
		return nil, nil, err
	}
	be, err := f.Backend(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	return be, out, nil
}
