package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/inv-cli/inv/internal/inventory"
	"github.com/inv-cli/inv/internal/output"
)

func webhookTable(ws []inventory.Webhook) output.Table {
	t := output.Table{
		Header: []string{"id", "url", "events", "active", "failures", "pending", "last triggered"},
		Right:  []bool{false, false, false, false, true, true, false},
	}
	for _, w := range ws {
		last := ""
		if w.LastTriggeredAt != nil {
			last = w.LastTriggeredAt.String()
		}
		t.Rows = append(t.Rows, []string{w.ID, w.URL, strings.Join(w.Events, ","), yesNo(w.IsActive), fmt.Sprint(w.FailureCount), fmt.Sprint(w.Pending), last})
	}
	return t
}

func newWebhookCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "webhook",
		Short: "Tell other systems about changes: signed, retried webhooks",
		Long: `Webhooks deliver events (product.created|updated|deleted, inventory.low_stock,
inventory.out_of_stock, order.created|updated|cancelled) as signed JSON POSTs.

Events are written in the same transaction as the change (an outbox), so none is lost even if
inv is killed right after a change. After each change inv tries to deliver what is pending for
up to webhook.delivery_budget (2s); the rest waits for 'inv webhook deliver' (run it from cron)
or 'inv serve'. Failed deliveries are retried with exponential backoff; a product's events are
delivered in the order they happened; only a 2xx answer counts.`,
	}
	var events, secret string
	add := &cobra.Command{
		Use:     "add URL --events product.updated,inventory.low_stock [--secret S]",
		Short:   "Register an endpoint (the secret is generated and shown once when not given)",
		Example: "  $ inv webhook add https://erp.example.com/hooks/inv --events 'product.*,inventory.low_stock'",
		Args:    exactArgs(1, "the endpoint URL"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			var evs []string
			for _, e := range strings.Split(events, ",") {
				if e = strings.TrimSpace(e); e != "" {
					evs = append(evs, e)
				}
			}
			w, err := be.AddWebhook(ctx, args[0], evs, secret)
			if err != nil {
				return err
			}
			if secret == "" {
				out.Messagef("webhook %s added; its signing secret is shown only now: %s", w.ID, w.Secret)
			} else {
				out.Messagef("webhook %s added", w.ID)
			}
			t := webhookTable([]inventory.Webhook{w})
			t.Header = append(t.Header, "secret")
			t.Rows[0] = append(t.Rows[0], w.Secret)
			return out.Print(w, t)
		}),
	}
	add.Flags().StringVar(&events, "events", "", "comma-separated event types; product.* style wildcards")
	add.Flags().StringVar(&secret, "secret", "", "signing secret (at least 16 characters; generated when absent)")

	list := &cobra.Command{
		Use:   "list",
		Short: "Endpoints, their failure counts and pending events",
		Args:  cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			ws, err := be.ListWebhooks(ctx)
			if err != nil {
				return err
			}
			return out.Print(nonNil(ws), webhookTable(ws))
		}),
	}
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove an endpoint (and what is still queued for it)",
		Args:  exactArgs(1, "a webhook id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			if err := be.RemoveWebhook(ctx, args[0]); err != nil {
				return err
			}
			out.Messagef("webhook %s removed", args[0])
			return nil
		}),
	}
	test := &cobra.Command{
		Use:   "test ID",
		Short: "Send a sample event (type webhook.test) now and print the answer",
		Args:  exactArgs(1, "a webhook id"),
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			r, err := be.TestWebhook(ctx, args[0])
			if err != nil {
				return err
			}
			t := output.Table{Header: []string{"status", "latency ms", "answer", "error"}, Right: []bool{true, true, false, false},
				Rows: [][]string{{fmt.Sprint(r.Status), fmt.Sprint(r.LatencyMS), r.Body, r.Error}}}
			if err := out.Print(r, t); err != nil {
				return err
			}
			if r.Delivered == 0 {
				return inventory.Unavailablef("the endpoint did not accept the test event: %s", r.Error)
			}
			return nil
		}),
	}
	var failed bool
	var limit int
	deliveries := &cobra.Command{
		Use:   "deliveries [--failed]",
		Short: "Every delivery attempt: event, status, latency, error",
		Args:  cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			ds, err := be.Deliveries(ctx, failed, limit)
			if err != nil {
				return err
			}
			t := output.Table{
				Header: []string{"time", "webhook", "event", "type", "attempt", "status", "latency ms", "error"},
				Right:  []bool{false, false, false, false, true, true, true, false},
			}
			for _, d := range ds {
				t.Rows = append(t.Rows, []string{d.Time.String(), d.WebhookID, d.EventID, d.Type, fmt.Sprint(d.Attempt), fmt.Sprint(d.Status), fmt.Sprint(d.LatencyMS), d.Error})
			}
			return out.Print(nonNil(ds), t)
		}),
	}
	deliveries.Flags().BoolVar(&failed, "failed", false, "only attempts that failed")
	deliveries.Flags().IntVar(&limit, "limit", 100, "the last N attempts")

	var timeout time.Duration
	deliver := &cobra.Command{
		Use:   "deliver",
		Short: "Send every pending event now (for cron); exit 7 if some could not be delivered",
		Example: `  $ inv webhook deliver
  */5 * * * * inv -q webhook deliver`,
		Args: cobra.NoArgs,
		RunE: runE(f, func(ctx context.Context, cmd *cobra.Command, args []string) error {
			be, out, err := open(ctx, f, cmd)
			if err != nil {
				return err
			}
			r, err := be.DeliverWebhooks(ctx, timeout, true)
			if err != nil {
				return err
			}
			out.Messagef("webhooks: %d delivered, %d failed, %d still pending", r.Delivered, r.Failed, r.Pending)
			if err := out.Print(r, output.Table{Header: []string{"attempts", "delivered", "failed", "pending"},
				Right: []bool{true, true, true, true},
				Rows:  [][]string{{fmt.Sprint(r.Attempts), fmt.Sprint(r.Delivered), fmt.Sprint(r.Failed), fmt.Sprint(r.Pending)}}}); err != nil {
				return err
			}
			if r.Pending > 0 {
				return inventory.Unavailablef("%d event(s) could not be delivered yet; see inv webhook deliveries --failed", r.Pending)
			}
			return nil
		}),
	}
	deliver.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "stop starting deliveries after this long")
	c.AddCommand(add, list, remove, test, deliveries, deliver)
	return c
}
