package cmd

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// signedNumber is a positional that pflag would take for a flag cluster: -5.
var signedNumber = regexp.MustCompile(`^-[0-9][0-9.]*$`)

// allowNegativeArgs lets `inv stock adjust SKU -5 --reason damaged` work as
// typed. pflag reads any "-x" token as a flag, so the command turns off
// cobra's flag parsing, moves signed numbers to the positionals and parses
// the rest itself (flags before or after the positionals, "--" too).
func allowNegativeArgs(cmd *cobra.Command) {
	cmd.DisableFlagParsing = true
	run := cmd.RunE
	args := cmd.Args
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, raw []string) error {
		// Every flag the command knows, its own and inherited, looked up once.
		c.InitDefaultHelpFlag()
		known := c.Flags()
		known.AddFlagSet(c.InheritedFlags())
		var pos, rest []string
		for i := 0; i < len(raw); i++ {
			a := raw[i]
			switch {
			case a == "--":
				pos = append(pos, raw[i+1:]...)
				i = len(raw)
			case signedNumber.MatchString(a):
				pos = append(pos, a)
			case strings.HasPrefix(a, "-") && len(a) > 1:
				rest = append(rest, a)
				name := strings.TrimLeft(a, "-")
				if strings.Contains(name, "=") {
					continue
				}
				// A flag that takes a value takes the next token, even "-5".
				if fl := lookupFlag(known, a); fl != nil && fl.Value.Type() != "bool" && i+1 < len(raw) {
					i++
					rest = append(rest, raw[i])
				}
			default:
				pos = append(pos, a)
			}
		}
		c.DisableFlagParsing = false
		if err := c.ParseFlags(rest); err != nil {
			return usagef(err)
		}
		if help, _ := c.Flags().GetBool("help"); help {
			return c.Help()
		}
		pos = append(pos, c.Flags().Args()...)
		if args != nil {
			if err := args(c, pos); err != nil {
				return err
			}
		}
		return run(c, pos)
	}
}

func lookupFlag(fs *pflag.FlagSet, tok string) *pflag.Flag {
	if strings.HasPrefix(tok, "--") {
		return fs.Lookup(strings.TrimPrefix(tok, "--"))
	}
	name := strings.TrimPrefix(tok, "-")
	if len(name) != 1 {
		// a cluster such as -qo json: the last letter decides
		name = name[len(name)-1:]
	}
	return fs.ShorthandLookup(name)
}
