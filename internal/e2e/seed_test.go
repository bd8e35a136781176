package e2e

import (
	"bufio"
	"database/sql"
	"encoding/json"
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
// a 2-core machine (about 2.5-3 s measured when idle; staging about 0.7 s).
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

// bigStore returns a fresh store holding seedN tracked products at stock 0
// (plus the TEMPLATE product they were cloned from), copied from a template
// seeded once per package run.
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

// seedTemplate creates the database with inv itself (schema, migrations and
// one TEMPLATE product made by `inv product create`), then clones TEMPLATE
// seedN times in one SQL statement. Creating 200,000 products through inv
// (`inv product import` of a catalogue) takes close to 3 minutes on two
// cores, far over the test budget; the clone keeps every column inv wrote,
// whatever the schema grows, and changes only the identity columns.
func seedTemplate(dir string) (*store, error) {
	s := &store{dir: dir, db: filepath.Join(dir, "data", "inv.db")}
	for _, d := range []string{"home", "config", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	r := s.run("product", "create", "--title", "Template", "--sku", "TEMPLATE", "--price", "9.99", "--track-stock", "--stock", "0")
	if r.code != 0 || r.err != nil {
		return nil, fmt.Errorf("%v (err %v)", r, r.err)
	}
	db, err := sql.Open("sqlite", "file:"+s.db+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.Query(`SELECT name FROM pragma_table_info('products') ORDER BY cid`)
	if err != nil {
		return nil, err
	}
	var cols, exprs []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		e := `t."` + c + `"`
		switch c {
		case "pk":
			continue
		case "id":
			e = `printf('prod_seed%011d', n)`
		case "title":
			e = `printf('Product %d', n)`
		case "slug":
			e = `printf('product-%06d', n)`
		case "sku":
			e = `printf('SKU-%06d', n)`
		case "sku_key":
			e = `printf('sku-%06d', n)`
		case "stock":
			e = `0`
		case "created_at", "updated_at":
			e = `t."` + c + `" + 1 + n`
		}
		cols = append(cols, `"`+c+`"`)
		exprs = append(exprs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	res, err := db.Exec(`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
		INSERT INTO products (`+strings.Join(cols, ", ")+`)
		SELECT `+strings.Join(exprs, ", ")+` FROM seq, products t WHERE t.sku_key = 'template'`, seedN)
	if err != nil {
		return nil, fmt.Errorf("cloning the template product: %w", err)
	}
	if n, _ := res.RowsAffected(); n != seedN {
		return nil, fmt.Errorf("cloned %d products, want %d", n, seedN)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	// inv must see the clones as ordinary products.
	r = s.run("-o", "json", "stock", "get", skuOf(seedN-1))
	var p product
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || p.SKU != skuOf(seedN-1) || !p.TrackStock || p.Stock != 0 {
		return nil, fmt.Errorf("inv does not read a seeded product back: %v\n%s", r, r.stdout)
	}
	return s, nil
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

// writeStockFile writes a set-mode stock CSV: every seeded product, in order,
// at value(i).
func writeStockFile(t testing.TB, path string, value func(int) int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "sku,stock")
	for i := range seedN {
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
