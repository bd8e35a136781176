package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/backend"
	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/output"
)

func orderTable(os []inventory.Order) output.Table {
	t := output.Table{
		Header: []string{"number", "id", "external id", "status", "total", "items", "created"},
		Right:  []bool{false, false, false, false, true, false, false},
	}
	for _, o := range os {
		var items []string
		for _, it := range o.Items {
			items = append(items, fmt.Sprintf("%s×%d", it.SKU, it.Quantity))
		}
		t.Rows = append(t.Rows, []string{o.OrderNumber, o.ID, str(o.ExternalID), o.Status, o.Total, strings.Join(items, ", "), o.CreatedAt.String()})
	}
	return t
}

func newOrderCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "order",
		Short: "Place orders that deduct stock, and cancel or fulfil them",
	}
	var ext, reservation string
	create := &cobra.Command{
		Use:   "create [FILE|-] [SKU=QTY ...] [--id EXTERNAL-ID] [--reservation ID]",
		Short: "Deduct every tracked line at once, or refuse the whole order (exit 5)",
		Long: `Place an order: every tracked line is deducted in one transaction, or none is and inv exits 5
with a table of the short lines. Lines are checked against available stock (stock minus live
reservations); --reservation uses a reservation's held units. A repeated --id (the storefront's
order id) returns the existing order and deducts nothing, even when two arrive at once.`,
		Example: `  $ inv order create cart.json --id web-1042
  $ inv order create MUG-BLU=2 --id pos-77`,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			lines, be, out, err := openCart(ctx, f, cmd, args)
			if err != nil {
				return err
			}
			res, err := be.CreateOrder(ctx, inventory.OrderRequest{ExternalID: ext, ReservationID: reservation, Lines: lines})
			if err != nil {
				return printRefusal(out, err)
			}
			if res.Existing {
				out.Messagef("order %s with id %q already exists; nothing was deducted this time", res.Order.OrderNumber, ext)
			} else {
				out.Messagef("order %s placed; stock deducted", res.Order.OrderNumber)
			}
			return out.Print(res.Order, orderTable([]inventory.Order{res.Order}))
		}),
	}
	create.Flags().StringVar(&ext, "id", "", "the order's external id: a repeat returns the first order")
	create.Flags().StringVar(&reservation, "reservation", "", "use the units held by this reservation")

	var status string
	var limit, offset int
	list := &cobra.Command{
		Use:   "list",
		Short: "Orders in the order they were placed",
		Args:  cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			os, err := be.ListOrders(ctx, status, limit, offset)
			if err != nil {
				return err
			}
			return out.Print(nonNil(os), orderTable(os))
		}),
	}
	list.Flags().StringVar(&status, "status", "", "only paid, fulfilled or cancelled orders")
	list.Flags().IntVar(&limit, "limit", 0, "at most this many (0 = all)")
	list.Flags().IntVar(&offset, "offset", 0, "skip this many")

	get := &cobra.Command{
		Use:   "get REF",
		Short: "Show an order (REF: its id, ORD- number or external id)",
		Args:  exactArgs(1, "an order id, number or external id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			o, err := be.GetOrder(ctx, args[0])
			if err != nil {
				return err
			}
			return out.Print(o, orderItemsTable(o))
		}),
	}
	transition := func(use, short, done string, fn func(context.Context, backend.Backend, string) (inventory.Order, bool, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " REF",
			Short: short,
			Args:  exactArgs(1, "an order id, number or external id"),
			RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
				be, out, err := open(ctx, f, cmd)
				if err != nil {
					return err
				}
				o, changed, err := fn(ctx, be, args[0])
				if err != nil {
					return err
				}
				if changed {
					out.Messagef("order %s %s", o.OrderNumber, done)
				} else {
					out.Messagef("order %s was already %s; nothing changed", o.OrderNumber, o.Status)
				}
				return out.Print(o, orderTable([]inventory.Order{o}))
			}),
		}
	}
	cancel := transition("cancel", "Cancel an order and restore its tracked lines' stock (once)", "cancelled; stock restored",
		func(ctx context.Context, be backend.Backend, ref string) (inventory.Order, bool, error) {
			return be.CancelOrder(ctx, ref)
		})
	fulfill := transition("fulfill", "Mark an order fulfilled (shipped)", "fulfilled",
		func(ctx context.Context, be backend.Backend, ref string) (inventory.Order, bool, error) {
			return be.FulfillOrder(ctx, ref)
		})
	c.AddCommand(mutates(create), get, list, mutates(cancel), mutates(fulfill))
	return c
}

func orderItemsTable(o inventory.Order) output.Table {
	t := output.Table{
		Header: []string{"number", "status", "sku", "title", "quantity", "unit price", "deducted", "total"},
		Right:  []bool{false, false, false, false, true, true, true, true},
	}
	for _, it := range o.Items {
		t.Rows = append(t.Rows, []string{o.OrderNumber, o.Status, it.SKU, it.TitleSnapshot, i64(it.Quantity), it.UnitPrice, i64(it.Deducted), o.Total})
	}
	return t
}
