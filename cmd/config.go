package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/config"
	"github.com/inv-cli/inv/internal/output"
)

func newConfigCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Show and change settings (flag > INV_* environment > config file > default)",
	}
	c.AddCommand(
		&cobra.Command{
			Use:   "path",
			Short: "Print the config file in use",
			Args:  cobra.NoArgs,
			RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
				_, err := fmt.Fprintln(f.Out, configPath(f, cmd))
				return err
			}),
		},
		&cobra.Command{
			Use:   "list",
			Short: "Every setting, its value and where it came from",
			Args:  cobra.NoArgs,
			RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
				_, settings, err := config.Load(cmd.Flags(), f.Getenv)
				if err != nil {
					return err
				}
				out, err := f.Printer(cmd)
				if err != nil {
					return err
				}
				t := output.Table{Header: []string{"key", "value", "source"}}
				for _, s := range settings {
					t.Rows = append(t.Rows, []string{s.Key, s.Value, s.Source})
				}
				return out.Print(nonNil(settings), t)
			}),
		},
		&cobra.Command{
			Use:   "get KEY",
			Short: "Print one setting's value",
			Args:  exactArgs(1, "a key (see inv config list)"),
			RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
				_, settings, err := config.Load(cmd.Flags(), f.Getenv)
				if err != nil {
					return err
				}
				for _, s := range settings {
					if s.Key == args[0] {
						_, err := fmt.Fprintln(f.Out, s.Value)
						return err
					}
				}
				return usagef(fmt.Errorf("unknown key %q; the keys are: %v", args[0], config.Keys()))
			}),
		},
		&cobra.Command{
			Use:     "set KEY VALUE",
			Short:   "Write a setting into the config file",
			Example: "  $ inv config set db /srv/shop/inv.db\n  $ inv config set output json",
			Args:    exactArgs(2, "a key and a value"),
			RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
				path := configPath(f, cmd)
				if err := config.SetValue(path, args[0], args[1]); err != nil {
					return err
				}
				shown := args[1]
				if args[0] == "api_key" {
					shown = config.Redact(shown)
				}
				fmt.Fprintf(f.Err, "%s = %s written to %s\n", args[0], shown, path)
				return nil
			}),
		},
	)
	return c
}

func configPath(f *Factory, cmd *cobra.Command) string {
	if p, _ := cmd.Flags().GetString("config"); p != "" {
		return p
	}
	return config.DefaultPath(f.Getenv)
}
