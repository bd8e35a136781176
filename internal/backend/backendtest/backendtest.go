// Package backendtest is the one conformance suite every Backend must pass:
// the embedded engine now, the remote client against `inv serve` later. It
// speaks only through the backend.Backend interface and asserts what a user
// of inv would see.
package backendtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inv-cli/inv/internal/backend"
	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
)

// Opener returns a fresh, empty backend for one test.
type Opener func(t *testing.T) backend.Backend

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	t.Run("Products", func(t *testing.T) { testProducts(t, open(t)) })
	t.Run("StockRules", func(t *testing.T) { testStockRules(t, open(t)) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, open(t)) })
	t.Run("ImportStock", func(t *testing.T) { testImportStock(t, open(t)) })
	t.Run("ImportCatalogue", func(t *testing.T) { testImportCatalogue(t, open(t)) })
}

func ptr[T any](v T) *T { return &v }

func create(t *testing.T, b backend.Backend, title, sku string, stock int64, tracked bool) inventory.Product {
	t.Helper()
	p, err := b.CreateProduct(context.Background(), inventory.ProductFields{Title: &title, SKU: &sku, Stock: &stock, TrackStock: &tracked})
	if err != nil {
		t.Fatalf("create %s: %v", sku, err)
	}
	return p
}

func stock(t *testing.T, b backend.Backend, ref string) int64 {
	t.Helper()
	p, err := b.GetProduct(context.Background(), ref)
	if err != nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return p.Stock
}

func wantKind(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: want %v, got %v", what, kind, err)
	}
}

func testProducts(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	thr := ptr(int64(10))
	p, err := b.CreateProduct(ctx, inventory.ProductFields{Title: ptr("Limited Edition Sneakers"), SKU: ptr(" SNK-LE-001 "),
		Price: ptr("199.99"), Stock: ptr(int64(50)), TrackStock: ptr(true), LowStockThreshold: &thr, Barcode: ptr("0012345678905")})
	if err != nil {
		t.Fatal(err)
	}
	if *p.SKU != "SNK-LE-001" || p.Slug != "limited-edition-sneakers" || p.Status != "draft" || p.Stock != 50 ||
		p.Available != 50 || *p.Barcode != "0012345678905" || *p.LowStockThreshold != 10 || !strings.HasPrefix(p.ID, "prod_") {
		t.Fatalf("created %+v", p)
	}
	// The SKU is unique ignoring case and surrounding spaces; the slug is made unique.
	_, err = b.CreateProduct(ctx, inventory.ProductFields{Title: ptr("Limited Edition Sneakers"), SKU: ptr("snk-le-001")})
	wantKind(t, err, inventory.ErrConflict, "duplicate SKU")
	q, err := b.CreateProduct(ctx, inventory.ProductFields{Title: ptr("Limited Edition Sneakers"), SKU: ptr("SNK-LE-002")})
	if err != nil || q.Slug != "limited-edition-sneakers-2" {
		t.Fatalf("second product: %+v %v", q, err)
	}
	_, err = b.CreateProduct(ctx, inventory.ProductFields{Title: ptr("X"), Barcode: ptr("0012345678906")})
	wantKind(t, err, inventory.ErrInvalid, "bad check digit")
	_, err = b.CreateProduct(ctx, inventory.ProductFields{Title: ptr("X"), Price: ptr("1,50")})
	wantKind(t, err, inventory.ErrInvalid, "price with a comma")
	_, err = b.CreateProduct(ctx, inventory.ProductFields{Title: ptr("X"), Stock: ptr(int64(-1))})
	wantKind(t, err, inventory.ErrInvalid, "negative stock without backorder")

	// Get by id or by SKU in any case.
	for _, ref := range []string{p.ID, "snk-le-001", "  SNK-LE-001"} {
		if g, err := b.GetProduct(ctx, ref); err != nil || g.ID != p.ID {
			t.Fatalf("get %q: %+v %v", ref, g, err)
		}
	}
	_, err = b.GetProduct(ctx, "NOPE")
	wantKind(t, err, inventory.ErrNotFound, "unknown SKU")

	// Update changes only what is given; clearing the threshold takes it off the low list.
	u, err := b.UpdateProduct(ctx, "SNK-LE-001", inventory.ProductFields{Price: ptr("189")})
	if err != nil || u.Price != "189.00" || u.Title != p.Title || u.Stock != 50 {
		t.Fatalf("update: %+v %v", u, err)
	}
	if _, err := b.ChangeStock(ctx, inventory.StockChange{Ref: "SNK-LE-001", IsSet: true, Set: 10}); err != nil {
		t.Fatal(err)
	}
	low, _, err := b.ListProducts(ctx, inventory.ProductFilter{LowStock: true})
	if err != nil || len(low) != 1 || low[0].ID != p.ID {
		t.Fatalf("low stock at the threshold: %v %v", low, err)
	}
	var none *int64
	if _, err := b.UpdateProduct(ctx, "SNK-LE-001", inventory.ProductFields{LowStockThreshold: &none}); err != nil {
		t.Fatal(err)
	}
	if low, _, _ := b.ListProducts(ctx, inventory.ProductFilter{LowStock: true}); len(low) != 0 {
		t.Fatalf("a null threshold is never low: %v", low)
	}
	_, err = b.UpdateProduct(ctx, "SNK-LE-002", inventory.ProductFields{SKU: ptr("SNK-le-001")})
	wantKind(t, err, inventory.ErrConflict, "update to a taken SKU")

	// List order is creation order; search; paging with a total.
	all, total, err := b.ListProducts(ctx, inventory.ProductFilter{Limit: 1, Offset: 1})
	if err != nil || total != 2 || len(all) != 1 || all[0].ID != q.ID {
		t.Fatalf("paging: %v total %d %v", all, total, err)
	}
	// Delete frees the SKU and hides the product.
	if err := b.DeleteProduct(ctx, "SNK-LE-001"); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetProduct(ctx, "SNK-LE-001")
	wantKind(t, err, inventory.ErrNotFound, "deleted product")
	create(t, b, "Again", "SNK-LE-001", 1, true)
	if del, _, _ := b.ListProducts(ctx, inventory.ProductFilter{Status: "deleted"}); len(del) != 1 || del[0].Status != "deleted" {
		t.Fatalf("deleted list: %v", del)
	}
}

