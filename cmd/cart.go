package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/backend"
	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/output"
)

// readCartArgs builds cart lines from [FILE|-] [SKU=QTY ...].
func readCartArgs(f *Factory, args []string) ([]inventory.CartLine, error) {
	var lines []inventory.CartLine
	file := ""
	for _, a := range args {
		if strings.Contains(a, "=") {
			l, err := inventory.ParseCartArg(a)
			if err != nil {
				return nil, err
			}
			lines = append(lines, l)
			continue
		}
		if file != "" {
			return nil, usagef(fmt.Errorf("give at most one cart file (got %q and %q); other lines are SKU=QTY", file, a))
		}
		file = a
	}
	if file != "" {
		var fromFile []inventory.CartLine
		var err error
		if file == "-" {
			fromFile, err = csvio.ReadCart(f.In)
		} else {
			fh, oerr := os.Open(file)
			if oerr != nil {
				return nil, inventory.Invalidf("cannot read %s: %v", file, oerr)
			}
			fromFile, err = csvio.ReadCart(fh)
			fh.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		lines = append(fromFile, lines...)
	}
	if len(lines) == 0 {
		return nil, usagef(fmt.Errorf("no cart: give a cart file (JSON or CSV), - for stdin, or SKU=QTY lines"))
	}
	return lines, nil
}

// openCart reads a command's cart and opens the backend: what cart validate,
// cart reserve and order create all start with.
func openCart(ctx context.Context, f *Factory, cmd *cobra.Command, args []string) ([]inventory.CartLine, backend.Backend, *output.Printer, error) {
	lines, err := readCartArgs(f, args)
	if err != nil {
		return nil, nil, nil, err
	}
	be, out, err := open(ctx, f, cmd)
	return lines, be, out, err
}

func cartTable(r inventory.CartReport) output.Table {
	t := output.Table{
		Header: []string{"sku", "title", "requested", "available", "ok", "reason"},
		Right:  []bool{false, false, true, true, false, false},
	}
	for _, l := range r.Lines {
		t.Rows = append(t.Rows, []string{l.SKU, l.Title, i64(l.Requested), i64(l.Available), yesNo(l.OK), l.Reason})
	}
	return t
}

// printRefusal shows the verdict table of a refused cart or order, and
// returns the error for the exit code.
func printRefusal(out *output.Printer, err error) error {
	var ce *inventory.CartError
	if errors.As(err, &ce) && len(ce.Report.Lines) > 0 {
		if perr := out.Print(ce.Report, cartTable(ce.Report)); perr != nil {
			return perr
		}
	}
	return err
}

func newCartCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "cart",
		Short: "Check carts against available stock, and hold their units",
	}
	c.AddCommand(&cobra.Command{
		Use:   "validate [FILE|-] [SKU=QTY ...]",
		Short: "Can this cart be fulfilled now? Exit 0 yes, 5 no, 2 malformed",
		Long: `Check a cart line by line against available stock (stock minus live reservations).
Lines for the same product are summed first. A cart is a storefront JSON file
({"items":[{"productId":"prod_…","quantity":2},{"sku":"MUG-BLU","quantity":1}]}), a CSV with sku
and quantity columns, or SKU=QTY arguments. Untracked products always pass; products that allow
backorder pass and say so.`,
		Example: `  $ inv cart validate cart.json
  $ inv cart validate MUG-BLU=3 SNK-LE-001=1
  $ inv cart validate cart.json && inv order create cart.json --id "$ORDER_ID"`,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			lines, be, out, err := openCart(ctx, f, cmd, args)
			if err != nil {
				return err
			}
			rep, err := be.ValidateCart(ctx, lines)
			if err != nil {
				return printRefusal(out, err)
			}
			if perr := out.Print(rep, cartTable(rep)); perr != nil {
				return perr
			}
			if !rep.OK {
				return cartRefusalMessage(rep)
			}
			out.Messagef("the cart can be fulfilled")
			return nil
		}),
	})
	var ttl time.Duration
	reserve := &cobra.Command{
		Use:   "reserve [FILE|-] [SKU=QTY ...] --ttl 15m",
		Short: "Hold a cart's units (all lines or none) and print the reservation id",
		Long: `Hold the units of a cart for a while, atomically: every line or none. Held units are not
available to other carts and orders until the reservation expires (no process needs to run for
that), is released, or is used by 'inv order create --reservation ID'.`,
		Example: `  $ inv cart reserve cart.json --ttl 15m
  $ inv order create cart.json --reservation res_… --id web-1042`,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			lines, be, out, err := openCart(ctx, f, cmd, args)
			if err != nil {
				return err
			}
			res, _, err := be.Reserve(ctx, lines, ttl)
			if err != nil {
				return printRefusal(out, err)
			}
			out.Messagef("reserved until %s", res.ExpiresAt)
			return out.Print(res, reservationTable([]inventory.Reservation{res}))
		}),
	}
	reserve.Flags().DurationVar(&ttl, "ttl", 15*time.Minute, "how long to hold the units")
	c.AddCommand(reserve)
	return c
}

func cartRefusalMessage(rep inventory.CartReport) error {
	var short []string
	for _, l := range rep.Lines {
		if !l.OK {
			short = append(short, fmt.Sprintf("%s (%s)", l.SKU, l.Reason))
		}
	}
	return inventory.Insufficientf("the cart cannot be fulfilled: %s", strings.Join(short, ", "))
}

func reservationTable(rs []inventory.Reservation) output.Table {
	t := output.Table{Header: []string{"id", "status", "expires", "items"}}
	for _, r := range rs {
		var items []string
		for _, it := range r.Items {
			items = append(items, fmt.Sprintf("%s×%d", it.SKU, it.Quantity))
		}
		t.Rows = append(t.Rows, []string{r.ID, r.Status, r.ExpiresAt.String(), strings.Join(items, ", ")})
	}
	return t
}

func newReservationCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "reservation",
		Short: "List and release reservations",
	}
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Live reservations (--all: every one, with its status)",
		Args:  cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			rs, err := be.ListReservations(ctx, all)
			if err != nil {
				return err
			}
			return out.Print(nonNil(rs), reservationTable(rs))
		}),
	}
	list.Flags().BoolVar(&all, "all", false, "include released, consumed and expired reservations")
	c.AddCommand(list, &cobra.Command{
		Use:   "release ID",
		Short: "Give a reservation's units back now",
		Args:  exactArgs(1, "a reservation id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			r, err := be.ReleaseReservation(ctx, args[0])
			if err != nil {
				return err
			}
			out.Messagef("reservation %s is %s", r.ID, r.Status)
			return out.Print(r, reservationTable([]inventory.Reservation{r}))
		}),
	})
	return c
}
