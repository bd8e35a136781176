package engine

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/inv-cli/inv/internal/inventory"
)

// rowsReader is an inventory.StockReader over fixed rows.
type rowsReader struct {
	recs  []inventory.StockRecord
	i     int
	blank bool
	hash  string
}

func (r *rowsReader) Next() (inventory.StockRecord, error) {
	if r.i >= len(r.recs) {
		return inventory.StockRecord{}, io.EOF
	}
	r.i++
	return r.recs[r.i-1], nil
}
func (r *rowsReader) SKUColumn() string        { return "sku" }
func (r *rowsReader) QtyColumn() string        { return "qty" }
func (r *rowsReader) BlankMeansNoChange() bool { return r.blank }
func (r *rowsReader) Hash() string             { return r.hash }

// rowsOf builds records from "SKU=QTY" pairs, rows numbered from 2.
func rowsOf(pairs ...string) *rowsReader {
	r := &rowsReader{hash: strings.Join(pairs, ";")}
	for i, p := range pairs {
		sku, qty, _ := strings.Cut(p, "=")
		r.recs = append(r.recs, inventory.StockRecord{Row: i + 2, SKU: sku, Qty: qty})
	}
	return r
}

type collected struct {
	problems []inventory.Problem
	changes  []inventory.ImportChange
}

func (c *collected) sink() inventory.ImportSink {
	return inventory.ImportSink{
		Problem: func(p inventory.Problem) error { c.problems = append(c.problems, p); return nil },
		Change:  func(ch inventory.ImportChange) error { c.changes = append(c.changes, ch); return nil },
	}
}

