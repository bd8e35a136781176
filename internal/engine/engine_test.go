package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/inv-cli/inv/internal/inventory"
)

func openTest(t testing.TB) *Engine {
	t.Helper()
	e, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "inv.db"), Actor: "tester", Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func ptr[T any](v T) *T { return &v }

func mustCreate(t testing.TB, e *Engine, f inventory.ProductFields) inventory.Product {
	t.Helper()
	p, err := e.CreateProduct(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sneakers(t testing.TB, e *Engine) inventory.Product {
	thr := ptr(int64(10))
	return mustCreate(t, e, inventory.ProductFields{Title: ptr("Limited Edition Sneakers"), SKU: ptr("SNK-LE-001"),
		Price: ptr("199.99"), Stock: ptr(int64(50)), TrackStock: ptr(true), LowStockThreshold: &thr})
}

func TestAdjustSetExpectAndLedger(t *testing.T) {
	ctx := context.Background()
	e := openTest(t)
	p := sneakers(t, e)
	if p.Stock != 50 || p.Slug != "limited-edition-sneakers" || p.Price != "199.99" || !p.TrackStock {
		t.Fatalf("created %+v", p)
	}
	r, err := e.ChangeStock(ctx, inventory.StockChange{Ref: "SNK-LE-001", Delta: 20})
	if err != nil || r.Product.Stock != 70 || r.Before != 50 || r.Delta != 20 {
		t.Fatalf("adjust +20: %+v %v", r, err)
	}
	r, err = e.ChangeStock(ctx, inventory.StockChange{Ref: " snk-le-001 ", Delta: -5, Reason: "damaged"})
	if err != nil || r.Product.Stock != 65 {
		t.Fatalf("adjust -5: %+v %v", r, err)
	}
	_, err = e.ChangeStock(ctx, inventory.StockChange{Ref: "SNK-LE-001", Delta: -100})
	if !errors.Is(err, inventory.ErrInsufficientStock) {
		t.Fatalf("adjust -100: want insufficient stock, got %v", err)
	}
	_, err = e.ChangeStock(ctx, inventory.StockChange{Ref: "SNK-LE-001", IsSet: true, Set: 75, Expect: ptr(int64(60))})
	if !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("set --expect 60: want conflict, got %v", err)
	}
	r, err = e.ChangeStock(ctx, inventory.StockChange{Ref: "SNK-LE-001", Delta: -100, Clamp: true})
	if err != nil || r.Product.Stock != 0 || !r.Clamped {
		t.Fatalf("clamp: %+v %v", r, err)
	}
	h, err := e.History(ctx, "SNK-LE-001", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		delta, after int64
		reason       string
	}{{50, 50, "created"}, {20, 70, "adjust"}, {-5, 65, "damaged"}, {-65, 0, "adjust"}}
	if len(h) != len(want) {
		t.Fatalf("history has %d rows: %+v", len(h), h)
	}
	for i, w := range want {
		if h[i].Delta != w.delta || h[i].StockAfter != w.after || h[i].Reason != w.reason || h[i].Actor != "tester" {
			t.Errorf("history[%d] = %+v, want %+v", i, h[i], w)
		}
	}
}
