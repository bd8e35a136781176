package engine

import (
	"context"
	"testing"

	"github.com/inv-cli/inv/internal/inventory"
)

// Raising the threshold over the current stock is a crossing: one
// inventory.low_stock, and no second one while the product stays low.
func TestRaisedThresholdAlertsOnce(t *testing.T) {
	ctx := context.Background()
	e := openTest(t)
	mustCreate(t, e, inventory.ProductFields{Title: ptr("Mug"), SKU: ptr("MUG"), Stock: ptr(int64(8)), TrackStock: ptr(true)})
	if _, err := e.AddWebhook(ctx, "http://127.0.0.1:9/x", []string{"inventory.*"}, ""); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := e.DB().QueryRow(`SELECT count(*) FROM webhook_events WHERE type = 'inventory.low_stock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i, step := range []struct {
		thr  int64
		want int
	}{{5, 0}, {10, 1}, {12, 1}, {3, 1}, {9, 2}} {
		thr := ptr(step.thr)
		if _, err := e.UpdateProduct(ctx, "MUG", inventory.ProductFields{LowStockThreshold: &thr}); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != step.want {
			t.Fatalf("step %d (threshold %d, stock 8): %d low-stock events, want %d", i, step.thr, got, step.want)
		}
	}
}
