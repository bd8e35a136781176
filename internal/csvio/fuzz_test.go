package csvio_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/inv-cli/inv/internal/csvio"
	"github.com/inv-cli/inv/internal/inventory"
)

// FuzzStockReader: whatever the bytes, the reader does not panic, ends (with
// io.EOF or an error) within one Next per input byte, numbers rows from 2 up
// and never backwards, and at io.EOF hashes exactly the input.
func FuzzStockReader(f *testing.F) {
	for _, name := range []string{"shopify-inventory.csv", "magento-stock.csv", "warehouse-3pl.csv", "woocommerce-products.csv"} {
		f.Add(sample(f, name), "", "")
	}
	f.Add([]byte("\uFEFF\"sku\";\"qty\"\r\n\"A;1\";5\r\nB;\"6\"\n"), "", "")
	f.Add([]byte("sku|qty\n\"a\nb\"|1\n\n\n|2\nc"), "", "")
	f.Add([]byte("sku\tqty\nA\t\"1\"\"\"\n"), "", "")
	f.Add([]byte("sku,qty\nA,1\nB \"x\",2\n"), "", "")
	f.Add([]byte("sku,qty\n\"A,1\n"), "", "")
	f.Add([]byte("Handle,Code,Count\nx,A,1\n"), "code", "count")
	f.Add([]byte("\r\n\r\nsku,qty\r\r\nA,1\r"), "", "")
	f.Fuzz(func(t *testing.T, data []byte, skuCol, qtyCol string) {
		r, err := csvio.NewStockReader(bytes.NewReader(data), csvio.StockOptions{SKUColumn: skuCol, QtyColumn: qtyCol})
		if err != nil {
			return
		}
		last := 2
		for n := 0; ; n++ {
			if n > len(data) {
				t.Fatalf("still returning rows after %d calls on %d bytes", n, len(data))
			}
			rec, err := r.Next()
			if err == io.EOF {
				if h := r.Hash(); h != sha(data) {
					t.Fatalf("Hash = %s, want %s", h, sha(data))
				}
				if _, again := r.Next(); again != io.EOF {
					t.Fatalf("Next after io.EOF = %v", again)
				}
				return
			}
			if err != nil {
				if !errors.Is(err, inventory.ErrInvalid) {
					t.Fatalf("a bytes.Reader cannot fail, yet: %v", err)
				}
				return
			}
			if rec.Row < last {
				t.Fatalf("row %d after row %d", rec.Row, last)
			}
			last = rec.Row
		}
	})
}
