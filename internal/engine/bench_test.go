package engine

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
)

// benchRows is 1,000,000 unless INV_BENCH_ROWS says otherwise (for a quick look).
func benchRows(tb testing.TB) int {
	if s := os.Getenv("INV_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			tb.Fatalf("INV_BENCH_ROWS=%q: want a positive number", s)
		}
		return n
	}
	return 1_000_000
}

// seedProducts inserts n tracked products SKU-0000000… with stock 10 in one
// statement: the benchmarks' starting store.
func seedProducts(tb testing.TB, e *Engine, n int) {
	tb.Helper()
	_, err := e.DB().Exec(`WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?)
		INSERT INTO products (id, store_id, title, slug, sku, sku_key, track_stock, stock, created_at, updated_at)
		SELECT printf('prod_%020d', i), 'default', printf('Product %d', i), printf('product-%d', i),
		       printf('SKU-%07d', i), printf('sku-%07d', i), 1, 10, 0, 0 FROM seq`, n)
	if err != nil {
		tb.Fatal(err)
	}
}

// writeStockFile writes an n-row set-mode file in which every row changes
// stock from its current value to value.
func writeStockFile(tb testing.TB, path string, n int, value int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "sku,qty")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "SKU-%07d,%d\n", i, value)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

func importFile(tb testing.TB, e *Engine, path string) inventory.ImportReport {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	src, err := csvio.NewStockReader(f, csvio.StockOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := e.ImportStock(context.Background(), src, inventory.ImportOptions{Name: filepath.Base(path)}, inventory.ImportSink{})
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

// BenchmarkImportStock1M: a 1,000,000-row set-mode file into a store of
// 1,000,000 tracked products, every row a change (a ledger row and a product
// write each). Compare with testdata/bench/baseline.sh (the sqlite3 CLI).
func BenchmarkImportStock1M(b *testing.B) {
	n := benchRows(b)
	e := openTest(b)
	seedProducts(b, e, n)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path := filepath.Join(dir, fmt.Sprintf("stock-%d.csv", i))
		writeStockFile(b, path, n, 100+i)
		b.StartTimer()
		rep := importFile(b, e, path)
		if rep.Changed != n {
			b.Fatalf("changed %d, want %d", rep.Changed, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkImportProducts1M: a 1,000,000-product catalogue CSV (title, sku,
// price, barcode-less, stock) into an empty store: every row a new product
// and an initial-stock movement.
func BenchmarkImportProducts1M(b *testing.B) {
	n := benchRows(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "catalogue.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "Title,SKU,Price,Stock,Low stock threshold")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "Product %d,SKU-%07d,%d.99,%d,5\n", i, i, i%500, i%100)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := openTest(b)
		b.StartTimer()
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		src, err := csvio.NewCatalogueReader(in, csvio.CatalogueOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := e.ImportProducts(context.Background(), src, inventory.ImportOptions{Name: "catalogue.csv"}, inventory.ImportSink{})
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Created != n {
			b.Fatalf("created %d, want %d", rep.Created, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkAdjust: one `stock adjust` through the engine (BEGIN IMMEDIATE,
// the mutation path, the ledger row, COMMIT), in a store of 10,000 products.
func BenchmarkAdjust(b *testing.B) {
	e := openTest(b)
	seedProducts(b, e, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.ChangeStock(ctx, inventory.StockChange{Ref: fmt.Sprintf("SKU-%07d", i%10_000), Delta: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
