package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inv-cli/inv/internal/inventory"
)

func newProductCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "product",
		Short: "Create, show, change and import products",
	}
	c.AddCommand(mutates(newProductCreateCmd(f)), newProductGetCmd(f), newProductListCmd(f),
		mutates(newProductUpdateCmd(f)), mutates(newProductDeleteCmd(f)), mutates(newProductImportCmd(f)))
	return c
}

// productFlags are the writable product fields as flags, shared by create and update.
type productFlags struct {
	title, sku, price, compareAt, barcode, status, slug, description, stock, threshold string
	track, backorder                                                                   bool
}

func (p *productFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&p.title, "title", "", "title (required on create)")
	fs.StringVar(&p.sku, "sku", "", "stock keeping unit, unique per store ignoring case")
	fs.StringVar(&p.price, "price", "", "price as a decimal, e.g. 19.99")
	fs.StringVar(&p.compareAt, "compare-at-price", "", `compare-at price ("" to clear)`)
	fs.StringVar(&p.barcode, "barcode", "", "UPC-A, EAN-8, EAN-13 or GTIN-14 with a valid check digit")
	fs.StringVar(&p.status, "status", "", "draft, published or archived")
	fs.StringVar(&p.slug, "slug", "", "URL slug (derived from the title when absent)")
	fs.StringVar(&p.description, "description", "", "description")
	fs.StringVar(&p.stock, "stock", "", "stock level (goes through the ledger)")
	fs.StringVar(&p.threshold, "low-stock-threshold", "", `alert when stock is at or below this ("none" to clear)`)
	fs.BoolVar(&p.track, "track-stock", false, "track stock: orders deduct it, alerts fire (--track-stock=false to stop)")
	fs.BoolVar(&p.backorder, "allow-backorder", false, "allow stock below zero (--allow-backorder=false to stop)")
}

// fields returns the ProductFields of the flags the user set, and nothing else.
func (p *productFlags) fields(fs *pflag.FlagSet) (inventory.ProductFields, error) {
	var f inventory.ProductFields
	set := func(name string) bool { return fs.Changed(name) }
	if set("title") {
		f.Title = &p.title
	}
	if set("sku") {
		f.SKU = &p.sku
	}
	if set("price") {
		f.Price = &p.price
	}
	if set("compare-at-price") {
		var v *string
		if p.compareAt != "" {
			v = &p.compareAt
		}
		f.CompareAtPrice = &v
	}
	if set("barcode") {
		f.Barcode = &p.barcode
	}
	if set("status") {
		f.Status = &p.status
	}
	if set("slug") {
		f.Slug = &p.slug
	}
	if set("description") {
		f.Description = &p.description
	}
	if set("stock") {
		n, err := inventory.ParseQuantity(p.stock)
		if err != nil {
			return f, usagef(flagErr("--stock", err))
		}
		f.Stock = &n
	}
	if set("low-stock-threshold") {
		var v *int64
		if t := strings.ToLower(strings.TrimSpace(p.threshold)); t != "none" && t != "" {
			n, err := inventory.ParseQuantity(p.threshold)
			if err != nil {
				return f, usagef(flagErr("--low-stock-threshold", err))
			}
			v = &n
		}
		f.LowStockThreshold = &v
	}
	if set("track-stock") {
		f.TrackStock = &p.track
	}
	if set("allow-backorder") {
		f.AllowBackorder = &p.backorder
	}
	return f, nil
}

func flagErr(flag string, err error) error {
	return inventory.Invalidf("%s: %v", flag, err)
}

func newProductCreateCmd(f *Factory) *cobra.Command {
	var pf productFlags
	c := &cobra.Command{
		Use:   "create --title T [flags]",
		Short: "Create a product",
		Example: `  $ inv product create --title "Limited Edition Sneakers" --sku SNK-LE-001 --price 199.99 \
      --stock 50 --track-stock --low-stock-threshold 10`,
		Args: cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			fields, err := pf.fields(cmd.Flags())
			if err != nil {
				return err
			}
			if fields.Title == nil {
				return usagef(inventory.Invalidf("--title is required"))
			}
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			p, err := be.CreateProduct(ctx, fields)
			if err != nil {
				return err
			}
			out.Messagef("created product %s (%s)", p.SKUOrID(), p.ID)
			return out.Object(p, productFields(p))
		}),
	}
	pf.bind(c.Flags())
	return c
}

func newProductGetCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "get REF",
		Short:   "Show a product (REF is its SKU or id)",
		Example: "  $ inv product get SNK-LE-001 -o json",
		Args:    exactArgs(1, "a product SKU or id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			p, err := be.GetProduct(ctx, args[0])
			if err != nil {
				return err
			}
			return out.Object(p, productFields(p))
		}),
	}
}

func newProductListCmd(f *Factory) *cobra.Command {
	var o inventory.ProductFilter
	c := &cobra.Command{
		Use:   "list",
		Short: "List products",
		Example: `  $ inv product list --low-stock
  $ inv product list --low-stock -o csv | mail -s "reorder" buyer@example.com`,
		Args: cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			ps, total, err := be.ListProducts(ctx, o)
			if err != nil {
				return err
			}
			if len(ps) < total {
				out.Messagef("showing %d of %d products (--limit/--offset)", len(ps), total)
			}
			return out.Print(nonNil(ps), productTable(ps))
		}),
	}
	fs := c.Flags()
	fs.BoolVar(&o.LowStock, "low-stock", false, "only tracked products at or below their low-stock threshold")
	fs.BoolVar(&o.OutOfStock, "out-of-stock", false, "only tracked products with stock 0 or less")
	fs.StringVar(&o.Status, "status", "", "only this status (draft, published, archived, deleted)")
	fs.StringVar(&o.Search, "search", "", "title or SKU contains this")
	fs.IntVar(&o.Limit, "limit", 0, "at most this many (0 = all)")
	fs.IntVar(&o.Offset, "offset", 0, "skip this many")
	return c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func newProductUpdateCmd(f *Factory) *cobra.Command {
	var pf productFlags
	c := &cobra.Command{
		Use:     "update REF [flags]",
		Short:   "Change the fields given; leave the others",
		Example: "  $ inv product update SNK-LE-001 --price 189.99 --low-stock-threshold 5",
		Args:    exactArgs(1, "a product SKU or id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			fields, err := pf.fields(cmd.Flags())
			if err != nil {
				return err
			}
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			p, err := be.UpdateProduct(ctx, args[0], fields)
			if err != nil {
				return err
			}
			out.Messagef("updated product %s", p.SKUOrID())
			return out.Object(p, productFields(p))
		}),
	}
	pf.bind(c.Flags())
	return c
}

func newProductDeleteCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF",
		Short: "Delete a product (its SKU and slug become free; its ledger stays)",
		Args:  exactArgs(1, "a product SKU or id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			if err := be.DeleteProduct(ctx, args[0]); err != nil {
				return err
			}
			out.Messagef("deleted product %s", args[0])
			return nil
		}),
	}
}
