package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// mutates marks a command whose changes may have queued webhook events:
// after it runs, inv delivers what is pending within the delivery budget.
func mutates(c *cobra.Command) *cobra.Command {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations["mutates"] = "true"
	return c
}

// deliverAfter sends pending webhook events after a change, within the
// configured budget. It never fails the command: what is not delivered now
// stays queued for `inv webhook deliver`.
func deliverAfter(ctx context.Context, f *Factory, cmd *cobra.Command) {
	if cmd == nil || cmd.Annotations["mutates"] != "true" || f.be == nil || f.cfg == nil || ctx.Err() != nil {
		return
	}
	r, err := f.be.DeliverWebhooks(ctx, f.cfg.DeliveryBudget, false)
	if err != nil {
		if f.cfg.Debug {
			f.debugf("webhooks: %v", err)
		}
		return
	}
	if r.Attempts > 0 && f.cfg.Debug {
		f.debugf("webhooks: %d attempt(s), %d delivered, %d pending", r.Attempts, r.Delivered, r.Pending)
	}
	if r.Failed > 0 && r.Pending > 0 && !f.cfg.Quiet {
		fmt.Fprintf(f.Err, "inv: %d webhook event(s) not delivered yet; they are kept, and 'inv webhook deliver' sends them\n", r.Pending)
	}
}