func testStockRules(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	create(t, b, "Sneakers", "SNK-LE-001", 50, true)
	steps := []struct {
		c     inventory.StockChange
		kind  error
		stock int64
	}{
		{inventory.StockChange{Ref: "SNK-LE-001", Delta: 20}, nil, 70},
		{inventory.StockChange{Ref: "snk-le-001", Delta: -5, Reason: "damaged"}, nil, 65},
		{inventory.StockChange{Ref: "SNK-LE-001", Delta: -100}, inventory.ErrInsufficientStock, 65},
		{inventory.StockChange{Ref: "SNK-LE-001", IsSet: true, Set: 75, Expect: ptr(int64(60))}, inventory.ErrConflict, 65},
		{inventory.StockChange{Ref: "SNK-LE-001", IsSet: true, Set: 75, Expect: ptr(int64(65)), Reason: "recount"}, nil, 75},
		{inventory.StockChange{Ref: "SNK-LE-001", IsSet: true, Set: -1}, inventory.ErrInsufficientStock, 75},
		{inventory.StockChange{Ref: "SNK-LE-001", Delta: -80, Clamp: true}, nil, 0},
		{inventory.StockChange{Ref: "SNK-LE-001", Delta: 0}, nil, 0},
		{inventory.StockChange{Ref: "NOPE", Delta: 1}, inventory.ErrNotFound, 0},
	}
	for i, s := range steps {
		_, err := b.ChangeStock(ctx, s.c)
		if s.kind == nil && err != nil || s.kind != nil && !errors.Is(err, s.kind) {
			t.Fatalf("step %d %+v: want %v, got %v", i, s.c, s.kind, err)
		}
		if got := stock(t, b, "SNK-LE-001"); got != s.stock {
			t.Fatalf("step %d: stock %d, want %d", i, got, s.stock)
		}
	}
	h, err := b.History(ctx, "SNK-LE-001", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var sum int64
	for _, m := range h {
		got = append(got, m.Reason)
		sum += m.Delta
		if m.StockAfter != sum {
			t.Fatalf("ledger row %+v: stockAfter %d, but the deltas so far sum to %d", m, m.StockAfter, sum)
		}
	}
	if strings.Join(got, ",") != "created,adjust,damaged,recount,adjust" {
		t.Fatalf("history reasons %v (refused and no-op changes must leave no row)", got)
	}
	if last, _ := b.History(ctx, "SNK-LE-001", 2); len(last) != 2 || last[1].Reason != "adjust" || last[0].Reason != "recount" {
		t.Fatalf("--limit 2 gives the last two, oldest first: %+v", last)
	}

	// Backorder allows negative stock; turning it off while negative is refused.
	create(t, b, "Pre-order", "PRE-1", 0, true)
	if _, err := b.UpdateProduct(ctx, "PRE-1", inventory.ProductFields{AllowBackorder: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if r, err := b.ChangeStock(ctx, inventory.StockChange{Ref: "PRE-1", Delta: -3}); err != nil || r.Product.Stock != -3 {
		t.Fatalf("backorder adjust: %+v %v", r, err)
	}
	_, err = b.UpdateProduct(ctx, "PRE-1", inventory.ProductFields{AllowBackorder: ptr(false)})
	wantKind(t, err, inventory.ErrConflict, "backorder off while negative")
}

func testIdempotency(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	create(t, b, "Mug", "MUG-1", 10, true)
	c := inventory.StockChange{Ref: "MUG-1", Delta: 5, IdempotencyKey: "delivery-42"}
	r1, err := b.ChangeStock(ctx, c)
	if err != nil || r1.Replayed || r1.Product.Stock != 15 {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := b.ChangeStock(ctx, c)
	if err != nil || !r2.Replayed || r2.Product.Stock != 15 || stock(t, b, "MUG-1") != 15 {
		t.Fatalf("replay: %+v %v", r2, err)
	}
	c.Delta = 6
	_, err = b.ChangeStock(ctx, c)
	wantKind(t, err, inventory.ErrConflict, "same key, other change")
}

type found struct {
	problems []inventory.Problem
	changes  []inventory.ImportChange
}

func (f *found) sink() inventory.ImportSink {
	return inventory.ImportSink{
		Problem: func(p inventory.Problem) error { f.problems = append(f.problems, p); return nil },
		Change:  func(c inventory.ImportChange) error { f.changes = append(f.changes, c); return nil },
	}
}

func importStock(t *testing.T, b backend.Backend, csv string, o inventory.ImportOptions) (inventory.ImportReport, *found, error) {
	t.Helper()
	src, err := csvio.NewStockReader(strings.NewReader(csv), csvio.StockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Name == "" {
		o.Name = "stock.csv"
	}
	f := &found{}
	rep, err := b.ImportStock(context.Background(), src, o, f.sink())
	return rep, f, err
}

func testImportStock(t *testing.T, b backend.Backend) {
	for _, s := range []string{"A", "B", "C"} {
		create(t, b, "P "+s, s, 10, true)
	}
	history := func() int {
		n := 0
		for _, s := range []string{"A", "B", "C"} {
			h, err := b.History(context.Background(), s, 1000)
			if err != nil {
				t.Fatal(err)
			}
			n += len(h)
		}
		return n
	}
	h0 := history()
	// Every problem reported, nothing applied.
	bad := "sku;qty\r\na;5\r\nB;\"1,200\"\r\nZZZ;1\r\nC;7\r\nc ;8\r\n"
	rep, f, err := importStock(t, b, bad, inventory.ImportOptions{})
	wantKind(t, err, inventory.ErrInvalid, "bad file")
	if len(f.problems) != 4 || rep.Rejected != 4 || len(f.changes) != 0 || stock(t, b, "A") != 10 || history() != h0 {
		t.Fatalf("bad file: %+v %+v", rep, f)
	}
	wantRows := []int{3, 4, 5, 6}
	for i, p := range f.problems {
		if p.Row != wantRows[i] {
			t.Fatalf("problem %d on row %d, want %d: %v", i, p.Row, wantRows[i], f.problems)
		}
	}
	// --partial applies the rest and says so.
	rep, f, err = importStock(t, b, bad, inventory.ImportOptions{Partial: true})
	wantKind(t, err, inventory.ErrPartial, "partial")
	if rep.Changed != 1 || stock(t, b, "A") != 5 || stock(t, b, "C") != 10 || len(f.changes) != 1 {
		t.Fatalf("partial: %+v %+v", rep, f)
	}
	// Duplicates combined on request.
	if _, _, err := importStock(t, b, "sku,qty\nC,7\nc,8\n", inventory.ImportOptions{OnDuplicate: "sum"}); err != nil || stock(t, b, "C") != 15 {
		t.Fatalf("sum: %v %d", err, stock(t, b, "C"))
	}
	if _, _, err := importStock(t, b, "sku,qty\nC,7\nc,8\n", inventory.ImportOptions{OnDuplicate: "last"}); err != nil || stock(t, b, "C") != 8 {
		t.Fatalf("last: %v %d", err, stock(t, b, "C"))
	}
	// Unknown SKUs skipped on request; dry run changes nothing.
	rep, _, err = importStock(t, b, "sku,qty\nZZZ,1\nB,3\n", inventory.ImportOptions{SkipUnknown: true, DryRun: true})
	if err != nil || rep.SkippedUnknown != 1 || rep.Changed != 1 || rep.Applied || stock(t, b, "B") != 10 {
		t.Fatalf("dry run: %+v %v", rep, err)
	}
	// The same set file twice: the second changes nothing and writes no ledger row.
	file := "sku,qty\nA,1\nB,2\nC,3\n"
	if _, _, err := importStock(t, b, file, inventory.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	h1 := history()
	rep, f, err = importStock(t, b, file, inventory.ImportOptions{})
	if err != nil || rep.Changed != 0 || rep.Unchanged != 3 || len(f.changes) != 0 || history() != h1 {
		t.Fatalf("re-import: %+v %v", rep, err)
	}
	// A delta file applies once.
	delta := "sku,qty\nA,+4\nB,-2\n"
	if _, _, err := importStock(t, b, delta, inventory.ImportOptions{Mode: "adjust"}); err != nil || stock(t, b, "A") != 5 || stock(t, b, "B") != 0 {
		t.Fatalf("delta: %v", err)
	}
	_, _, err = importStock(t, b, delta, inventory.ImportOptions{Mode: "adjust"})
	wantKind(t, err, inventory.ErrConflict, "delta file again")
	// Below zero without backorder is a problem of that row.
	_, f, err = importStock(t, b, "sku,qty\nA,-6\n", inventory.ImportOptions{Mode: "adjust"})
	wantKind(t, err, inventory.ErrInvalid, "delta below zero")
	if len(f.problems) != 1 || !strings.Contains(f.problems[0].Reason, "below zero") || stock(t, b, "A") != 5 {
		t.Fatalf("below zero: %+v", f.problems)
	}
}

func testImportCatalogue(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	file := "Title,SKU,Price,Barcode,Stock,Allow backorder\n" +
		"Mug,MUG-1,12,0012345678905,5,\n" +
		"Pre-order lamp,LAMP-1,80,,-2,yes\n" +
		"Gift card,GIFT-1,25,,,\n" +
		"Image only,,,,,\n"
	run := func(o inventory.ImportOptions) (inventory.ImportReport, *found, error) {
		src, err := csvio.NewCatalogueReader(strings.NewReader(file), csvio.CatalogueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f := &found{}
		o.Name = "catalogue.csv"
		rep, err := b.ImportProducts(ctx, src, o, f.sink())
		return rep, f, err
	}
	rep, f, err := run(inventory.ImportOptions{DryRun: true})
	if err != nil || rep.Created != 3 || len(f.changes) != 3 {
		t.Fatalf("dry run: %+v %+v %v", rep, f, err)
	}
	if _, n, _ := b.ListProducts(ctx, inventory.ProductFilter{}); n != 0 {
		t.Fatalf("a dry run created %d products", n)
	}
	rep, _, err = run(inventory.ImportOptions{})
	if err != nil || rep.Created != 3 || rep.SkippedNoSKU != 1 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	mug, _ := b.GetProduct(ctx, "MUG-1")
	lamp, _ := b.GetProduct(ctx, "LAMP-1")
	gift, _ := b.GetProduct(ctx, "GIFT-1")
	if mug.Stock != 5 || !mug.TrackStock || *mug.Barcode != "0012345678905" || mug.Price != "12.00" ||
		lamp.Stock != -2 || !lamp.AllowBackorder || gift.TrackStock || gift.Stock != 0 {
		t.Fatalf("imported: %+v\n%+v\n%+v", mug, lamp, gift)
	}
	rep, f, err = run(inventory.ImportOptions{})
	if err != nil || rep.Changed != 0 || rep.Unchanged != 3 || len(f.changes) != 0 {
		t.Fatalf("again: %+v %+v %v", rep, f, err)
	}
}
