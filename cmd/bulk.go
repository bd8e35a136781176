package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/output"
)

func newBulkCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "bulk",
		Short: "Change many products at once from a file",
	}
	c.AddCommand(mutates(newImportCmd(f)))
	return c
}

type importOpts struct {
	inventory.ImportOptions
	skuColumn, qtyColumn, delimiter string
}

func newImportCmd(f *Factory) *cobra.Command {
	var o importOpts
	c := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Import stock levels from a warehouse CSV (all or nothing)",
		Long: `Import stock levels from a CSV file (or - for stdin): a warehouse or 3PL report, a Shopify
inventory export, a Magento stock file, a count.

Columns are found by name: the SKU in sku, variant sku, item sku, product sku, item number or
article number; the quantity in on hand (new), available, stock, qty, quantity, quantity on stock,
inventory quantity, variant inventory qty, inventory or on hand (the first of these a file has).
Case, spaces, "_" and "-" in headers do not matter. The delimiter (, ; tab |) is sniffed.

Every row is checked first. If any row is wrong, every problem is listed (row, column, value,
reason) and nothing is changed: exit 2. --partial applies the good rows and exits 6.
Rows whose stock already equals the file are unchanged: no write, no ledger row. A delta file
(--mode adjust) is applied once: the same content again is refused (exit 4) unless --force.`,
		Example: `  $ inv bulk import warehouse.csv
  $ inv bulk import warehouse.csv --dry-run
  $ inv bulk import deliveries.csv --mode adjust --reason delivery
  $ curl -s https://3pl.example/stock.csv | inv bulk import - --skip-unknown`,
		Args: exactArgs(1, "a CSV file, or - for stdin"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runImport(ctx, f, cmd, args[0], o, false)
		}),
	}
	fs := c.Flags()
	fs.StringVar(&o.Mode, "mode", "set", "set: the file holds stock levels; adjust: it holds deltas (+5, -3)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "show what would change (sku, before, after, delta) and change nothing")
	fs.BoolVar(&o.Partial, "partial", false, "apply the good rows even if some are wrong (exit 6 when any were)")
	fs.BoolVar(&o.SkipUnknown, "skip-unknown", false, "skip SKUs that are not in the store instead of refusing the file")
	fs.StringVar(&o.OnDuplicate, "on-duplicate", "error", "a SKU on several rows: error, sum (add them up) or last (last row wins)")
	fs.StringVar(&o.skuColumn, "sku-column", "", "the SKU column's header, when the aliases do not find it")
	fs.StringVar(&o.qtyColumn, "qty-column", "", "the quantity column's header, when the aliases do not find it")
	fs.StringVar(&o.delimiter, "delimiter", "", `column delimiter: "," ";" "|" or "tab" (sniffed by default)`)
	fs.BoolVar(&o.Force, "force", false, "apply a delta file again even though the same content was imported before")
	fs.StringVar(&o.Reason, "reason", "import", "why, for the ledger")
	_ = c.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"set", "adjust"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("on-duplicate", cobra.FixedCompletions([]string{"error", "sum", "last"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func newProductImportCmd(f *Factory) *cobra.Command {
	var o importOpts
	c := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Create or update products from a catalogue CSV (Shopify, WooCommerce, plain)",
		Long: `Create or update products from a catalogue CSV, matched by SKU: a Shopify or WooCommerce
product export, or a plain file with columns such as title, sku, price, barcode, stock,
low stock threshold, track stock, allow backorder.

Rows without a SKU (Shopify image rows) are skipped. All or nothing, like 'inv bulk import':
every problem is listed and nothing changes unless --partial. Importing the same file again
changes nothing.`,
		Example: `  $ inv product import shopify-products.csv --dry-run
  $ inv product import woocommerce-products.csv`,
		Args: exactArgs(1, "a CSV file, or - for stdin"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			return runImport(ctx, f, cmd, args[0], o, true)
		}),
	}
	fs := c.Flags()
	fs.BoolVar(&o.DryRun, "dry-run", false, "show what would change and change nothing")
	fs.BoolVar(&o.Partial, "partial", false, "import the good rows even if some are wrong (exit 6 when any were)")
	fs.BoolVar(&o.NoStock, "no-stock", false, "leave stock alone: update titles, prices and the rest, not the stock column")
	fs.StringVar(&o.delimiter, "delimiter", "", `column delimiter: "," ";" "|" or "tab" (sniffed by default)`)
	fs.StringVar(&o.Reason, "reason", "import", "why, for the ledger")
	return c
}

func parseDelimiter(s string) (rune, error) {
	switch s {
	case "":
		return 0, nil
	case "tab", `\t`, "\t":
		return '\t', nil
	case ",", ";", "|":
		r, _ := utf8.DecodeRuneInString(s)
		return r, nil
	}
	return 0, usagef(inventory.Invalidf(`--delimiter %q must be one of "," ";" "|" "tab"`, s))
}

// openInput opens FILE or stdin ("-"), with a progress bar on a terminal.
func openInput(f *Factory, out *output.Printer, name string) (io.Reader, string, func(), error) {
	if name == "-" {
		p := output.NewProgress(f.Err, "reading stdin", -1, out.ErrTTY && !out.Quiet)
		return p.Reader(f.In), "stdin", p.Done, nil
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, "", nil, inventory.Invalidf("cannot read %s: %v", name, err)
	}
	var size int64 = -1
	if st, err := file.Stat(); err == nil {
		if st.IsDir() {
			file.Close()
			return nil, "", nil, inventory.Invalidf("%s is a directory, not a CSV file", name)
		}
		size = st.Size()
	}
	p := output.NewProgress(f.Err, "reading "+filepath.Base(name), size, out.ErrTTY && !out.Quiet)
	return p.Reader(file), filepath.Base(name), func() { p.Done(); file.Close() }, nil
}

func runImport(ctx context.Context, f *Factory, cmd *cobra.Command, name string, o importOpts, catalogue bool) error {
	delim, err := parseDelimiter(o.delimiter)
	if err != nil {
		return err
	}
	be, out, err := open(ctx, f, cmd)
	if err != nil {
		return err
	}
	r, base, done, err := openInput(f, out, name)
	if err != nil {
		return err
	}
	defer done()
	o.Name = base

	header := []string{"row", "sku", "title", "before", "after", "delta"}
	right := []bool{true, false, false, true, true, true}
	if catalogue {
		header = []string{"row", "sku", "title", "action", "before", "after", "delta"}
		right = []bool{true, false, false, false, true, true, true}
	}
	var stream *output.Stream
	sink := inventory.ImportSink{
		Problem: func(p inventory.Problem) error {
			fmt.Fprintf(f.Err, "inv: %s\n", p)
			return nil
		},
		Change: func(c inventory.ImportChange) error {
			if stream == nil {
				done() // the progress bar is finished once results flow
				stream = out.Stream(header, right)
			}
			cells := []string{i64(int64(c.Row)), c.SKU, c.Title, i64(c.Before), i64(c.After), signed(c.Delta)}
			if catalogue {
				cells = []string{i64(int64(c.Row)), c.SKU, c.Title, c.Action, i64(c.Before), i64(c.After), signed(c.Delta)}
			}
			return stream.Row(c, cells)
		},
	}
	var rep inventory.ImportReport
	if catalogue {
		src, err := csvio.NewCatalogueReader(r, csvio.CatalogueOptions{Delimiter: delim})
		if err != nil {
			return err
		}
		rep, err = be.ImportProducts(ctx, src, o.ImportOptions, sink)
		if err := closeStream(stream, out, header, right, err); err != nil {
			return err
		}
	} else {
		src, err := csvio.NewStockReader(r, csvio.StockOptions{Delimiter: delim, SKUColumn: o.skuColumn, QtyColumn: o.qtyColumn})
		if err != nil {
			return err
		}
		out.Messagef("%s: SKU from column %q, quantity from column %q (%s mode)", base, src.SKUColumn(), src.QtyColumn(), o.Mode)
		rep, err = be.ImportStock(ctx, src, o.ImportOptions, sink)
		if err := closeStream(stream, out, header, right, err); err != nil {
			return err
		}
	}
	summary(out, rep)
	return nil
}

// closeStream ends the change listing. With no changes it still prints an
// empty table (or [] in JSON) so that pipelines always get a well-formed result.
func closeStream(s *output.Stream, out *output.Printer, header []string, right []bool, runErr error) error {
	if s == nil && runErr == nil {
		s = out.Stream(header, right)
	}
	if s != nil {
		if err := s.Close(); err != nil && runErr == nil {
			return err
		}
	}
	return runErr
}

func summary(out *output.Printer, r inventory.ImportReport) {
	verb := "changed"
	if r.DryRun {
		verb = "would change"
	}
	msg := fmt.Sprintf("%s: %d row(s): %s %d", r.File, r.Rows, verb, r.Changed)
	if r.Created > 0 {
		msg += fmt.Sprintf(" (%d new)", r.Created)
	}
	msg += fmt.Sprintf(", unchanged %d", r.Unchanged)
	for _, s := range []struct {
		n    int
		what string
	}{{r.SkippedNoSKU, "without a SKU"}, {r.SkippedBlank, "with a blank quantity (no change)"}, {r.SkippedUnknown, "with an unknown SKU"}} {
		if s.n > 0 {
			msg += fmt.Sprintf(", skipped %d %s", s.n, s.what)
		}
	}
	if r.DryRun {
		msg += "; dry run: nothing was changed"
	}
	out.Messagef("%s", msg)
}
