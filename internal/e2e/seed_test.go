package e2e

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// seedN is the size of the big store: enough products that a set-mode import
// changing every one of them holds the write lock for well over a second on
// a 2-core machine (measured 1.5-4 s, staging 0.5-1.2 s; seeding it through
// `inv product import` takes about 8.5 s, once per package run).
const seedN = 200_000

// skuOf is the SKU of seeded product i: SKU-000000 … SKU-199999.
func skuOf(i int) string { return fmt.Sprintf("SKU-%06d", i) }

// The set-mode files the tests import: every row changes its product (the
// seeded stock is 0), and each file's values differ from the others'.
func bigValue(i int) int64 { return 1000 + int64(i%1000) }
func aValue(i int) int64   { return 2000 + int64(i%1000) }
func bValue(i int) int64   { return 3000 + int64(i%1000) }

// template is the seeded store every big test starts from a copy of.
var template struct {
	once sync.Once
	s    *store
	err  error
	took time.Duration
}

// bigStore returns a fresh store holding seedN tracked products at stock 0,
// copied from a template seeded once per package run.
func bigStore(t testing.TB) *store {
	t.Helper()
	template.once.Do(func() {
		start := time.Now()
		template.s, template.err = seedTemplate(filepath.Join(tmpRoot, "template"))
		template.took = time.Since(start)
		if template.err == nil {
			t.Logf("seeded %d products in %v (inv build took %v)", seedN, template.took.Round(time.Millisecond), buildTook.Round(time.Millisecond))
		}
	})
	if template.err != nil {
		t.Fatalf("seeding the big store: %v", template.err)
	}
	s := newStore(t)
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(template.s.db+suffix, s.db+suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return s
}

// seedTemplate creates the big store the way a merchant would: `inv product
// import` of a generated catalogue of seedN tracked products at stock 0 (no
// ledger rows).
func seedTemplate(dir string) (*store, error) {
	s := &store{dir: dir, db: filepath.Join(dir, "data", "inv.db")}
	for _, d := range []string{"home", "config", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	f, err := os.Create(s.path("catalogue.csv"))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "title,sku,price,stock,track stock")
	for i := range seedN {
		fmt.Fprintf(w, "Product %d,%s,9.99,0,true\n", i, skuOf(i))
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	r := s.run("-q", "product", "import", s.path("catalogue.csv"))
	if r.code != 0 || r.err != nil {
		return nil, fmt.Errorf("%v (err %v)", r, r.err)
	}
	db, err := sql.Open("sqlite", "file:"+s.db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var products, tracked, stock, moves int64
	if err := db.QueryRow(`SELECT count(*), coalesce(sum(track_stock), 0), coalesce(sum(stock), 0), (SELECT count(*) FROM movements) FROM products`).
		Scan(&products, &tracked, &stock, &moves); err != nil {
		return nil, err
	}
	if products != seedN || tracked != seedN || stock != 0 || moves != 0 {
		return nil, fmt.Errorf("after the catalogue import: %d products, %d tracked, total stock %d, %d ledger rows; want %d, %d, 0, 0",
			products, tracked, stock, moves, seedN, seedN)
	}
	// One file to copy: fold the WAL into it.
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, err
	}
	return s, db.Close()
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// writeStockFile writes a set-mode stock CSV: the first n seeded products,
// in order, at value(i).
func writeStockFile(t testing.TB, path string, n int, value func(int) int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "sku,stock")
	for i := range n {
		fmt.Fprintf(w, "%s,%d\n", skuOf(i), value(i))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// countAt counts the seeded products whose stock is base + i%1000, i.e.
// exactly what the file of that base set.
func countAt(t testing.TB, db *sql.DB, base int64) int64 {
	t.Helper()
	return queryInt(t, db, `SELECT count(*) FROM products
		WHERE sku_key LIKE 'sku-%' AND stock = ? + CAST(substr(sku_key, 5) AS INTEGER) % 1000`, base)
}

// debugDuration returns the duration inv --debug printed after marker, e.g.
// "import: committed in " → 2.915s; 0 when absent.
func debugDuration(stderr, marker string) time.Duration {
	i := strings.Index(stderr, marker)
	if i < 0 {
		return 0
	}
	rest := stderr[i+len(marker):]
	if j := strings.IndexAny(rest, " )\n"); j >= 0 {
		rest = rest[:j]
	}
	d, _ := time.ParseDuration(rest)
	return d
}