func stockOf(t *testing.T, e *Engine, ref string) int64 {
	t.Helper()
	p, err := e.GetProduct(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stock
}

func seed(t *testing.T, e *Engine, skus ...string) {
	for _, s := range skus {
		mustCreate(t, e, inventory.ProductFields{Title: ptr("P " + s), SKU: ptr(s), Stock: ptr(int64(10)), TrackStock: ptr(true)})
	}
}

func ledgerRows(t *testing.T, e *Engine) int {
	var n int
	if err := e.DB().QueryRow(`SELECT count(*) FROM movements`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportAllOrNothing(t *testing.T) {
	ctx := context.Background()
	e := openTest(t)
	seed(t, e, "A", "B", "C")
	before := ledgerRows(t, e)
	var c collected
	rep, err := e.ImportStock(ctx, rowsOf("a=5", "B=1,200", "ZZZ=3", "C=7", "c=8", "=4"), inventory.ImportOptions{Name: "w.csv"}, c.sink())
	if !errors.Is(err, inventory.ErrInvalid) {
		t.Fatalf("want invalid, got %v", err)
	}
	if stockOf(t, e, "A") != 10 || ledgerRows(t, e) != before {
		t.Fatal("a refused import changed something")
	}
	want := []string{
		`row 3, column "qty", value "1,200"`,
		`row 4, column "sku", value "ZZZ": no product`,
		`row 5, column "sku", value "C": the same SKU is on 2 rows (5, 6)`,
		`row 6, column "sku", value "c": the same SKU is on 2 rows (5, 6)`,
	}
	if len(c.problems) != len(want) || rep.SkippedNoSKU != 1 {
		t.Fatalf("problems %v, report %+v", c.problems, rep)
	}
	for i, w := range want {
		if !strings.HasPrefix(c.problems[i].String(), w) {
			t.Errorf("problem %d = %q, want prefix %q", i, c.problems[i], w)
		}
	}

	// --partial applies the good row and says it was partial.
	c = collected{}
	rep, err = e.ImportStock(ctx, rowsOf("a=5", "B=1,200", "ZZZ=3", "C=7", "c=8"), inventory.ImportOptions{Name: "w.csv", Partial: true}, c.sink())
	if !errors.Is(err, inventory.ErrPartial) || rep.Changed != 1 || stockOf(t, e, "A") != 5 || stockOf(t, e, "C") != 10 {
		t.Fatalf("partial: %v %+v", err, rep)
	}
	// The same set-mode file again: nothing changes, no ledger rows.
	n := ledgerRows(t, e)
	rep, err = e.ImportStock(ctx, rowsOf("A=5", "B=10"), inventory.ImportOptions{Name: "w.csv"}, c.sink())
	if err != nil || rep.Changed != 0 || rep.Unchanged != 2 || ledgerRows(t, e) != n {
		t.Fatalf("re-import: %v %+v", err, rep)
	}
}

func TestImportAdjustOnceAndBelowZero(t *testing.T) {
	ctx := context.Background()
	e := openTest(t)
	seed(t, e, "A", "B")
	var c collected
	if _, err := e.ImportStock(ctx, rowsOf("A=+5", "B=-3"), inventory.ImportOptions{Name: "d.csv", Mode: "adjust"}, c.sink()); err != nil {
		t.Fatal(err)
	}
	if stockOf(t, e, "A") != 15 || stockOf(t, e, "B") != 7 {
		t.Fatal("deltas not applied")
	}
	_, err := e.ImportStock(ctx, rowsOf("A=+5", "B=-3"), inventory.ImportOptions{Name: "d.csv", Mode: "adjust"}, c.sink())
	if !errors.Is(err, inventory.ErrConflict) || stockOf(t, e, "A") != 15 {
		t.Fatalf("second delta import: %v", err)
	}
	c = collected{}
	_, err = e.ImportStock(ctx, rowsOf("A=-100"), inventory.ImportOptions{Name: "x.csv", Mode: "adjust"}, c.sink())
	if !errors.Is(err, inventory.ErrInvalid) || len(c.problems) != 1 || !strings.Contains(c.problems[0].Reason, "from 15 to -85") {
		t.Fatalf("below zero: %v %v", err, c.problems)
	}
	// Dry run: plan reported, nothing applied.
	c = collected{}
	rep, err := e.ImportStock(ctx, rowsOf("A=1", "B=7"), inventory.ImportOptions{Name: "s.csv", DryRun: true}, c.sink())
	if err != nil || rep.Applied || len(c.changes) != 1 || c.changes[0].Before != 15 || c.changes[0].After != 1 || stockOf(t, e, "A") != 15 {
		t.Fatalf("dry run: %v %+v %+v", err, rep, c.changes)
	}
}

// A SKU repeated on a row whose quantity is refused is still a duplicate:
// the merchant learns of both problems in one run, not one after the other.
func TestImportDuplicateOfARefusedRow(t *testing.T) {
	ctx := context.Background()
	e := openTest(t)
	seed(t, e, "A", "B")
	var c collected
	_, err := e.ImportStock(ctx, rowsOf("A=1,200", "a =4", "B=2"), inventory.ImportOptions{Name: "w.csv"}, c.sink())
	if !errors.Is(err, inventory.ErrInvalid) {
		t.Fatalf("want invalid, got %v", err)
	}
	var got []string
	for _, p := range c.problems {
		got = append(got, p.String())
	}
	want := []string{
		`row 2, column "qty", value "1,200": not a whole number`,
		`row 2, column "sku", value "A": the same SKU is on 2 rows (2, 3)`,
		`row 3, column "sku", value "a ": the same SKU is on 2 rows (2, 3)`,
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, got[i], w)
		}
	}
	// --on-duplicate sum cannot add a refused quantity: the SKU's rows are
	// refused, the other rows are applied with --partial.
	c = collected{}
	rep, err := e.ImportStock(ctx, rowsOf("A=1,200", "a =4", "B=2"), inventory.ImportOptions{Name: "w.csv", OnDuplicate: "sum", Partial: true}, c.sink())
	if !errors.Is(err, inventory.ErrPartial) || rep.Changed != 1 || stockOf(t, e, "A") != 10 || stockOf(t, e, "B") != 2 {
		t.Fatalf("sum with a refused row: %v %+v %v", err, rep, c.problems)
	}
	if !strings.Contains(c.problems[len(c.problems)-1].Reason, "cannot be combined") {
		t.Errorf("problems %v do not say why the rows were not combined", c.problems)
	}
}
