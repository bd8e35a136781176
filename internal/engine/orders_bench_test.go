package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/inv-cli/inv/internal/engine"
	"github.com/inv-cli/inv/internal/inventory"
)

// orderBenchStock is each benchmark product's starting stock: enough that no
// order of a run (up to -benchtime 2000x, or an auto-scaled b.N) runs short.
const orderBenchStock = 100_000_000

// openOrderBench opens an engine on a file in b.TempDir() holding n tracked
// products OB-000 … with plenty of stock, created through the engine, and
// returns the cart lines that order one unit of each.
func openOrderBench(b *testing.B, n int) (*engine.Engine, []inventory.CartLine) {
	b.Helper()
	ctx := context.Background()
	e, err := engine.Open(ctx, engine.Options{Path: filepath.Join(b.TempDir(), "inv.db"), Actor: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	lines := make([]inventory.CartLine, 0, n)
	for i := range n {
		title, sku, price := fmt.Sprintf("Bench product %d", i), fmt.Sprintf("OB-%03d", i), "9.99"
		track, stock := true, int64(orderBenchStock)
		if _, err := e.CreateProduct(ctx, inventory.ProductFields{Title: &title, SKU: &sku, Price: &price, TrackStock: &track, Stock: &stock}); err != nil {
			b.Fatal(err)
		}
		lines = append(lines, inventory.CartLine{SKU: sku, Quantity: 1})
	}
	return e, lines
}

// benchOrderCreate places one order per iteration (every line deducted in one
// BEGIN IMMEDIATE transaction with its ledger rows), each with a new external
// id, so every iteration is a real placement, never an idempotent replay.
func benchOrderCreate(b *testing.B, n int) {
	e, lines := openOrderBench(b, n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := e.CreateOrder(ctx, inventory.OrderRequest{ExternalID: fmt.Sprintf("bench-%d", i), Lines: lines})
		if err != nil {
			b.Fatal(err)
		}
		if res.Existing || len(res.Order.Items) != n {
			b.Fatalf("order %d: existing %v with %d items, want a new order of %d lines", i, res.Existing, len(res.Order.Items), n)
		}
	}
	b.StopTimer()
	// Every iteration deducted each line once.
	p, err := e.GetProduct(ctx, lines[0].SKU)
	if err != nil {
		b.Fatal(err)
	}
	if want := int64(orderBenchStock - b.N); p.Stock != want {
		b.Fatalf("%s: stock %d after %d orders, want %d", lines[0].SKU, p.Stock, b.N, want)
	}
}

// BenchmarkOrderCreate1Line: `inv order create X=1 --id …` through the engine.
func BenchmarkOrderCreate1Line(b *testing.B) { benchOrderCreate(b, 1) }

// BenchmarkOrderCreate10Lines: an order of 10 tracked products.
func BenchmarkOrderCreate10Lines(b *testing.B) { benchOrderCreate(b, 10) }
