package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/output"
)

func newStockCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "stock",
		Short: "Read and change stock levels",
	}
	imp := newImportCmd(f)
	imp.Use = "import FILE|-"
	imp.Short = "Same as 'inv bulk import'"
	c.AddCommand(newStockGetCmd(f), mutates(newStockSetCmd(f)), mutates(newStockAdjustCmd(f)), newStockHistoryCmd(f), newStockLowCmd(f), mutates(imp))
	return c
}

func newStockGetCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "get REF",
		Short: "Show a product's stock",
		Args:  exactArgs(1, "a product SKU or id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			p, err := be.GetProduct(ctx, args[0])
			if err != nil {
				return err
			}
			return out.Print(p, stockTable([]inventory.Product{p}))
		}),
	}
}

func stockTable(ps []inventory.Product) output.Table {
	t := output.Table{
		Header: []string{"sku", "title", "stock", "reserved", "available", "threshold", "state"},
		Right:  []bool{false, false, true, true, true, true, false},
	}
	for _, p := range ps {
		t.Rows = append(t.Rows, []string{str(p.SKU), p.Title, i64(p.Stock), i64(p.Reserved), i64(p.Available),
			threshold(p.LowStockThreshold), stockState(p)})
	}
	return t
}

type changeOpts struct {
	expect int64
	reason string
	clamp  bool
}

func newStockSetCmd(f *Factory) *cobra.Command {
	var o changeOpts
	c := &cobra.Command{
		Use:   "set REF N",
		Short: "Set stock to an absolute level (after a count)",
		Long: `Set stock to an absolute level. With --expect, the change is made only if stock is still what
you saw (compare-and-set); otherwise nothing changes and inv exits 4.`,
		Example: `  $ inv stock set MUG-1 75
  $ inv stock set SNK-LE-001 75 --expect 65 --reason recount`,
		Args: exactArgs(2, "a product SKU or id and a stock level"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			n, err := inventory.ParseQuantity(args[1])
			if err != nil {
				return usagef(inventory.Invalidf("stock level: %v", err))
			}
			ch := inventory.StockChange{Ref: args[0], IsSet: true, Set: n, Reason: o.reason}
			if cmd.Flags().Changed("expect") {
				ch.Expect = &o.expect
			}
			return changeStock(ctx, f, cmd, ch)
		}),
	}
	c.Annotations = map[string]string{"idempotent": "true"}
	c.Flags().Int64Var(&o.expect, "expect", 0, "change only if stock is exactly this now (compare-and-set)")
	c.Flags().StringVar(&o.reason, "reason", "", `why, for the ledger (default "set")`)
	allowNegativeArgs(c)
	return c
}

func newStockAdjustCmd(f *Factory) *cobra.Command {
	var o changeOpts
	c := &cobra.Command{
		Use:   "adjust REF DELTA",
		Short: "Add to or take from stock: +20, -5 or 20",
		Long: `Add to or take from stock atomically: no other process's change is lost. Stock cannot go
below zero unless the product allows backorder: such an adjust is refused (exit 5), or stops at
zero with --clamp.`,
		Example: `  $ inv stock adjust SNK-LE-001 +20
  $ inv stock adjust SNK-LE-001 -5 --reason damaged
  $ inv stock adjust SNK-LE-001 -100 --clamp`,
		Args: exactArgs(2, "a product SKU or id and a delta such as +20 or -5"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			d, err := inventory.ParseDelta(args[1])
			if err != nil {
				return usagef(inventory.Invalidf("delta: %v", err))
			}
			return changeStock(ctx, f, cmd, inventory.StockChange{Ref: args[0], Delta: d, Reason: o.reason, Clamp: o.clamp})
		}),
	}
	c.Annotations = map[string]string{"idempotent": "true"}
	c.Flags().StringVar(&o.reason, "reason", "", `why, for the ledger (default "adjust")`)
	c.Flags().BoolVar(&o.clamp, "clamp", false, "stop at zero instead of refusing a change below it")
	allowNegativeArgs(c)
	return c
}

func changeStock(ctx context.Context, f *Factory, cmd *cobra.Command, ch inventory.StockChange) error {
	key, _ := cmd.Flags().GetString("idempotency-key")
	ch.IdempotencyKey = key
	be, out, err := open(ctx, f, cmd)
	if err != nil {
		return err
	}
	res, err := be.ChangeStock(ctx, ch)
	if err != nil {
		return err
	}
	v := stockChangeView{SKU: res.Product.SKUOrID(), Before: res.Before, Delta: res.Delta, After: res.Product.Stock,
		Changed: res.Changed, Clamped: res.Clamped, Replayed: res.Replayed, Product: res.Product}
	switch {
	case res.Replayed:
		out.Messagef("%s: idempotency key %q was already applied; nothing changed this time", v.SKU, key)
	case !res.Changed:
		out.Messagef("%s: stock is already %d; nothing changed", v.SKU, v.After)
	case res.Clamped:
		out.Messagef("%s: %d → %d (stopped at zero by --clamp)", v.SKU, v.Before, v.After)
	default:
		out.Messagef("%s: %d → %d", v.SKU, v.Before, v.After)
	}
	if res.Product.IsLow() {
		out.Messagef("%s is low: %d at or below its threshold of %d", v.SKU, res.Product.Stock, *res.Product.LowStockThreshold)
	}
	return out.Print(v, stockChangeTable(v))
}

func newStockHistoryCmd(f *Factory) *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:     "history REF",
		Short:   "Show a product's movement ledger: who changed stock, when, why",
		Example: "  $ inv stock history SNK-LE-001 --limit 20",
		Args:    exactArgs(1, "a product SKU or id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if limit < 1 {
				return usagef(fmt.Errorf("--limit must be 1 or more"))
			}
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			ms, err := be.History(ctx, args[0], limit)
			if err != nil {
				return err
			}
			return out.Print(nonNil(ms), movementTable(ms))
		}),
	}
	c.Flags().IntVar(&limit, "limit", 100, "the last N movements, oldest first")
	return c
}

func newStockLowCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "low",
		Short: "Tracked products at or below their low-stock threshold",
		Args:  cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			ps, _, err := be.ListProducts(ctx, inventory.ProductFilter{LowStock: true})
			if err != nil {
				return err
			}
			return out.Print(nonNil(ps), stockTable(ps))
		}),
	}
}
